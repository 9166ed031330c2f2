// A bounded, thread-safe pool of libpqxx 6.4 connections to one PostgreSQL database.
// Connections are opened on demand up to max_connections; a broken one (server restart,
// pg_terminate_backend, network) is discarded when its lease comes back marked broken or closed,
// and the next Acquire opens a fresh one.
//
//   sb::pg::Pool pool({.dsn = settings.pg_dsn, .max_connections = 8});
//   auto lease = pool.Acquire();            // waits up to acquire_timeout for a free connection
//   if (!lease.ok()) return lease.status();  // UNAVAILABLE (cannot connect), RESOURCE_EXHAUSTED
//   pqxx::work tx(lease->conn());
//
// Most code does not take leases itself: RunInTransaction (transaction.h) acquires, retries and
// returns the connection.
//
// Threading: Pool is safe to use from any thread. A Lease belongs to one thread at a time and
// must be destroyed before the Pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>

#include "switchboard/core/status.h"

namespace sb::pg {

struct PoolOptions {
  std::string dsn;  // libpq conninfo: "host=127.0.0.1 port=5432 user=... dbname=..."
  int max_connections = 8;
  // How long Acquire waits for a connection another thread holds before RESOURCE_EXHAUSTED.
  std::chrono::milliseconds acquire_timeout{5000};
};

class Pool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();  // returns the connection, or discards it if broken

    pqxx::connection& conn() { return *conn_; }
    // The connection failed in a way that leaves it unusable: close it instead of reusing it.
    void MarkBroken() { broken_ = true; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn);
    void Release();

    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool broken_ = false;
  };

  explicit Pool(PoolOptions options);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  // A connection for this thread: an idle one, a new one while under the bound, or one released
  // by another thread within acquire_timeout. UNAVAILABLE when a new connection cannot be opened
  // (the message carries libpq's reason), RESOURCE_EXHAUSTED when the bound holds for the timeout.
  Result<Lease> Acquire();

  // Connections open right now (idle + leased), and idle ones: for metrics and tests.
  int open_connections() const;
  int idle_connections() const;

 private:
  void Return(std::unique_ptr<pqxx::connection> conn, bool broken);

  const PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  std::deque<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // idle + leased + being opened: what the bound applies to
};

}  // namespace sb::pg
