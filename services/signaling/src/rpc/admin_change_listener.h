// AdminChangeListener: keeps the node's AdminLookupCache in step with admin. Admin publishes each
// tenant, extension, trunk and number change to JetStream (SB_EVENTS,
// sb.evt.<tenant|extension|trunk|number>.<change>.<tenant>, events.proto); four durable pull
// consumers of this node (named after it, new events only) drop the cached answers each event
// makes stale, so a suspension, a password change, a disabled extension, a trunk's new source
// address or a number's new route is seen as soon as the event arrives rather than when the
// cache's TTL passes.
//
//   auto listener = sb::signaling::AdminChangeListener::Start(bus, cache, "sig-1", log);
//   if (!listener.ok()) return listener.status();
//
// An event that cannot be parsed is termed (never redelivered) and logged.
#pragma once

#include <memory>
#include <string_view>

#include "rpc/admin_lookup_cache.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

class AdminChangeListener {
 public:
  // `bus`, `cache` and `log` are borrowed and must outlive the listener.
  static Result<std::unique_ptr<AdminChangeListener>> Start(bus::Bus& bus, AdminLookupCache& cache,
                                                            std::string_view node_id,
                                                            const core::Logger& log);
  ~AdminChangeListener();

 private:
  AdminChangeListener() = default;
  std::unique_ptr<bus::Subscription> tenants_;
  std::unique_ptr<bus::Subscription> extensions_;
  std::unique_ptr<bus::Subscription> trunks_;
  std::unique_ptr<bus::Subscription> numbers_;
};

}  // namespace sb::signaling
