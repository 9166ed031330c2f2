// The whole admin service as one object: database (migrated), repositories, provisioning, the
// Redis cache and rate limiter, the event publisher, the NATS lookup server and the gRPC server
// (with the standard health service and server reflection). main.cpp builds one from settings;
// integration tests build one on the harness's servers and talk to it through real gRPC.
//
//   auto server = AdminServer::Start(config, bus, metrics, log);
//   if (!server.ok()) Die(server.status());
//   Connect("127.0.0.1:" + std::to_string((*server)->grpc_port()));
//
// Stop() (or the destructor) stops taking RPCs, waits for those in flight, then stops lookups.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "switchboard/bus/bus.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"

namespace sb::admin::rpc {

struct AdminServerConfig {
  std::string pg_dsn{};
  std::string redis_url{};
  std::string grpc_address = "127.0.0.1:0";
  std::string platform_domain{};
  std::string bootstrap_key{};  // empty: none
  std::string migrations_dir{};
  // 64 hex digits: the AES-256-GCM key sealing trunk passwords at rest (domain/secret_box.h).
  // Required; Start answers INVALID_ARGUMENT naming SB_ADMIN_SECRET_KEY without a valid one.
  std::string secret_key{};
  // Event source, e.g. "admin/<hostname>"; also names this replica's cache-invalidation consumer,
  // so it must differ between replicas.
  std::string source = "admin";
  int pg_connections = 8;
  int lookup_workers = 4;
  // Lookups the in-process cache cannot answer that may wait for a worker; more are refused
  // UNAVAILABLE at once.
  int64_t lookup_max_waiting = 10000;
  int64_t rate_limit_per_second = 100;
  int64_t cache_ttl_ms = 60000;
  int64_t outbox_poll_ms = 500;
  // The in-process lookup cache in front of Redis; 0 entries turns it off.
  int64_t local_cache_entries = 100000;
  int64_t local_cache_ttl_ms = 10000;
};

class AdminServer {
 public:
  static Result<std::unique_ptr<AdminServer>> Start(const AdminServerConfig& config, bus::Bus& bus,
                                                    const core::Clock& clock,
                                                    core::MetricsRegistry& metrics,
                                                    const core::Logger& log);
  ~AdminServer();

  int grpc_port() const;
  // Ready: the database answers.
  Status Ready();
  void Stop();
  // The transactional outbox: waits (bounded) until the relay found it empty; rows waiting.
  bool WaitOutboxEmpty(std::chrono::steady_clock::duration timeout);
  Result<int64_t> OutboxPending();
  // Admin events this replica has applied to its lookup caches; waits (bounded) for `count`.
  uint64_t CacheEventsApplied() const;
  bool WaitCacheEventsApplied(uint64_t count, std::chrono::steady_clock::duration timeout);

  struct Parts;

 private:
  explicit AdminServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace sb::admin::rpc
