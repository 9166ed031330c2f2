#include "rpc/call_proto.h"

#include <chrono>

namespace sb::signaling {
namespace v1 = switchboard::call::v1;
namespace {

void SetTime(WallTime t, google::protobuf::Timestamp* out) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const auto s = std::chrono::floor<std::chrono::seconds>(ns);
  out->set_seconds(s.count());
  out->set_nanos(static_cast<int32_t>((ns - s).count()));
}

}  // namespace

v1::EndCause ToProto(EndCause cause) {
  switch (cause) {
    case EndCause::kUnspecified:
      return v1::END_CAUSE_UNSPECIFIED;
    case EndCause::kNormalClearing:
      return v1::END_CAUSE_NORMAL_CLEARING;
    case EndCause::kCallerCancelled:
      return v1::END_CAUSE_CALLER_CANCELLED;
    case EndCause::kBusy:
      return v1::END_CAUSE_BUSY;
    case EndCause::kNoAnswer:
      return v1::END_CAUSE_NO_ANSWER;
    case EndCause::kRejected:
      return v1::END_CAUSE_REJECTED;
    case EndCause::kUnavailable:
      return v1::END_CAUSE_UNAVAILABLE;
    case EndCause::kNotFound:
      return v1::END_CAUSE_NOT_FOUND;
    case EndCause::kForbidden:
      return v1::END_CAUSE_FORBIDDEN;
    case EndCause::kMediaFailure:
      return v1::END_CAUSE_MEDIA_FAILURE;
    case EndCause::kNetworkFailure:
      return v1::END_CAUSE_NETWORK_FAILURE;
    case EndCause::kHangupCommand:
      return v1::END_CAUSE_HANGUP_COMMAND;
    case EndCause::kNodeFailure:
      return v1::END_CAUSE_NODE_FAILURE;
    case EndCause::kTransferred:
      return v1::END_CAUSE_TRANSFERRED;
    case EndCause::kBridged:
      return v1::END_CAUSE_BRIDGED;
    case EndCause::kSessionExpired:
      return v1::END_CAUSE_SESSION_EXPIRED;
  }
  return v1::END_CAUSE_UNSPECIFIED;
}

v1::Leg ToProto(const LegRecord& leg) {
  v1::Leg out;
  out.set_leg_id(leg.leg_id);
  out.set_direction(leg.direction == LegDirection::kInbound ? v1::LEG_DIRECTION_INBOUND
                                                            : v1::LEG_DIRECTION_OUTBOUND);
  out.set_from_uri(leg.from_uri);
  out.set_to_uri(leg.to_uri);
  out.set_sip_call_id(leg.sip_call_id);
  out.set_remote_contact(leg.remote_contact);
  out.set_remote_source(leg.remote_source);
  out.set_codec(leg.codec);
  out.set_media_node_id(leg.media_node_id);
  out.set_media_leg_id(leg.media_leg_id);
  if (leg.media_stats) {
    auto* stats = out.mutable_media_stats();
    stats->set_jitter_ms(leg.media_stats->jitter_ms);
    stats->set_loss_fraction(leg.media_stats->loss_fraction);
    stats->set_packets_lost(leg.media_stats->packets_lost);
    stats->set_packets_received(leg.media_stats->packets_received);
    stats->set_mos(leg.media_stats->mos);
  }
  out.set_final_sip_code(leg.final_sip_code);
  return out;
}

v1::Call ToProto(const CallRecord& call) {
  v1::Call out;
  out.set_call_id(call.call_id.str());
  out.set_tenant_id(call.tenant.str());
  out.set_from_uri(call.from_uri);
  out.set_to_uri(call.to_uri);
  out.set_signaling_node_id(call.signaling_node_id);
  for (const auto& leg : call.legs) *out.add_legs() = ToProto(leg);
  SetTime(call.start_time, out.mutable_start_time());
  if (call.answer_time) SetTime(*call.answer_time, out.mutable_answer_time());
  if (call.end_time) SetTime(*call.end_time, out.mutable_end_time());
  return out;
}

Status ValidateForEvent(const CallRecord& call) {
  if (call.call_id.empty())
    return Status::InvalidArgument("a call event needs a call id", "call_id");
  if (call.tenant.empty()) {
    return Status::InvalidArgument("a call event needs a tenant", "tenant_id");
  }
  return Status::Ok();
}

}  // namespace sb::signaling
