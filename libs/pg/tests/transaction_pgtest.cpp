// RunInTransaction against a real PostgreSQL: real serialization failures and lost connections
// are retried, other errors map to Status, a body's own error rolls back.
#include <atomic>
#include <catch2/catch.hpp>
#include <latch>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "pqxx_leak_suppression.h"
#include "switchboard/pg/pool.h"
#include "switchboard/pg/transaction.h"
#include "switchboard/testing/servers.h"

namespace {

using sb::Status;
using sb::StatusCode;
using std::chrono::milliseconds;

struct Db {
  std::string dsn = sb::testing::FreshDatabase("tx");
  sb::pg::Pool pool{{.dsn = dsn, .max_connections = 4}};

  void Exec(const std::string& sql) {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }
  std::vector<int> Ints(const std::string& sql) {
    pqxx::connection c(dsn);
    pqxx::read_transaction tx(c);
    std::vector<int> out;
    for (const auto& row : tx.exec(sql)) out.push_back(row[0].as<int>());
    return out;
  }
};

sb::pg::RetryOptions Recording(std::vector<milliseconds>& sleeps, int max_attempts = 5) {
  return {.max_attempts = max_attempts,
          .first_backoff = milliseconds(10),
          .max_backoff = milliseconds(40),
          .sleep = [&sleeps](milliseconds d) { sleeps.push_back(d); }};
}

}  // namespace

TEST_CASE("a write-skew conflict between two SERIALIZABLE transactions is retried", "[pg][tx]") {
  Db db;
  db.Exec("CREATE TABLE seats (n int NOT NULL)");
  // Each transaction books the next seat number after reading all booked ones. Run side by side,
  // both read an empty table, so PostgreSQL must fail one of them (40001); its retry then sees the
  // other's seat and books the next one.
  std::latch both_read(2);
  std::atomic<int> runs{0};
  std::vector<milliseconds> sleeps_a, sleeps_b;
  auto book = [&](std::vector<milliseconds>& sleeps) {
    return sb::pg::RunInTransaction(
        db.pool,
        [&](pqxx::transaction_base& tx) -> Status {
          const int run = ++runs;
          const int next = tx.exec1("SELECT coalesce(max(n), 0) + 1 FROM seats")[0].as<int>();
          if (run <= 2) both_read.arrive_and_wait();  // first attempts only
          tx.exec_params0("INSERT INTO seats (n) VALUES ($1)", next);
          return Status::Ok();
        },
        {.isolation = sb::pg::Isolation::kSerializable, .retry = Recording(sleeps)});
  };
  Status a, b;
  std::thread other([&] { b = book(sleeps_b); });
  a = book(sleeps_a);
  other.join();

  CHECK(a.ok());
  CHECK(b.ok());
  CHECK(runs == 3);
  CHECK(sleeps_a.size() + sleeps_b.size() == 1);
  CHECK(db.Ints("SELECT n FROM seats ORDER BY n") == std::vector<int>{1, 2});
}

TEST_CASE("a transaction whose connection is lost mid-way runs again on a new one", "[pg][tx]") {
  Db db;
  db.Exec("CREATE TABLE events (id int PRIMARY KEY)");
  int runs = 0;
  std::vector<milliseconds> sleeps;
  Status s = sb::pg::RunInTransaction(db.pool,
                                      [&](pqxx::transaction_base& tx) -> Status {
                                        tx.exec0("INSERT INTO events VALUES (1)");
                                        // The server ends this very session in the middle of the
                                        // transaction.
                                        if (++runs == 1)
                                          tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
                                        return Status::Ok();
                                      },
                                      {.retry = Recording(sleeps)});
  CHECK(s.ok());
  CHECK(runs == 2);
  CHECK(sleeps.size() == 1);
  CHECK(db.Ints("SELECT id FROM events") == std::vector<int>{1});
}

