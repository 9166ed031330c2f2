#include "events/call_record.h"

#include <algorithm>
#include <chrono>

namespace sb::signaling {
namespace {

int64_t MillisBetween(WallTime from, WallTime to) {
  if (to <= from) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

EndCause CauseForFinalResponse(int sip_code) {
  switch (sip_code) {
    case 486:
    case 600:
      return EndCause::kBusy;
    case 408:
      return EndCause::kNoAnswer;
    case 480:
      return EndCause::kUnavailable;
    case 404:
    case 604:
      return EndCause::kNotFound;
    case 401:
    case 403:
    case 407:
      return EndCause::kForbidden;
    case 488:
    case 606:
      return EndCause::kMediaFailure;
    case 487:
      return EndCause::kCallerCancelled;
    case 603:
      return EndCause::kRejected;
    default:
      break;
  }
  if (sip_code >= 200 && sip_code < 300) return EndCause::kNormalClearing;
  if (sip_code >= 500 && sip_code < 600) return EndCause::kNetworkFailure;
  if (sip_code >= 300 && sip_code < 700) return EndCause::kRejected;
  return EndCause::kUnspecified;
}

std::string_view EndCauseText(EndCause cause) {
  switch (cause) {
    case EndCause::kUnspecified:
      return "unspecified";
    case EndCause::kNormalClearing:
      return "normal clearing";
    case EndCause::kCallerCancelled:
      return "cancelled by the caller";
    case EndCause::kBusy:
      return "busy";
    case EndCause::kNoAnswer:
      return "no answer";
    case EndCause::kRejected:
      return "rejected";
    case EndCause::kUnavailable:
      return "unavailable";
    case EndCause::kNotFound:
      return "not found";
    case EndCause::kForbidden:
      return "forbidden";
    case EndCause::kMediaFailure:
      return "media failure";
    case EndCause::kNetworkFailure:
      return "network failure";
    case EndCause::kHangupCommand:
      return "hung up by command";
    case EndCause::kNodeFailure:
      return "signaling node failure";
    case EndCause::kTransferred:
      return "transferred";
    case EndCause::kBridged:
      return "bridged into another call";
    case EndCause::kSessionExpired:
      return "session timer expired";
  }
  return "unspecified";
}

namespace {
struct NamedCause {
  EndCause cause;
  std::string_view name;
};
constexpr NamedCause kCauseNames[] = {
    {EndCause::kUnspecified, "unspecified"},
    {EndCause::kNormalClearing, "normal_clearing"},
    {EndCause::kCallerCancelled, "caller_cancelled"},
    {EndCause::kBusy, "busy"},
    {EndCause::kNoAnswer, "no_answer"},
    {EndCause::kRejected, "rejected"},
    {EndCause::kUnavailable, "unavailable"},
    {EndCause::kNotFound, "not_found"},
    {EndCause::kForbidden, "forbidden"},
    {EndCause::kMediaFailure, "media_failure"},
    {EndCause::kNetworkFailure, "network_failure"},
    {EndCause::kHangupCommand, "hangup_command"},
    {EndCause::kNodeFailure, "node_failure"},
    {EndCause::kTransferred, "transferred"},
    {EndCause::kBridged, "bridged"},
    {EndCause::kSessionExpired, "session_expired"},
};
}  // namespace

std::string_view EndCauseName(EndCause cause) {
  for (const auto& named : kCauseNames) {
    if (named.cause == cause) return named.name;
  }
  return "unspecified";
}

std::optional<EndCause> EndCauseFromName(std::string_view name) {
  if (name == "normal") return EndCause::kNormalClearing;
  for (const auto& named : kCauseNames) {
    if (named.name == name) return named.cause;
  }
  return std::nullopt;
}

LegRecord* CallRecord::FindLeg(std::string_view leg_id) {
  auto it = std::find_if(legs.begin(), legs.end(),
                         [&](const LegRecord& leg) { return leg.leg_id == leg_id; });
  return it == legs.end() ? nullptr : &*it;
}

const LegRecord* CallRecord::FindLeg(std::string_view leg_id) const {
  return const_cast<CallRecord*>(this)->FindLeg(leg_id);
}

int64_t CallRecord::DurationMs() const {
  return end_time ? MillisBetween(start_time, *end_time) : 0;
}

int64_t CallRecord::AnsweredMs() const {
  return answer_time && end_time ? MillisBetween(*answer_time, *end_time) : 0;
}

int64_t CallRecord::BillableSeconds() const {
  if (!answer_time || !end_time || *end_time <= *answer_time) return 0;
  const auto answered =
      std::chrono::duration_cast<std::chrono::nanoseconds>(*end_time - *answer_time);
  // Round up: any started second is billed.
  return (answered.count() + 999'999'999) / 1'000'000'000;
}

}  // namespace sb::signaling
