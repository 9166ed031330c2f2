#include "rpc/registration_events.h"

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

RegistrationChange ChangeOf(RegistrationChange::Kind kind, const TenantId& tenant,
                            std::string_view aor, const Binding& binding) {
  RegistrationChange change;
  change.kind = kind;
  change.tenant = tenant;
  change.aor = std::string(aor);
  change.contact = binding.contact;
  change.source = binding.source;
  return change;
}

std::string LapseEventId(const RegistrationChange& change) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(change.lapsed_at.time_since_epoch())
          .count();
  return "lapse:" + change.tenant.str() + ":" + change.aor + ":" + change.contact + ":" +
         std::to_string(ms);
}

Result<std::vector<bus::JsOutbound>> RegistrationEvents::Messages(
    const std::vector<RegistrationChange>& changes, std::string_view call_id) const {
  std::vector<bus::JsOutbound> out;
  for (const auto& c : changes) {
    auto meta = factory_.NewMeta(c.tenant, "registration", TypeOf(c.kind), call_id);
    if (!meta.ok()) return meta.status();
    auto subject = bus::EventSubjectFor(*meta);
    if (!subject.ok()) return subject.status();
    bus::JsOutbound message{.message = {.subject = std::move(*subject)},
                            .msg_id = meta->event_id()};
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
      message.message.data = event.SerializeAsString();
    } else {
      pb::Unregistered event;
      *event.mutable_meta() = *meta;
      event.set_aor(c.aor);
      event.set_contact(c.contact);
      event.set_reason(ReasonOf(c.kind));
      event.set_extension_id(c.extension_id);
      event.set_node_id(node_id_);
      message.message.data = event.SerializeAsString();
      if (c.kind == RegistrationChange::Kind::kExpired &&
          c.lapsed_at != std::chrono::system_clock::time_point{}) {
        message.msg_id = LapseEventId(c);
      }
    }
    out.push_back(std::move(message));
  }
  return out;
}

Status RegistrationEvents::Send(const std::vector<bus::JsOutbound>& messages,
                                std::vector<std::string>* acked) {
  if (messages.empty()) return Status::Ok();
  Status first = Status::Ok();
  auto acks = bus_.JsPublishAll(messages, timeout_);
  for (size_t i = 0; i < acks.size(); ++i) {
    if (acks[i].ok()) {
      if (acked != nullptr) acked->push_back(messages[i].msg_id);
    } else if (first.ok()) {
      first = acks[i].status();
    }
  }
  return first;
}

Status RegistrationEvents::Publish(const std::vector<RegistrationChange>& changes,
                                   std::string_view call_id) {
  auto messages = Messages(changes, call_id);
  if (!messages.ok()) return messages.status();
  return Send(*messages);
}

}  // namespace sb::signaling
