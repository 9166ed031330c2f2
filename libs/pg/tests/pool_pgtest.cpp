// The pool against a real PostgreSQL: bounded, reusing, and replacing connections the server
// killed.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "pqxx_leak_suppression.h"
#include "switchboard/pg/pool.h"
#include "switchboard/pg/transaction.h"
#include "switchboard/testing/servers.h"

namespace {

using std::chrono::milliseconds;

int BackendPid(sb::pg::Pool& pool) {
  auto pid = sb::pg::RunInTransaction(pool, [](pqxx::transaction_base& tx) -> sb::Result<int> {
    return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
  });
  REQUIRE(pid.ok());
  return *pid;
}

void Terminate(const std::string& dsn, int pid) {
  pqxx::connection admin(dsn);
  pqxx::nontransaction nt(admin);
  // With a timeout (PostgreSQL 14+) it returns once the backend has exited, not when signalled.
  REQUIRE(nt.exec_params1("SELECT pg_terminate_backend($1, 10000)", pid)[0].as<bool>());
}

}  // namespace

TEST_CASE("a pool opens connections on demand up to its bound and reuses returned ones",
          "[pg][pool]") {
  sb::pg::Pool pool({.dsn = sb::testing::FreshDatabase("pool"),
                     .max_connections = 2,
                     .acquire_timeout = milliseconds(100)});
  CHECK(pool.open_connections() == 0);
  auto a = pool.Acquire();
  REQUIRE(a.ok());
  auto b = pool.Acquire();
  REQUIRE(b.ok());
  CHECK(pool.open_connections() == 2);
  const int a_pid = a->conn().backendpid();
  CHECK(a_pid != b->conn().backendpid());

  auto c = pool.Acquire();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == sb::StatusCode::kResourceExhausted);
  CHECK_THAT(c.status().message(), Catch::Contains("all 2 PostgreSQL connections"));

  { auto released = std::move(*a); }
  auto again = pool.Acquire();
  REQUIRE(again.ok());
  CHECK(again->conn().backendpid() == a_pid);
  CHECK(pool.open_connections() == 2);
}

TEST_CASE("a pool that cannot reach its server says UNAVAILABLE and why", "[pg][pool]") {
  sb::pg::Pool pool({.dsn = "host=127.0.0.1 port=" + std::to_string(sb::testing::FreePort()) +
                            " user=postgres dbname=postgres connect_timeout=2"});
  auto lease = pool.Acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == sb::StatusCode::kUnavailable);
  CHECK_THAT(lease.status().message(), Catch::Contains("cannot connect to PostgreSQL"));
  CHECK(pool.open_connections() == 0);
}

TEST_CASE("a connection killed by pg_terminate_backend is replaced by a new one", "[pg][pool]") {
  const std::string dsn = sb::testing::FreshDatabase("pool");
  sb::pg::Pool pool({.dsn = dsn, .max_connections = 1});
  const int first = BackendPid(pool);
  CHECK(BackendPid(pool) == first);  // reused while healthy

  Terminate(dsn, first);
  int sleeps = 0;
  auto pid = sb::pg::RunInTransaction(pool,
                                      [](pqxx::transaction_base& tx) -> sb::Result<int> {
                                        return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
                                      },
                                      {.retry = {.sleep = [&](milliseconds) { ++sleeps; }}});
  REQUIRE(pid.ok());
  CHECK(*pid != first);
  CHECK(sleeps == 1);  // the first attempt met the dead connection
  CHECK(pool.open_connections() == 1);
  CHECK(BackendPid(pool) == *pid);
}
