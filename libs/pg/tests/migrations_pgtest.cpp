// The migration runner against a real PostgreSQL database per test.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <latch>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "switchboard/pg/migrations.h"
#include "switchboard/pg/pool.h"
#include "switchboard/testing/servers.h"

namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;
using sb::StatusCode;

// A database, a schema name and a migrations folder of its own, removed afterwards.
struct Fixture {
  std::string dsn = sb::testing::FreshDatabase("mig");
  std::string schema = sb::testing::UniqueName("svc");
  fs::path dir = fs::temp_directory_path() / sb::testing::UniqueName("migrations");
  sb::pg::Pool pool{{.dsn = dsn, .max_connections = 2}};

  Fixture() { fs::create_directories(dir); }
  ~Fixture() { fs::remove_all(dir); }

  void Write(const std::string& name, const std::string& sql) { std::ofstream(dir / name) << sql; }
  sb::pg::MigrationOptions Options() const { return {.schema = schema, .dir = dir}; }
  sb::Result<Names> Apply() { return sb::pg::ApplyMigrations(pool, Options()); }

  std::vector<std::string> Column(const std::string& sql) {
    pqxx::connection c(dsn);
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& row : tx.exec(sql)) out.push_back(row[0].c_str());
    return out;
  }
};

// Files that fail if run twice (no IF NOT EXISTS) and leave a trace of each run.
void WriteInitial(Fixture& f) {
  f.Write("0001_init.sql",
          "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);\n"
          "CREATE TABLE runs (migration text NOT NULL);\n"
          "INSERT INTO runs VALUES ('0001');\n");
  f.Write("0002_index.sql",
          "CREATE INDEX accounts_balance ON accounts (balance);\n"
          "INSERT INTO runs VALUES ('0002');\n");
}

}  // namespace

