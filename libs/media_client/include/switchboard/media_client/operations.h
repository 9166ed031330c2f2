// The media node's command and report names as its callers spell them: a command for node N goes
// to sb.cmd.media.<N>.<operation> (sb::bus::subjects::NodeCommand(kService, N, operation)) with
// the request and reply messages of proto/switchboard/media/v1/commands.proto named beside each;
// load reports come on sb.evt.media.node_load.platform. The node itself serves exactly these
// (services/media/src/rpc/operations.h aliases them).
//
//   auto subject = sb::bus::subjects::NodeCommand(ops::kService, "media-1", ops::kCreateLeg);
#pragma once

#include <string_view>

namespace sb::media_client::ops {

inline constexpr std::string_view kService = "media";
inline constexpr std::string_view kCreateLeg = "create_leg";  // CreateLegRequest -> LegReply
// UpdateLegRequest -> LegReply; with bridge_with set, the bridge of an answered call too.
inline constexpr std::string_view kUpdateLeg = "update_leg";
inline constexpr std::string_view kDestroyLeg = "destroy_leg";  // DestroyLegRequest -> Ack
// A two-party call's legs in one request each: created together, answered and bridged,
// destroyed together.
inline constexpr std::string_view kCreateLegPair = "create_leg_pair";  // -> LegPairReply
inline constexpr std::string_view kDestroyLegs = "destroy_legs";       // DestroyLegsRequest -> Ack
inline constexpr std::string_view kBridge = "bridge";             // BridgeRequest -> BridgeReply
inline constexpr std::string_view kUnbridge = "unbridge";         // UnbridgeRequest -> Ack
inline constexpr std::string_view kPlay = "play";                 // PlayRequest -> PlayReply
inline constexpr std::string_view kStopPlay = "stop_play";        // StopPlayRequest -> Ack
inline constexpr std::string_view kRecordStart = "record_start";  // RecordStartRequest -> ...Reply
inline constexpr std::string_view kRecordStop = "record_stop";    // RecordStopRequest -> Ack
inline constexpr std::string_view kConferenceCreate = "conference_create";    // -> ConferenceReply
inline constexpr std::string_view kConferenceAdd = "conference_add";          // -> ConferenceReply
inline constexpr std::string_view kConferenceRemove = "conference_remove";    // -> ConferenceReply
inline constexpr std::string_view kConferenceMute = "conference_mute";        // -> Ack
inline constexpr std::string_view kConferenceDeaf = "conference_deaf";        // -> Ack
inline constexpr std::string_view kConferenceDestroy = "conference_destroy";  // -> Ack
inline constexpr std::string_view kDtmfSend = "dtmf_send";  // DtmfSendRequest -> Ack

// Load reports are the platform's, not a tenant's: this token stands in the tenant position.
inline constexpr std::string_view kLoadTenant = "platform";
inline constexpr std::string_view kLoadEventType = "node_load";
// A leg's endpoint silent past its LegOptions.rtp_timeout_ms (RtpTimeoutEvent, per tenant).
inline constexpr std::string_view kRtpTimeoutEventType = "rtp_timeout";

}  // namespace sb::media_client::ops
