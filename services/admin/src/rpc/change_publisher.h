// How admin's changes leave the service, in three parts that share one invalidation rule:
//
//   ProtoEventEncoder  builds the events.proto event of a change; the repositories write it to
//                      admin.outbox in the mutation's transaction (domain/repositories.h), and
//                      OutboxRelay (rpc/outbox_relay.h) publishes it to JetStream under
//                      sb.evt.<tenant|extension|number|trunk>.<created|updated|deleted>.<tenant>.
//   ChangePublisher    the ChangeSink: after the commit it drops, on this replica, the lookup cache
//                      entries the change makes stale (so a client that changes something and
//                      then looks it up sees the change) and wakes the relay.
//   CacheInvalidator   every replica consumes the events from JetStream and drops the same
//                      entries, so that replicas that did not make the change forget it too.
//
//   ProtoEventEncoder encoder(event_factory);
//   PgExtensionRepository extensions(pool, &encoder);
//   ChangePublisher sink(cache, relay, metrics, log);
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/lookup_cache.h"
#include "domain/provisioning.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"

namespace sb::admin::rpc {

class ProtoEventEncoder final : public EventEncoder {
 public:
  explicit ProtoEventEncoder(const bus::EventFactory& events) : events_(events) {}
  Result<OutboxEvent> Tenant(Change change, const sb::admin::Tenant& tenant) const override;
  Result<OutboxEvent> Extension(Change change, const sb::admin::Extension& ext,
                                std::string_view sip_domain) const override;
  Result<OutboxEvent> Number(Change change, const PhoneNumber& number) const override;
  Result<OutboxEvent> Trunk(Change change, const sb::admin::Trunk& trunk) const override;

 private:
  template <typename Event>
  Result<OutboxEvent> Encode(const TenantId& tenant, std::string_view domain, Change change,
                             Event& event) const;
  const bus::EventFactory& events_;
};

// What a change makes stale in the lookup caches, spelled once for the replica that made it and
// for the replicas that hear of it. Each call returns the first failure (the rest still run).
class CacheInvalidation {
 public:
  explicit CacheInvalidation(LookupCache& cache) : cache_(cache) {}
  Status Tenant(Change change, const TenantId& tenant, std::string_view sip_domain);
  Status Extension(std::string_view sip_domain, std::string_view sip_username,
                   std::string_view number);
  Status Number(std::string_view e164);
  Status Trunk(const TenantId& tenant);

 private:
  LookupCache& cache_;
};

class ChangePublisher final : public ChangeSink {
 public:
  // `wake` is called after each change (the relay's Nudge).
  ChangePublisher(LookupCache& cache, std::function<void()> wake, core::MetricsRegistry& metrics,
                  const core::Logger& log);

  void TenantChanged(Change change, const Tenant& tenant) override;
  void ExtensionChanged(Change change, const Extension& ext, const std::string& domain) override;
  void NumberChanged(Change change, const PhoneNumber& number) override;
  void TrunkChanged(Change change, const Trunk& trunk) override;

 private:
  void Done(const Status& invalidated);
  CacheInvalidation invalidation_;
  std::function<void()> wake_;
  const core::Logger& log_;
  core::CounterMetric& cache_failures_;
};

// Consumes admin's events from JetStream and applies CacheInvalidation, with one durable consumer
// per admin domain (tenant, extension, number, trunk) and replica, named after `replica` and
// delivering only new events. nats-server 2.9 allows one filter subject per consumer, and one
// consumer of all of sb.evt.> would also be handed every call and registration event. An event
// whose invalidation fails (Redis away) is redelivered after a second; one that cannot be parsed
// is termed and logged.
class CacheInvalidator {
 public:
  static Result<std::unique_ptr<CacheInvalidator>> Start(bus::Bus& bus, LookupCache& cache,
                                                         std::string_view replica,
                                                         core::MetricsRegistry& metrics,
                                                         const core::Logger& log);
  ~CacheInvalidator();

  // Events applied so far; waits (bounded) until at least `count` were.
  uint64_t applied() const;
  bool WaitApplied(uint64_t count, std::chrono::steady_clock::duration timeout);

 private:
  CacheInvalidator(LookupCache& cache, core::MetricsRegistry& metrics, const core::Logger& log);
  // Consumes sb.evt.<domain>.> as Event messages; `apply(event, change)` returns a Status.
  template <typename Event, typename Apply>
  Status ConsumeDomain(bus::Bus& bus, std::string_view domain, std::string_view replica,
                       Apply apply);
  void Applied();
  CacheInvalidation invalidation_;
  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  uint64_t applied_count_ = 0;
  const core::Logger& log_;
  core::CounterMetric& applied_;
  std::vector<std::unique_ptr<bus::Subscription>> subscriptions_;
};

}  // namespace sb::admin::rpc