TEST_CASE("migrations applied twice leave the schema as applying them once", "[pg][migrations]") {
  Fixture f;
  WriteInitial(f);
  f.Write("README.md", "not a migration: ignored");

  auto first = f.Apply();
  REQUIRE(first.ok());
  CHECK(*first == Names{"0001_init.sql", "0002_index.sql"});
  auto second = f.Apply();
  REQUIRE(second.ok());
  CHECK(second->empty());

  CHECK(f.Column("SELECT migration FROM " + f.schema + ".runs ORDER BY 1") ==
        Names{"0001", "0002"});
  std::ifstream init(f.dir / "0001_init.sql");
  std::string init_sql((std::istreambuf_iterator<char>(init)), {});
  CHECK(f.Column("SELECT version || ' ' || name || ' ' || checksum FROM " + f.schema +
                 ".schema_migrations ORDER BY version") ==
        Names{"1 0001_init.sql " + sb::pg::Sha256Hex(init_sql),
              "2 0002_index.sql " +
                  sb::pg::Sha256Hex("CREATE INDEX accounts_balance ON accounts (balance);\n"
                                    "INSERT INTO runs VALUES ('0002');\n")});
  // The tables went into the service's schema, not public.
  CHECK(f.Column("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == Names{"0"});

  SECTION("a file added later is applied alone") {
    f.Write("0003_more.sql", "ALTER TABLE accounts ADD COLUMN currency text;");
    auto third = f.Apply();
    REQUIRE(third.ok());
    CHECK(*third == Names{"0003_more.sql"});
  }
}

TEST_CASE("runners started together apply each migration exactly once", "[pg][migrations]") {
  Fixture f;
  WriteInitial(f);
  for (int i = 3; i <= 6; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d_step.sql", i);
    f.Write(name, "INSERT INTO runs VALUES ('" + std::string(name, 4) + "');");
  }
  constexpr int kRunners = 4;
  std::latch start(kRunners);
  std::vector<sb::Result<Names>> results(kRunners, sb::Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kRunners; ++i) {
    threads.emplace_back([&, i] {
      sb::pg::Pool own({.dsn = f.dsn, .max_connections = 1});  // a replica of its own
      start.arrive_and_wait();
      results[i] = sb::pg::ApplyMigrations(own, f.Options());
    });
  }
  for (auto& t : threads) t.join();

  Names all;
  for (const auto& r : results) {
    REQUIRE(r.ok());
    all.insert(all.end(), r->begin(), r->end());
  }
  std::sort(all.begin(), all.end());
  CHECK(all == Names{"0001_init.sql", "0002_index.sql", "0003_step.sql", "0004_step.sql",
                     "0005_step.sql", "0006_step.sql"});
  CHECK(f.Column("SELECT migration FROM " + f.schema + ".runs ORDER BY 1") ==
        Names{"0001", "0002", "0003", "0004", "0005", "0006"});
}

TEST_CASE("an applied migration that changed stops the runner naming the file",
          "[pg][migrations]") {
  Fixture f;
  WriteInitial(f);
  REQUIRE(f.Apply().ok());
  f.Write("0001_init.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY);");
  f.Write("0003_more.sql", "CREATE TABLE more (x int);");

  auto r = f.Apply();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(r.status().message(),
             Catch::Contains((f.dir / "0001_init.sql").string() + " changed after") &&
                 Catch::Contains("add a new migration"));
  // Nothing else ran.
  CHECK(f.Column("SELECT count(*) FROM " + f.schema + ".schema_migrations") == Names{"2"});
}

TEST_CASE("an applied migration whose file is gone stops the runner", "[pg][migrations]") {
  Fixture f;
  WriteInitial(f);
  REQUIRE(f.Apply().ok());
  fs::remove(f.dir / "0002_index.sql");
  auto r = f.Apply();
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(r.status().message(),
             Catch::Contains("0002_index.sql is applied") && Catch::Contains("file is missing"));
}

TEST_CASE("a new migration numbered below an applied one is refused", "[pg][migrations]") {
  Fixture f;
  f.Write("0001_init.sql", "CREATE TABLE a (x int);");
  f.Write("0003_c.sql", "CREATE TABLE c (x int);");
  REQUIRE(f.Apply().ok());
  f.Write("0002_b.sql", "CREATE TABLE b (x int);");
  auto r = f.Apply();
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(r.status().message(), Catch::Contains("0002_b.sql is numbered below 0003_c.sql"));
}

TEST_CASE("a failing migration is not recorded and those before it stay", "[pg][migrations]") {
  Fixture f;
  f.Write("0001_init.sql", "CREATE TABLE a (x int);");
  f.Write("0002_broken.sql", "CREATE TABLE b (x int);\nCREATE TABLE oops (;");
  auto r = f.Apply();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInternal);
  CHECK_THAT(r.status().message(),
             Catch::Contains("0002_broken.sql failed") && Catch::Contains("SQLSTATE 42601"));
  CHECK(f.Column("SELECT name FROM " + f.schema + ".schema_migrations") == Names{"0001_init.sql"});
  // The whole file rolled back, its first statement too.
  CHECK(f.Column("SELECT count(*) FROM pg_tables WHERE tablename = 'b'") == Names{"0"});

  f.Write("0002_broken.sql", "CREATE TABLE b (x int);");
  auto fixed = f.Apply();
  REQUIRE(fixed.ok());
  CHECK(*fixed == Names{"0002_broken.sql"});
}

TEST_CASE("bad folders, file names and schema names are refused before connecting",
          "[pg][migrations]") {
  Fixture f;
  f.Write("0001_Init.sql", "SELECT 1;");
  CHECK(f.Apply().status().code() == StatusCode::kInvalidArgument);
  fs::remove(f.dir / "0001_Init.sql");
  f.Write("0001_a.sql", "SELECT 1;");
  f.Write("0001_b.sql", "SELECT 1;");
  CHECK_THAT(f.Apply().status().message(), Catch::Contains("have the same number"));

  auto missing = sb::pg::ApplyMigrations(f.pool, {.schema = "x", .dir = f.dir / "nope"});
  CHECK(missing.status().code() == StatusCode::kFailedPrecondition);
  auto bad_schema = sb::pg::ApplyMigrations(f.pool, {.schema = "x; DROP", .dir = f.dir});
  CHECK(bad_schema.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_schema.status().field() == "schema");
}

TEST_CASE("a runner waits for the migration lock only up to its timeout", "[pg][migrations]") {
  Fixture f;
  WriteInitial(f);
  pqxx::connection holder(f.dsn);
  pqxx::nontransaction nt(holder);
  nt.exec_params("SELECT pg_advisory_lock($1)", sb::pg::MigrationLockKey(f.schema));

  auto opts = f.Options();
  opts.lock_timeout = std::chrono::milliseconds(200);
  auto r = sb::pg::ApplyMigrations(f.pool, opts);
  CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(r.status().message(), Catch::Contains("migration lock of schema " + f.schema));

  nt.exec_params("SELECT pg_advisory_unlock($1)", sb::pg::MigrationLockKey(f.schema));
  auto after = sb::pg::ApplyMigrations(f.pool, opts);
  REQUIRE(after.ok());
  CHECK(after->size() == 2);
}
