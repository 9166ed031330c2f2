// The signaling node's command names, spelled once: a command for the calls of node N goes to
// sb.cmd.signaling.<N>.<operation> (sb::bus::subjects::NodeCommand(kService, N, operation)) with
// the request and reply of proto/switchboard/call/v1/commands.proto named beside each.
// Any command may also go to sb.cmd.signaling.<operation>, which one node of the kQueueGroup
// takes (a call command is then passed on to the call's node: rpc/call_whereabouts.h).
#pragma once

#include <array>
#include <string_view>

namespace sb::signaling::call_ops {

inline constexpr std::string_view kService = "signaling";
inline constexpr std::string_view kQueueGroup = "signaling";
inline constexpr std::string_view kAnswer = "answer";             // AnswerRequest -> CommandReply
inline constexpr std::string_view kHangup = "hangup";             // HangupRequest -> CommandReply
inline constexpr std::string_view kBridge = "bridge";             // BridgeRequest -> CommandReply
inline constexpr std::string_view kTransfer = "transfer";         // TransferRequest -> ...
inline constexpr std::string_view kPlay = "play";                 // PlayRequest -> PlayReply
inline constexpr std::string_view kStopPlay = "stop_play";        // StopPlayRequest -> ...
inline constexpr std::string_view kRecordStart = "record_start";  // -> RecordStartReply
inline constexpr std::string_view kRecordStop = "record_stop";    // -> CommandReply
inline constexpr std::string_view kOriginate = "originate";       // -> OriginateReply

// The named tones a play command may ask for.
inline constexpr std::array<std::string_view, 3> kTones = {"ringback", "busy", "congestion"};

}  // namespace sb::signaling::call_ops
