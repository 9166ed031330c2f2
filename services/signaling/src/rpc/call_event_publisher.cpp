#include "rpc/call_event_publisher.h"

#include "rpc/call_proto.h"
#include "switchboard/bus/typed.h"
#include "switchboard/call/v1/events.pb.h"

namespace sb::signaling {
namespace v1 = switchboard::call::v1;
namespace {

constexpr std::string_view kDomain = "call";

}  // namespace

CallEventPublisher::CallEventPublisher(bus::JsOutbox& outbox, const bus::EventFactory& events)
    : outbox_(outbox), events_(events) {}

Result<bus::JsOutbound> CallEventPublisher::Message(
    const CallRecord& call, std::string_view type, std::string_view dedup_suffix,
    google::protobuf::MessageLite& event, switchboard::common::v1::EventMeta* meta) const {
  SB_RETURN_IF_ERROR(ValidateForEvent(call));
  auto fresh = events_.NewMeta(call.tenant, kDomain, type, call.call_id.str());
  if (!fresh.ok()) return fresh.status();
  *meta = std::move(*fresh);
  auto subject = bus::EventSubjectFor(*meta);
  if (!subject.ok()) return subject.status();
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive inside
  // libstdc++) on `"." + std::string(suffix)`.
  std::string msg_id = call.call_id.str();
  for (std::string_view part : {type, dedup_suffix}) {
    if (part.empty()) continue;
    msg_id += '.';
    msg_id += part;
  }
  auto body = bus::Serialize(event);
  if (!body.ok()) return body.status();
  return bus::JsOutbound{.message = {.subject = std::move(*subject), .data = std::move(*body)},
                         .msg_id = std::move(msg_id)};
}

Status CallEventPublisher::Post(const CallRecord& call, std::string_view type,
                                std::string_view dedup_suffix, google::protobuf::MessageLite& event,
                                switchboard::common::v1::EventMeta* meta, Done done) {
  auto message = Message(call, type, dedup_suffix, event, meta);
  if (!message.ok()) return message.status();
  return outbox_.Post(std::move(*message), std::move(done));
}

Status CallEventPublisher::Created(const CallRecord& call, Done done) {
  v1::CallCreated event;
  *event.mutable_call() = ToProto(call);
  return Post(call, "created", "", event, event.mutable_meta(), std::move(done));
}

Status CallEventPublisher::Ringing(const CallRecord& call, std::string_view leg_id, Done done) {
  v1::CallRinging event;
  *event.mutable_call() = ToProto(call);
  event.set_sip_code(call.ringing_sip_code);
  event.set_early_media(call.early_media);
  return Post(call, "ringing", leg_id, event, event.mutable_meta(), std::move(done));
}

Status CallEventPublisher::Answered(const CallRecord& call, Done done) {
  auto message = AnsweredMessage(call);
  if (!message.ok()) return message.status();
  return outbox_.Post(std::move(*message), std::move(done));
}

Result<bus::JsOutbound> CallEventPublisher::AnsweredMessage(const CallRecord& call) const {
  if (!call.answer_time) {
    return Status::InvalidArgument("an answered call needs its answer time", "answer_time");
  }
  v1::CallAnswered event;
  *event.mutable_call() = ToProto(call);
  event.set_answered_leg_id(call.answered_leg_id);
  return Message(call, "answered", call.answered_leg_id, event, event.mutable_meta());
}

Status CallEventPublisher::Ended(const CallRecord& call, Done done) {
  auto message = EndedMessage(call);
  if (!message.ok()) return message.status();
  return outbox_.Post(std::move(*message), std::move(done));
}

Status CallEventPublisher::SendKept(bus::JsOutbound message, Done done) {
  return outbox_.PostKept(std::move(message), std::move(done));
}

Result<bus::JsOutbound> CallEventPublisher::EndedMessage(const CallRecord& call) const {
  if (!call.end_time) {
    return Status::InvalidArgument("an ended call needs its end time", "end_time");
  }
  v1::CallEnded event;
  *event.mutable_call() = ToProto(call);
  event.set_cause(ToProto(call.cause));
  event.set_cause_text(call.cause_text.empty() ? std::string(EndCauseText(call.cause))
                                               : call.cause_text);
  event.set_final_sip_code(call.final_sip_code);
  event.set_duration_ms(call.DurationMs());
  event.set_answered_ms(call.AnsweredMs());
  event.set_billable_seconds(call.BillableSeconds());
  return Message(call, "ended", "", event, event.mutable_meta());
}

}  // namespace sb::signaling
