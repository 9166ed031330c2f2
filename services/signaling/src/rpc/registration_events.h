// RegistrationEvents: publishes registration changes to JetStream (SB_EVENTS) as
// switchboard.signaling.v1 Registered / Unregistered on sb.evt.registration.<type>.<tenant_id>,
// type registered, unregistered or expired, each de-duplicated on its event id.
//
//   sb::signaling::RegistrationEvents events(bus, factory, "sig-1", std::chrono::seconds(2));
//   auto changes = sb::signaling::RegistrationChanges(before, after, now);   // registrar.h
//   for (auto& c : changes) { c.tenant = tenant; c.aor = aor; ... }
//   sb::Status published = events.Publish(changes, call_id);   // blocks: run it offloaded
//
// A REGISTER's events are parked in Redis with the bindings they report before they are sent
// (Messages, then Send), so that a replica killed in between loses none.
//
// Thread-safe (the Bus and EventFactory are).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/bindings.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

struct RegistrationChange {
  // kExpired and kKeepaliveFailed are both published as "expired" (reasons EXPIRED and
  // KEEPALIVE_FAILED).
  enum class Kind { kRegistered, kUnregistered, kExpired, kKeepaliveFailed };
  Kind kind = Kind::kRegistered;
  TenantId tenant;
  std::string aor;
  std::string contact;
  std::string source;
  std::vector<std::string> path;
  uint32_t expires_seconds = 0;
  std::string extension_id;
  std::string user_agent;
  // kExpired: the lapsed binding's expiry. Every node that sees this lapse publishes it under
  // the same de-duplication id, so the stream keeps one event.
  std::chrono::system_clock::time_point lapsed_at{};
};

// The change of `kind` that `binding` of `aor` went through: its contact and source (a
// registration's path, expiry and user agent, or a lapse's time, are the caller's to add).
RegistrationChange ChangeOf(RegistrationChange::Kind kind, const TenantId& tenant,
                            std::string_view aor, const Binding& binding);

// The Nats-Msg-Id of the "expired" event for a binding that lapsed at `lapsed_at`.
std::string LapseEventId(const RegistrationChange& change);

class RegistrationEvents {
 public:
  // Borrowed references must outlive this object.
  RegistrationEvents(bus::Bus& bus, const bus::EventFactory& factory, std::string node_id,
                     std::chrono::milliseconds timeout)
      : bus_(bus), factory_(factory), node_id_(std::move(node_id)), timeout_(timeout) {}

  // Publishes every change (correlation id: the REGISTER's Call-ID); the first error is returned
  // after trying all of them.
  Status Publish(const std::vector<RegistrationChange>& changes, std::string_view call_id);
  // Publish in two steps, for a caller that parks the messages first (store/redis_event_outbox.h):
  // the changes' messages, each under its de-duplication id (the event id, or a lapse's own);
  // then sent, with the ids JetStream acknowledged added to `acked`.
  Result<std::vector<bus::JsOutbound>> Messages(const std::vector<RegistrationChange>& changes,
                                                std::string_view call_id) const;
  Status Send(const std::vector<bus::JsOutbound>& messages,
              std::vector<std::string>* acked = nullptr);

 private:
  bus::Bus& bus_;
  const bus::EventFactory& factory_;
  std::string node_id_;
  std::chrono::milliseconds timeout_;
};

}  // namespace sb::signaling
