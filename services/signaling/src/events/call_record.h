// CallRecord: a call as the B2BUA knows it, in plain C++ (no wire types): ids, tenant, legs
// (one per SIP dialog, each anchored on a media leg), times, the end cause and SIP codes, codecs
// and media statistics. The B2BUA keeps one per call and updates it as the call moves; the call
// event publisher (rpc/call_event_publisher.h) turns it into created / ringing / answered / ended
// events, and the derived values (duration, billable seconds) are computed here, once.
//
//   CallRecord call{.call_id = CallId(ids.Next()), .tenant = tenant,
//                   .from_uri = "sip:201@acme.example", .to_uri = "sip:202@acme.example",
//                   .signaling_node_id = node_id, .start_time = clock.WallNow()};
//   call.legs.push_back({.leg_id = "a", .direction = LegDirection::kInbound, ...});
//   publisher.Created(call);
//   ...                                   // 180 from the callee
//   call.ringing_sip_code = 180;
//   publisher.Ringing(call, "b");
//   ...                                   // 486 Busy Here
//   call.end_time = clock.WallNow();
//   call.final_sip_code = 486;
//   call.cause = CauseForFinalResponse(486);   // kBusy
//   publisher.Ended(call);
//
// Not thread-safe (a value type); the B2BUA owns it on its loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/ids.h"

namespace sb::signaling {

using WallTime = core::Clock::WallTime;

enum class LegDirection {
  kInbound,   // the peer called us (the caller's leg)
  kOutbound,  // we called the peer (a callee's leg, an originated or transferred-to leg)
};

// The same set as switchboard.call.v1.EndCause, for CDRs and billing: who ended the call and why.
enum class EndCause {
  kUnspecified,
  kNormalClearing,   // answered, then hung up by either side
  kCallerCancelled,  // CANCEL before an answer
  kBusy,             // 486, 600
  kNoAnswer,         // rang until the timeout (408, 480 after ringing, our own timer)
  kRejected,         // 603 or another final error from the callee
  kUnavailable,      // 480: no registered contact
  kNotFound,         // 404, 604
  kForbidden,        // 401, 403, 407
  kMediaFailure,     // 488, 606, no media node, RTP timeout
  kNetworkFailure,   // 503, 500, transaction timeout, transport error
  kHangupCommand,    // a hangup command (flow or the admin API)
  kNodeFailure,      // the replica that carried it died; another one ended it
  kTransferred,      // ended here because a transfer took over
  kBridged,          // a bridge command merged it into another call, which goes on
  kSessionExpired,   // RFC 4028: a leg's session was not refreshed in time
};

// The cause a final failure response stands for, when the callee's side ended the call with it
// (RFC 3261 §21). 2xx is kNormalClearing; codes it does not know map by class.
EndCause CauseForFinalResponse(int sip_code);

// For people: "busy", "no answer", ... (the default cause text).
std::string_view EndCauseText(EndCause cause);

// The cause's token ("normal_clearing", "busy", "no_answer", ...), and back. The parser also
// takes "normal" for kNormalClearing; nullopt for a name it does not know.
std::string_view EndCauseName(EndCause cause);
std::optional<EndCause> EndCauseFromName(std::string_view name);

// Media quality of one leg as its media node measured it (final statistics once the leg is gone).
struct MediaStats {
  double jitter_ms = 0;
  double loss_fraction = 0;  // 0..1
  uint64_t packets_lost = 0;
  uint64_t packets_received = 0;
  double mos = 0;  // 1..4.5; 0: not measured
};

// One SIP dialog of the call and the media leg that anchors it. Members carry {} so that
// designated initialisers may name only what they set.
struct LegRecord {
  std::string leg_id{};
  LegDirection direction = LegDirection::kInbound;
  std::string from_uri{};
  std::string to_uri{};
  std::string sip_call_id{};     // this dialog's Call-ID
  std::string remote_contact{};  // the peer's Contact URI
  std::string remote_source{};   // "ip:port" its requests came from
  std::string codec{};           // "PCMU", "PCMA", "opus"; empty before the media answer
  std::string media_node_id{};
  std::string media_leg_id{};
  std::optional<MediaStats> media_stats{};
  int final_sip_code = 0;  // this leg's final response; 0 while none
};

struct CallRecord {
  CallId call_id{};
  TenantId tenant{};
  std::string from_uri{};
  std::string to_uri{};
  std::string signaling_node_id{};  // where the call's commands go
  std::vector<LegRecord> legs{};
  WallTime start_time{};  // the first INVITE or the originate command
  std::optional<WallTime> answer_time{};
  std::optional<WallTime> end_time{};

  // Progress (ringing event).
  int ringing_sip_code = 0;  // 180 or 183
  bool early_media = false;
  std::string answered_leg_id{};  // the callee leg that answered (ring-all: the winner)

  // The end (ended event).
  EndCause cause = EndCause::kUnspecified;
  std::string cause_text{};  // empty: EndCauseText(cause)
  int final_sip_code = 0;    // 200 when answered, else the failure that ended it

  LegRecord* FindLeg(std::string_view leg_id);
  const LegRecord* FindLeg(std::string_view leg_id) const;

  // end - start (0 before the end).
  int64_t DurationMs() const;
  // end - answer (0 when never answered or not ended).
  int64_t AnsweredMs() const;
  // The answered time rounded up to whole seconds: a call answered for 61.2 s bills 62 s, one
  // answered for 1 ms bills 1 s, one never answered bills 0.
  int64_t BillableSeconds() const;
};

}  // namespace sb::signaling
