// Schema migrations: each service owns one PostgreSQL schema and a folder of numbered SQL files
//
//   services/billing/migrations/0001_init.sql
//   services/billing/migrations/0002_ledger_index.sql
//
// applied in order, each in its own transaction with search_path set to the schema, and recorded
// in <schema>.schema_migrations (version, name, SHA-256 of the file, time). Replicas starting
// together serialise on a pg_advisory_lock keyed on the schema, so each file is applied once.
//
//   auto applied = sb::pg::ApplyMigrations(pool, {.schema = "billing",
//                                                 .dir = "/opt/switchboard/migrations/billing"});
//   if (!applied.ok()) { log the one line applied.status().ToString(); exit(1); }
//
// Refused with FAILED_PRECONDITION, naming the file, before anything is applied:
//   - an applied migration whose file changed (checksum or name) or is missing: edit history by
//     adding a migration, never by changing an applied one;
//   - a new file numbered below the newest applied one (it would run after its successors).
// Files: NNNN_name.sql (four digits, lower-case name); other *.sql names are INVALID_ARGUMENT,
// non-.sql files are ignored. A file must not contain BEGIN/COMMIT: the runner owns the
// transaction. A failing file stops the run (INTERNAL naming the file and the SQLSTATE); the ones
// before it stay applied.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/pg/pool.h"

namespace sb::pg {

struct MigrationOptions {
  std::string schema;         // [a-z_][a-z0-9_]*, created if missing
  std::filesystem::path dir;  // the folder of NNNN_name.sql files
  // How long to wait for another replica that holds the lock before DEADLINE_EXCEEDED.
  std::chrono::milliseconds lock_timeout{60000};
};

// Applies what is not applied yet; returns the file names it applied (empty if none).
Result<std::vector<std::string>> ApplyMigrations(Pool& pool, const MigrationOptions& options);

// The pg_advisory_lock key the runner holds for a schema: the first 8 bytes of
// SHA-256("switchboard.migrations." + schema), so that an operator (or a test) can take it too.
long long MigrationLockKey(const std::string& schema);

// Lower-case hex SHA-256 of the bytes, as recorded in schema_migrations.checksum.
std::string Sha256Hex(std::string_view bytes);

}  // namespace sb::pg