TEST_CASE("retries stop after max_attempts with backoff that grows up to its cap", "[pg][tx]") {
  Db db;
  int runs = 0;
  std::vector<milliseconds> sleeps;
  Status s = sb::pg::RunInTransaction(
      db.pool,
      [&](pqxx::transaction_base& tx) -> Status {
        ++runs;
        tx.exec(
            "DO $$BEGIN RAISE EXCEPTION 'always conflicting' USING ERRCODE = "
            "'serialization_failure'; END$$");
        return Status::Ok();
      },
      {.retry = Recording(sleeps, 4)});
  CHECK(s.code() == StatusCode::kAborted);
  CHECK_THAT(s.message(), Catch::Contains("40001") && Catch::Contains("gave up after 4 attempts"));
  CHECK(runs == 4);
  REQUIRE(sleeps.size() == 3);
  // 10, 20, 40 ms nominal, each jittered down to no less than half.
  CHECK((sleeps[0] >= milliseconds(5) && sleeps[0] <= milliseconds(10)));
  CHECK((sleeps[1] >= milliseconds(10) && sleeps[1] <= milliseconds(20)));
  CHECK((sleeps[2] >= milliseconds(20) && sleeps[2] <= milliseconds(40)));
}

TEST_CASE("errors that a retry cannot fix map to their Status at once", "[pg][tx]") {
  Db db;
  db.Exec("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))");
  db.Exec("INSERT INTO accounts VALUES (1, 10)");
  struct Case {
    std::string sql;
    StatusCode code;
  };
  auto c = GENERATE(Case{"INSERT INTO accounts VALUES (1, 5)", StatusCode::kAlreadyExists},
                    Case{"UPDATE accounts SET balance = -1", StatusCode::kFailedPrecondition},
                    Case{"INSERT INTO accounts VALUES (2, NULL)", StatusCode::kFailedPrecondition},
                    Case{"SELECT 1 / 0", StatusCode::kInvalidArgument},
                    Case{"SELECT * FROM no_such_table", StatusCode::kInternal});
  DYNAMIC_SECTION(c.sql) {
    int runs = 0;
    std::vector<milliseconds> sleeps;
    Status s = sb::pg::RunInTransaction(db.pool,
                                        [&](pqxx::transaction_base& tx) -> Status {
                                          ++runs;
                                          tx.exec(c.sql);
                                          return Status::Ok();
                                        },
                                        {.retry = Recording(sleeps)});
    CHECK(s.code() == c.code);
    CHECK_THAT(s.message(), Catch::Contains("SQLSTATE"));
    CHECK(runs == 1);
    CHECK(sleeps.empty());
  }
}

TEST_CASE("a body that returns an error rolls its transaction back", "[pg][tx]") {
  Db db;
  db.Exec("CREATE TABLE t (x int)");
  Status s = sb::pg::RunInTransaction(db.pool, [](pqxx::transaction_base& tx) -> Status {
    tx.exec0("INSERT INTO t VALUES (1)");
    return Status::FailedPrecondition("insufficient balance");
  });
  CHECK(s == Status::FailedPrecondition("insufficient balance"));
  CHECK(db.Ints("SELECT count(*) FROM t") == std::vector<int>{0});
}

TEST_CASE("a Result body returns its value, or its error without committing", "[pg][tx]") {
  Db db;
  db.Exec("CREATE TABLE t (x int)");
  auto n = sb::pg::RunInTransaction(db.pool, [](pqxx::transaction_base& tx) -> sb::Result<int> {
    tx.exec0("INSERT INTO t VALUES (7)");
    return tx.exec1("SELECT sum(x) FROM t")[0].as<int>();
  });
  REQUIRE(n.ok());
  CHECK(*n == 7);
  auto e = sb::pg::RunInTransaction(db.pool, [](pqxx::transaction_base& tx) -> sb::Result<int> {
    tx.exec0("INSERT INTO t VALUES (8)");
    return Status::NotFound("no such account");
  });
  CHECK(e.status() == Status::NotFound("no such account"));
  CHECK(db.Ints("SELECT sum(x) FROM t") == std::vector<int>{7});
}
