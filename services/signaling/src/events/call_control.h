// CallControl: what the flow service and the admin API may ask of the calls a signaling node
// carries, in plain C++ types. The B2BUA implements it; rpc/call_command_server.h serves it on
// sb.cmd.signaling.<node_id>.<operation> after checking the request (so an implementation gets
// well-formed ids and URIs and only has to say whether the call exists and what happened).
//
//   class B2bua : public CallControl {
//     Status Hangup(const TenantId& tenant, const CallId& call, const HangupParams& p) override {
//       auto* c = calls_.Find(tenant, call);        // another tenant's call: NOT_FOUND
//       if (c == nullptr) return Status::NotFound("no call " + call.str());
//       return c->Hangup(p.sip_code, p.reason);
//     }
//     ...
//   };
//   B2bua b2bua(...);
//   CallCommandServer commands(bus, node_id, b2bua);
//   SB_RETURN_IF_ERROR(commands.Start());
//
// Errors an implementation returns travel back to the requester with their code and message:
// NOT_FOUND (no such call for this tenant), FAILED_PRECONDITION (answering an answered call,
// bridging a call in another state), UNAVAILABLE (no media node), ...
//
// Threading: methods are called on the bus's delivery threads (one per operation, so two
// different operations may run at once) and may block: the command's requester waits for the
// reply up to its own deadline, so an implementation that hands the work to its event loop and
// waits for the outcome should bound that wait (a few seconds). The implementation must
// outlive the command server.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

struct HangupParams {
  int sip_code = 0;  // final response to an unanswered inbound call; 0: the implementation's
  std::string reason{};
};

struct PlayParams {
  // Exactly one of the two is set.
  std::string wav_file{};  // a path on the media node
  std::string tone{};  // one of call_ops::kTones (rpc/call_operations.h): "ringback", "busy", ...
  std::string playback_id{};  // empty: the media node picks one
};

struct RecordParams {
  std::string recording_id{};  // empty: the media node picks one
  bool mixed = false;          // both directions, else only what the caller sends
};

struct RecordingStarted {
  std::string recording_id{};
  std::string file{};
};

struct OriginateParams {
  TenantId tenant{};
  // Exactly one of the two is set.
  std::string extension{};  // the tenant's extension that places the call
  std::string trunk_id{};   // the tenant's trunk the call goes out through
  std::string to_uri{};     // sip:, sips: or tel:
  std::string caller_id{};  // presented caller; empty: the extension's own
  std::chrono::seconds timeout{60};
  CallId call_id{};  // chosen by the requester (idempotency); empty: the implementation picks
};

class CallControl {
 public:
  virtual ~CallControl() = default;

  virtual Status Answer(const TenantId& tenant, const CallId& call) = 0;
  virtual Status Hangup(const TenantId& tenant, const CallId& call, const HangupParams& params) = 0;
  // Joins the media of two calls of the tenant (their caller legs).
  virtual Status Bridge(const TenantId& tenant, const CallId& call, const CallId& other) = 0;
  // Blind transfer of the call's caller to `target_uri`.
  virtual Status Transfer(const TenantId& tenant, const CallId& call,
                          const std::string& target_uri) = 0;
  // The playback id.
  virtual Result<std::string> Play(const TenantId& tenant, const CallId& call,
                                   const PlayParams& params) = 0;
  virtual Status StopPlay(const TenantId& tenant, const CallId& call) = 0;
  virtual Result<RecordingStarted> RecordStart(const TenantId& tenant, const CallId& call,
                                               const RecordParams& params) = 0;
  virtual Status RecordStop(const TenantId& tenant, const CallId& call) = 0;
  // Places the call and returns its id once it is created (not answered); its progress is
  // reported by call events.
  virtual Result<CallId> Originate(const OriginateParams& params) = 0;
};

}  // namespace sb::signaling
