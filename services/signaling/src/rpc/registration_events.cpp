#include "rpc/registration_events.h"

#include "switchboard/bus/typed.h"
#include "switchboard/signaling/v1/events.pb.h"

namespace sb::signaling {
namespace {

namespace pb = ::switchboard::signaling::v1;

std::string_view TypeOf(RegistrationChange::Kind kind) {
  switch (kind) {
    case RegistrationChange::Kind::kRegistered:
      return "registered";
    case RegistrationChange::Kind::kUnregistered:
      return "unregistered";
    case RegistrationChange::Kind::kExpired:
    case RegistrationChange::Kind::kKeepaliveFailed:
      return "expired";
  }
  return "registered";
}

pb::UnregisterReason ReasonOf(RegistrationChange::Kind kind) {
  switch (kind) {
    case RegistrationChange::Kind::kExpired:
      return pb::UNREGISTER_REASON_EXPIRED;
    case RegistrationChange::Kind::kKeepaliveFailed:
      return pb::UNREGISTER_REASON_KEEPALIVE_FAILED;
    case RegistrationChange::Kind::kRegistered:
    case RegistrationChange::Kind::kUnregistered:
      break;
  }
  return pb::UNREGISTER_REASON_CLIENT;
}

}  // namespace

std::string LapseEventId(const RegistrationChange& change) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(change.lapsed_at.time_since_epoch())
          .count();
  return "lapse:" + change.tenant.str() + ":" + change.aor + ":" + change.contact + ":" +
         std::to_string(ms);
}

Status RegistrationEvents::Publish(const std::vector<RegistrationChange>& changes,
                                   std::string_view call_id) {
  Status first = Status::Ok();
  for (const auto& c : changes) {
    auto meta = factory_.NewMeta(c.tenant, "registration", TypeOf(c.kind), call_id);
    if (!meta.ok()) {
      if (first.ok()) first = meta.status();
      continue;
    }
    auto subject = bus::EventSubjectFor(*meta);
    if (!subject.ok()) {
      if (first.ok()) first = subject.status();
      continue;
    }
    Result<bus::PublishAck> ack = Status::Internal("not published");
    if (c.kind == RegistrationChange::Kind::kRegistered) {
      pb::Registered event;
      *event.mutable_meta() = *meta;
      event.set_aor(c.aor);
      event.set_contact(c.contact);
      event.set_source(c.source);
      for (const auto& p : c.path) event.add_path(p);
      event.set_expires_seconds(c.expires_seconds);
      event.set_extension_id(c.extension_id);
      event.set_user_agent(c.user_agent);
      event.set_node_id(node_id_);
      ack = bus::JsPublishProto(bus_, *subject, event, meta->event_id(), timeout_);
    } else {
      pb::Unregistered event;
      *event.mutable_meta() = *meta;
      event.set_aor(c.aor);
      event.set_contact(c.contact);
      event.set_reason(ReasonOf(c.kind));
      event.set_extension_id(c.extension_id);
      event.set_node_id(node_id_);
      const bool lapse = c.kind == RegistrationChange::Kind::kExpired &&
                         c.lapsed_at != std::chrono::system_clock::time_point{};
      ack = bus::JsPublishProto(bus_, *subject, event, lapse ? LapseEventId(c) : meta->event_id(),
                                timeout_);
    }
    if (!ack.ok() && first.ok()) first = ack.status();
  }
  return first;
}

}  // namespace sb::signaling
