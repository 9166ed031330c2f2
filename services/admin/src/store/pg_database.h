// Postgres access for admin's repositories: a small bounded connection pool, transactions that
// turn libpqxx exceptions into sb::Status (so nothing above store/ sees an exception), and the
// migration runner for services/admin/migrations.
//
//   PgDatabase db(dsn, 4);
//   SB_RETURN_IF_ERROR(db.Migrate(migrations_dir));
//   Result<int> n = db.Transact<int>([&](pqxx::work& w) -> Result<int> {
//     return w.exec1("SELECT 1")[0].as<int>();
//   });
//
// Connections are opened lazily and replaced after a broken connection, so the service starts
// and recovers while Postgres is (re)starting. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "domain/model.h"
#include "switchboard/core/status.h"

namespace sb::admin {

class PgDatabase {
 public:
  PgDatabase(std::string dsn, size_t max_connections);
  ~PgDatabase();

  // Applies the numbered *.sql files of `dir` not yet applied, each in its own transaction,
  // under an advisory lock so that replicas starting together apply each file once.
  Status Migrate(const std::string& dir);

  // Runs fn in a transaction and commits if it returns ok; rolls back otherwise. Database errors
  // become a Status (see MapPgError); a broken connection is retried once on a new connection.
  template <typename T>
  Result<T> Transact(const std::function<Result<T>(pqxx::work&)>& fn) {
    std::optional<Result<T>> out;
    Status s = Run([&](pqxx::work& w) {
      out.emplace(fn(w));
      return out->ok() ? Status::Ok() : out->status();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }
  Status TransactStatus(const std::function<Status(pqxx::work&)>& fn) { return Run(fn); }

 private:
  Status Run(const std::function<Status(pqxx::work&)>& fn);
  Result<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> c);

  const std::string dsn_;
  const size_t max_connections_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  size_t open_ = 0;
};

// Unique and exclusion violations -> ALREADY_EXISTS (naming `what` from the constraint), broken
// connections -> UNAVAILABLE, anything else -> INTERNAL.
Status MapPgError(const std::exception& e);

// Time as microseconds since the Unix epoch, the form SQL gets and returns it in.
int64_t ToMicros(WallTime t);
WallTime FromMicros(int64_t micros);

}  // namespace sb::admin
