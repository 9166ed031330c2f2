// Serves the lookups of lookup.proto over NATS request/reply (sb.cmd.admin.lookup_domain,
// lookup_credentials, lookup_number, lookup_trunk_by_source) from the Redis LookupCache, filling
// it from the database on a miss. Errors travel inside the reply (its `error` field), never as
// silence: NOT_FOUND answers are cached like any other, INVALID_ARGUMENT and UNAVAILABLE are not.
//
// `box` seals the cached replies that carry a secret in Redis (cache/lookup_cache.h); it must
// outlive the server. Each subject has one subscription in queue group "admin" (replicas share
// the work). A lookup the in-process LocalLookupCache answers needs no network round trip and is
// answered right on the subscription's delivery thread; the others (Redis, then the database)
// wait in a queue for one of `workers` threads, each with a Redis connection of its own, so that
// a slow miss never holds up the hits behind it. When `max_waiting` already wait, a lookup that
// needs a worker is answered UNAVAILABLE at once.
//
//   auto server = LookupServer::Start(bus, lookups, redis_options, box, {.workers = 4}, metrics,
//                                     log);
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "cache/lookup_cache.h"
#include "domain/lookups.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/redis/client.h"

namespace sb::admin::rpc {

struct LookupServerOptions {
  int workers = 4;  // threads for the lookups that need Redis or the database
  size_t max_waiting = 10000;
  std::chrono::milliseconds cache_ttl{60000};
  LocalLookupCache* local = nullptr;  // the replica's in-process cache, asked before Redis
};

class LookupServer {
 public:
  static Result<std::unique_ptr<LookupServer>> Start(
      bus::Bus& bus, Lookups& lookups, const redis::ClientOptions& redis, const SecretBox& box,
      const LookupServerOptions& options, core::MetricsRegistry& metrics, const core::Logger& log);
  ~LookupServer();

  struct Worker;
  struct Queue;

 private:
  LookupServer() = default;
  std::unique_ptr<Worker> front_;  // the delivery threads' answers from memory
  std::unique_ptr<Queue> queue_;   // the rest, and the worker threads taking it
  std::vector<std::unique_ptr<bus::Subscription>> subscriptions_;
};

// The subjects, spelled once.
Result<std::string> LookupSubject(std::string_view operation);

}  // namespace sb::admin::rpc
