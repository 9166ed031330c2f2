#include "switchboard/pg/migrations.h"

#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <optional>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <sstream>

#include "switchboard/core/hex.h"
#include "switchboard/pg/transaction.h"

namespace sb::pg {
namespace {

namespace fs = std::filesystem;

struct MigrationFile {
  int version = 0;
  std::string name;  // file name, "0001_init.sql"
  std::string sql;
  std::string checksum;
};

bool IsLowerIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// "NNNN_lower_case_name.sql" -> NNNN; nullopt for any other name.
std::optional<int> VersionOf(std::string_view name) {
  constexpr std::string_view kExt = ".sql";
  if (name.size() < 4 + 1 + 1 + kExt.size() || !name.ends_with(kExt) || name[4] != '_') {
    return std::nullopt;
  }
  int version = 0;
  for (char c : name.substr(0, 4)) {
    if (c < '0' || c > '9') return std::nullopt;
    version = version * 10 + (c - '0');
  }
  for (char c : name.substr(5, name.size() - 5 - kExt.size())) {
    if (!IsLowerIdentChar(c)) return std::nullopt;
  }
  return version;
}

bool IsSchemaName(std::string_view s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!IsLowerIdentChar(c)) return false;
  }
  return true;
}

Result<std::map<int, MigrationFile>> ReadFolder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::FailedPrecondition("migrations folder " + dir.string() + " does not exist");
  }
  std::map<int, MigrationFile> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    const std::optional<int> version = VersionOf(name);
    if (!version) {
      return Status::InvalidArgument("migration file " + (dir / name).string() +
                                     " is not named NNNN_lower_case_name.sql");
    }
    MigrationFile f;
    f.version = *version;
    f.name = name;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Status::Internal("cannot read migration file " + entry.path().string());
    f.sql = text.str();
    f.checksum = Sha256Hex(f.sql);
    if (auto [it, inserted] = files.emplace(f.version, f); !inserted) {
      return Status::InvalidArgument("migration files " + it->second.name + " and " + name +
                                     " in " + dir.string() + " have the same number");
    }
  }
  if (ec) return Status::Internal("cannot list " + dir.string() + ": " + ec.message());
  return files;
}

struct Applied {
  std::string name;
  std::string checksum;
};

Status Check(const std::map<int, MigrationFile>& files, const std::map<int, Applied>& applied,
             const MigrationOptions& o) {
  for (const auto& [version, row] : applied) {
    auto it = files.find(version);
    if (it == files.end()) {
      return Status::FailedPrecondition("migration " + row.name + " is applied to schema " +
                                        o.schema + " but its file is missing from " +
                                        o.dir.string());
    }
    if (it->second.name != row.name || it->second.checksum != row.checksum) {
      return Status::FailedPrecondition("migration file " + (o.dir / it->second.name).string() +
                                        " changed after " + row.name + " was applied to schema " +
                                        o.schema + " (recorded sha256 " + row.checksum +
                                        ", file now " + it->second.checksum +
                                        "); add a new migration instead of editing an applied one");
    }
  }
  if (!applied.empty()) {
    const auto& [newest, newest_row] = *applied.rbegin();
    for (const auto& [version, file] : files) {
      if (version < newest && !applied.contains(version)) {
        return Status::FailedPrecondition(
            "migration file " + (o.dir / file.name).string() + " is numbered below " +
            newest_row.name + ", which schema " + o.schema +
            " already has; renumber it after the newest applied migration");
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ApplyLocked(pqxx::connection& conn,
                                             const std::map<int, MigrationFile>& files,
                                             const MigrationOptions& o) {
  const std::string table = o.schema + ".schema_migrations";
  {
    pqxx::work tx(conn);
    tx.exec0("CREATE SCHEMA IF NOT EXISTS " + o.schema);
    tx.exec0("CREATE TABLE IF NOT EXISTS " + table +
             " (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  std::map<int, Applied> applied;
  {
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("SELECT version, name, checksum FROM " + table)) {
      applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
  }
  SB_RETURN_IF_ERROR(Check(files, applied, o));

  std::vector<std::string> done;
  for (const auto& [version, file] : files) {
    if (applied.contains(version)) continue;
    try {
      pqxx::work tx(conn);
      tx.exec0("SET LOCAL search_path TO " + o.schema + ", public");
      tx.exec(file.sql);
      tx.exec_params0("INSERT INTO " + table + " (version, name, checksum) VALUES ($1, $2, $3)",
                      version, file.name, file.checksum);
      tx.commit();
    } catch (const pqxx::broken_connection&) {
      throw;  // the caller reports the lost connection
    } catch (const std::exception& e) {
      Status s = StatusFromException(e);
      return Status::Internal("migration " + (o.dir / file.name).string() + " failed (" +
                              s.message() + "); " + std::to_string(done.size()) +
                              " earlier migration(s) of this run stay applied");
    }
    done.push_back(file.name);
  }
  return done;
}

}  // namespace

// From a hash rather than hashtext(): every replica, whatever its language or build, derives the
// same key from the schema name.
long long MigrationLockKey(const std::string& schema) {
  std::string hex = Sha256Hex("switchboard.migrations." + schema).substr(0, 16);
  return static_cast<long long>(std::stoull(hex, nullptr, 16));
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return core::ToHex({digest, len});
}

Result<std::vector<std::string>> ApplyMigrations(Pool& pool, const MigrationOptions& o) {
  if (!IsSchemaName(o.schema)) {
    return Status::InvalidArgument("schema must match [a-z_][a-z0-9_]* (at most 63 characters)",
                                   "schema");
  }
  auto files = ReadFolder(o.dir);
  if (!files.ok()) return files.status();

  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  pqxx::connection& conn = lease->conn();
  const long long key = MigrationLockKey(o.schema);
  try {
    {
      pqxx::nontransaction nt(conn);
      nt.exec0("SET lock_timeout = " + std::to_string(o.lock_timeout.count()));
      try {
        nt.exec_params("SELECT pg_advisory_lock($1)", key);
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "55P03") throw;
        return Status::DeadlineExceeded("another process held the migration lock of schema " +
                                        o.schema + " for " +
                                        std::to_string(o.lock_timeout.count()) + " ms");
      }
      nt.exec0("RESET lock_timeout");
    }
    auto result = ApplyLocked(conn, *files, o);
    pqxx::nontransaction nt(conn);
    nt.exec_params("SELECT pg_advisory_unlock($1)", key);
    return result;
  } catch (const std::exception& e) {
    // The session, and with it the advisory lock, is gone or unusable.
    lease->MarkBroken();
    Status s = StatusFromException(e);
    return Status(s.code(), "migrating schema " + o.schema + ": " + s.message());
  }
}

}  // namespace sb::pg
