// The ChangeSink of the service: after each committed mutation it drops the lookup cache entries
// the change makes stale, then publishes the event (events.proto) to JetStream under
// sb.evt.<tenant|extension|number|trunk>.<created|updated|deleted>.<tenant_id>, with the event id
// as the de-duplication id.
//
// The cache is invalidated before the RPC answers, so a client that changes something and then
// looks it up sees the change. A failed publish is logged and counted
// (sb_admin_event_publish_failures_total); the change itself stays committed.
//
//   ChangePublisher sink(bus, cache, events, metrics, log);
#pragma once

#include <chrono>

#include "cache/lookup_cache.h"
#include "domain/provisioning.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"

namespace sb::admin::rpc {

class ChangePublisher final : public ChangeSink {
 public:
  ChangePublisher(bus::Bus& bus, LookupCache& cache, const bus::EventFactory& events,
                  core::MetricsRegistry& metrics, const core::Logger& log,
                  std::chrono::milliseconds publish_timeout = std::chrono::seconds(5));

  void TenantChanged(Change change, const Tenant& tenant) override;
  void ExtensionChanged(Change change, const Extension& ext, const std::string& domain) override;
  void NumberChanged(Change change, const PhoneNumber& number) override;
  void TrunkChanged(Change change, const Trunk& trunk) override;

 private:
  void Invalidated(const Status& s);
  template <typename Event>
  void Publish(const TenantId& tenant, std::string_view domain, Change change, Event& event);

  bus::Bus& bus_;
  LookupCache& cache_;
  const bus::EventFactory& events_;
  const core::Logger& log_;
  core::CounterMetric& publish_failures_;
  core::CounterMetric& cache_failures_;
  const std::chrono::milliseconds publish_timeout_;
};

}  // namespace sb::admin::rpc
