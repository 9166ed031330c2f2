// RegistrarService: everything the REGISTER handler needs, built and owned in one place so that
// sb-signaling's main only passes settings: NATS (admin lookups, events), Redis (bindings, nonce
// counts, bans), the digest server with the replicas' shared nonce secret, a thread pool that runs
// the blocking work and posts the answers back to the SIP loop.
//
//   auto registrar = sb::signaling::RegistrarService::Start(
//       {.nats_url = ..., .redis_url = ..., .nonce_secret = ..., .node_id = "sig-1"},
//       [&](std::function<void()> task) { server->Post(std::move(task)); }, clock, metrics, log);
//   server->Post([&] { endpoint.SetHandler(sb::sip::Method::kRegister, &(*registrar)->handler());
//   });
//   ...
//   server->Post([&] { (*registrar)->DetachFromLoop(); });   // when draining
//   registrar->reset();   // before the SIP server stops: joins the workers
//
// With `loop` (the SIP server), REGISTERs whose admin answers are cached are decided on the loop
// through a Redis connection of its own (registrar.h); without it, by the workers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "registrar/lapse_sweeper.h"
#include "registrar/registrar.h"
#include "runtime/loop_redis.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

struct RegistrarServiceConfig {
  std::string nats_url;
  std::string redis_url;
  // Every key of this service starts with it; replicas of one deployment share it.
  std::string redis_prefix = "signaling:";
  std::string nonce_secret;  // the same on every replica, at least 16 bytes
  std::string node_id;
  RegistrarPolicy policy;
  BanPolicy ban;
  AccountLimitPolicy account_limit;
  // New calls (INVITEs) per account, counted apart from REGISTERs.
  AccountLimitPolicy call_account_limit{.max_requests = 600, .counter = "acctrate-invite"};
  // Challenges offered. baresip 1.0 (libre) fails on a SHA-256 challenge instead of skipping it,
  // so a deployment with such phones offers MD5 only.
  AuthenticatorOptions auth;
  std::chrono::milliseconds admin_timeout{1000};
  // How long admin's lookup answers are kept in the process at most (admin's change events drop
  // them sooner; rpc/admin_change_listener.h). 0: every request asks admin.
  std::chrono::milliseconds admin_cache_ttl{10000};
  // Bindings that lapse on their own are reported "expired" by a sweep on every replica.
  LapseSweepOptions lapse_sweep;
  size_t worker_threads = 8;
  // Redis connections shared by the registrar's and the call service's workers: one command at a
  // time each, so fewer than the workers that use them makes workers queue for a connection.
  size_t redis_connections = 16;
};

class RegistrarService {
 public:
  using PostToLoop = std::function<void(std::function<void()>)>;
  static Result<std::unique_ptr<RegistrarService>> Start(
      const RegistrarServiceConfig& config, PostToLoop post_to_loop, const core::Clock& clock,
      core::MetricsRegistry& metrics, const core::Logger& log, FdWatcher* loop = nullptr);
  ~RegistrarService();

  Registrar& handler();
  // On the loop thread, before the loop stops: closes the loop's Redis connection (what waits on
  // it is answered 503); REGISTERs go to the workers from then on.
  void DetachFromLoop();

  // The connections and pieces the node's call handling shares with the registrar (one NATS
  // connection, one Redis client (with its pool of connections), one digest server and nonce
  // secret per node).
  bus::Bus& bus();
  redis::Client& redis();
  const bus::EventFactory& event_factory();
  const RequestAuthenticator& authenticator();
  AdminLookups& admin();
  RedisBindingStore& bindings();
  // Lapsed and dead bindings' removal, and the registration events (for the keep-alive).
  RedisBindingLapses& lapses();
  RegistrationEvents& events();
  RedisEventOutbox& outbox();  // where REGISTERs, keep-alive removals and calls park events
  // The ban (shared with REGISTER) and the per-account limit on new calls, for the B2BUA.
  const AuthGuard& call_guard();
  // The SIP loop's Redis connection (null when the service was started without a loop).
  LoopRedis* loop_redis();

  struct Parts;

 private:
  explicit RegistrarService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace sb::signaling
