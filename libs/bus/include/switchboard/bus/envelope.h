// Event envelopes: every event carries an EventMeta (proto switchboard.common.v1) with a UUIDv7
// event id, the tenant, the time it happened and its type. EventFactory is the one place that
// fills it, from an injected clock and id generator so that tests get fixed values.
//
//   sb::bus::EventFactory events(clock, ids, "billing/node-1");
//   auto meta = events.NewMeta(tenant, "call", "answered");
//   if (!meta.ok()) return meta.status();
//   *call_answered.mutable_meta() = *meta;
//   auto subject = sb::bus::EventSubjectFor(*meta);   // sb.evt.call.answered.<tenant>
//   bus.JsPublish({.message = {.subject = *subject, .data = ...}, .msg_id = meta->event_id()}, t);
#pragma once

#include <string>
#include <string_view>

#include "switchboard/common/v1/event.pb.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::bus {

class EventFactory {
 public:
  // `source` names the emitting service and node ("signaling/sig-1"). Both references must
  // outlive the factory. Thread-safe when `ids` is.
  EventFactory(const core::Clock& clock, core::IdGenerator& ids, std::string source);

  // INVALID_ARGUMENT when the tenant, domain or type is not a valid subject token.
  Result<switchboard::common::v1::EventMeta> NewMeta(const TenantId& tenant,
                                                     std::string_view domain, std::string_view type,
                                                     std::string_view correlation_id = {}) const;

 private:
  const core::Clock& clock_;
  core::IdGenerator& ids_;
  std::string source_;
};

// sb.evt.<domain>.<type>.<tenant_id> for a meta whose type is "<domain>.<type>".
Result<std::string> EventSubjectFor(const switchboard::common::v1::EventMeta& meta);

// OK when the meta has a UUID event id, a valid tenant and a "<domain>.<type>" type: what a
// consumer checks before trusting the envelope.
Status ValidateMeta(const switchboard::common::v1::EventMeta& meta);

}  // namespace sb::bus
