#include "store/pg_database.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace sb::admin {
namespace {

// Fixed key for pg_advisory_xact_lock; any constant unique to admin's migrations will do.
constexpr int64_t kMigrationLock = 0x5b0ad0101;

// Constraint name -> what a person reads in ALREADY_EXISTS.
const std::map<std::string, std::string>& ConstraintMessages() {
  static const std::map<std::string, std::string> kMessages = {
      {"tenants_slug_key", "a tenant with this slug already exists"},
      {"tenants_sip_domain_key", "a tenant with this SIP domain already exists"},
      {"extensions_number_key", "an extension with this number already exists in the tenant"},
      {"extensions_sip_username_key",
       "an extension with this SIP username already exists in the tenant"},
      {"numbers_e164_key", "this number is already assigned"},
      {"trunks_name_key", "a trunk with this name already exists in the tenant"},
      {"trunk_sources_no_overlap", "an inbound source overlaps another trunk's inbound sources"},
      {"trunk_sources_pkey", "an inbound source is listed twice"},
  };
  return kMessages;
}

std::string ConstraintOf(const std::string& what) {
  // libpq's message: ... violates unique constraint "name" ... (the constraint name is the first
  // double-quoted word after "constraint").
  auto pos = what.find("constraint \"");
  if (pos == std::string::npos) return {};
  pos += 12;
  auto end = what.find('"', pos);
  return end == std::string::npos ? std::string() : what.substr(pos, end - pos);
}

}  // namespace

Status MapPgError(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Status::Unavailable("database unavailable: " + std::string(e.what()));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    if (state == "23505" || state == "23P01") {
      const auto& messages = ConstraintMessages();
      auto it = messages.find(ConstraintOf(sql->what()));
      return Status::AlreadyExists(it != messages.end() ? it->second : "already exists");
    }
    if (state == "40001" || state == "40P01") return Status::Aborted("concurrent update, retry");
    if (state.rfind("08", 0) == 0 || state == "57P01") {
      return Status::Unavailable("database unavailable: " + std::string(e.what()));
    }
  }
  return Status::Internal(std::string("database error: ") + e.what());
}

int64_t ToMicros(WallTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

WallTime FromMicros(int64_t micros) {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(micros)));
}

PgDatabase::PgDatabase(std::string dsn, size_t max_connections)
    : dsn_(std::move(dsn)), max_connections_(std::max<size_t>(1, max_connections)) {}

PgDatabase::~PgDatabase() = default;

Result<std::unique_ptr<pqxx::connection>> PgDatabase::Acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
  }
  try {
    return std::make_unique<pqxx::connection>(dsn_);
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    return Status::Unavailable("cannot connect to the database: " + std::string(e.what()));
  }
}

void PgDatabase::Release(std::unique_ptr<pqxx::connection> c) {
  std::lock_guard lock(mu_);
  if (c && c->is_open()) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  cv_.notify_one();
}

Status PgDatabase::Run(const std::function<Status(pqxx::work&)>& fn) {
  // One retry covers the common case of an idle connection the server closed (restart, timeout).
  constexpr int kAttempts = 2;
  Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto conn = Acquire();
    if (!conn.ok()) return conn.status();
    std::unique_ptr<pqxx::connection> c = std::move(*conn);
    try {
      pqxx::work w(*c);
      Status s = fn(w);
      if (s.ok()) w.commit();
      Release(std::move(c));
      return s;
    } catch (const pqxx::broken_connection& e) {
      last = MapPgError(e);
      c.reset();
      Release(nullptr);
    } catch (const std::exception& e) {
      Status s = MapPgError(e);
      if (c && !c->is_open()) c.reset();
      Release(std::move(c));
      return s;
    }
  }
  return last;
}

Status PgDatabase::Migrate(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  if (ec)
    return Status::FailedPrecondition("cannot read migrations in " + dir + ": " + ec.message());
  if (files.empty()) return Status::FailedPrecondition("no migrations in " + dir);
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    int version = 0;
    try {
      version = std::stoi(name.substr(0, name.find('_')));
    } catch (const std::exception&) {
      return Status::FailedPrecondition("migration " + name + " does not start with a number");
    }
    std::ifstream in(file);
    std::stringstream sql;
    sql << in.rdbuf();
    Status s = TransactStatus([&](pqxx::work& w) {
      w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      w.exec(
          "CREATE TABLE IF NOT EXISTS public.admin_schema_migrations ("
          " version integer PRIMARY KEY, name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
      auto done =
          w.exec_params("SELECT 1 FROM public.admin_schema_migrations WHERE version = $1", version);
      if (!done.empty()) return Status::Ok();
      w.exec(sql.str());
      w.exec_params("INSERT INTO public.admin_schema_migrations (version, name) VALUES ($1, $2)",
                    version, name);
      return Status::Ok();
    });
    if (!s.ok()) return Status(s.code(), "migration " + name + ": " + s.message());
  }
  return Status::Ok();
}

}  // namespace sb::admin
