#include "rpc/admin_change_listener.h"

#include <string>

#include "switchboard/admin/v1/events.pb.h"
#include "switchboard/bus/streams.h"

namespace sb::signaling {
namespace {

namespace pb = ::switchboard::admin::v1;

std::string DurableName(std::string_view kind, std::string_view node_id) {
  std::string out = "signaling_lookups_" + std::string(kind) + "_";
  for (char c : node_id) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
    out.push_back(plain ? c : '_');
  }
  return out;
}

// Applies `forget` to the parsed event, acks it; an unreadable event is termed and logged.
template <typename Event, typename Forget>
bus::JsHandler Handler(const core::Logger& log, Forget forget) {
  return [&log, forget](bus::JsMessage& m) {
    Event event;
    if (!event.ParseFromString(m.message().data)) {
      log.Warn("unreadable admin event ignored", {{"subject", m.message().subject}});
      (void)m.Term();
      return;
    }
    forget(event);
    (void)m.AckNoWait();
  };
}

}  // namespace

AdminChangeListener::~AdminChangeListener() = default;

Result<std::unique_ptr<AdminChangeListener>> AdminChangeListener::Start(bus::Bus& bus,
                                                                        AdminLookupCache& cache,
                                                                        std::string_view node_id,
                                                                        const core::Logger& log) {
  std::unique_ptr<AdminChangeListener> self(new AdminChangeListener());
  // One consumer per domain: nats-server 2.9 takes a single filter subject per consumer.
  auto consume = [&](std::string_view kind, bus::JsHandler handler) {
    return bus.Consume({.stream = bus::EventsStream().name,
                        .durable = DurableName(kind, node_id),
                        .filter_subject = "sb.evt." + std::string(kind) + ".>",
                        .ack_wait = std::chrono::seconds(5),
                        .deliver_policy = bus::DeliverPolicy::kNew},
                       std::move(handler));
  };
  auto tenants = consume("tenant", Handler<pb::TenantEvent>(log, [&cache](const auto& e) {
                           cache.ForgetTenant(TenantId(e.tenant().id()), e.tenant().sip_domain());
                         }));
  if (!tenants.ok()) return tenants.status();
  self->tenants_ = std::move(*tenants);
  auto extensions =
      consume("extension", Handler<pb::ExtensionEvent>(log, [&cache](const auto& e) {
                cache.ForgetExtension(e.sip_domain(), e.extension().id(),
                                      e.extension().sip_username(), e.extension().number());
              }));
  if (!extensions.ok()) return extensions.status();
  self->extensions_ = std::move(*extensions);
  auto trunks = consume(
      "trunk", Handler<pb::TrunkEvent>(log, [&cache](const auto&) { cache.ForgetTrunks(); }));
  if (!trunks.ok()) return trunks.status();
  self->trunks_ = std::move(*trunks);
  auto numbers = consume("number", Handler<pb::NumberEvent>(log, [&cache](const auto& e) {
                           cache.ForgetNumber(e.number().e164(), e.number().id());
                         }));
  if (!numbers.ok()) return numbers.status();
  self->numbers_ = std::move(*numbers);
  return self;
}

}  // namespace sb::signaling
