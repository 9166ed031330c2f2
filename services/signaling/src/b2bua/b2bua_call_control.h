// B2buaCallControl: callinfra's CallControl (events/call_control.h) on the B2BUA, for the command
// server (rpc/call_command_server.h). Commands arrive on bus threads; the B2BUA lives on the SIP
// loop, so each command is posted there and its outcome awaited for at most `wait`
// (DEADLINE_EXCEEDED after that; the command may still complete).
//
//   B2buaCallControl control(b2bua, [&](auto task) { server->Post(std::move(task)); }, 3s);
//   CallCommandServer commands(bus, node_id, control);
//
// Implemented: Hangup, Transfer (blind, of the caller to sip:<user>@<the tenant's domain>, routed
// as if the caller dialled it: an extension, a number of the tenant, a trunk), Play,
// StopPlay, RecordStart, RecordStop (on the caller's media leg, by its node), Bridge (two answered
// calls; on two media nodes, the second call's party is moved to the first's node first, which
// a party slow to answer that re-INVITE can make outlast `wait`), Originate (as an extension of the
// tenant, to sip:<extension or number>@<the tenant's domain>, or as the tenant through its named
// trunk; needs `originators`), Answer (the caller of a call still ringing, which then has one
// party: B2bua::AnswerCaller).
#pragma once

#include <chrono>
#include <functional>

#include "b2bua/b2bua.h"
#include "events/call_control.h"

namespace sb::signaling::b2bua {

class B2buaCallControl final : public CallControl {
 public:
  using PostToLoop = std::function<void(std::function<void()>)>;
  // The B2BUA is borrowed and must outlive this object.
  B2buaCallControl(B2bua& b2bua, PostToLoop post, std::chrono::milliseconds wait,
                   Originators* originators = nullptr)
      : b2bua_(b2bua), post_(std::move(post)), wait_(wait), originators_(originators) {}

  Status Hangup(const TenantId& tenant, const CallId& call, const HangupParams& params) override;

  Status Answer(const TenantId& tenant, const CallId& call) override;
  Status Bridge(const TenantId& tenant, const CallId& call, const CallId& other) override;
  Status Transfer(const TenantId& tenant, const CallId& call,
                  const std::string& target_uri) override;
  Result<std::string> Play(const TenantId& tenant, const CallId& call,
                           const PlayParams& params) override;
  Status StopPlay(const TenantId& tenant, const CallId& call) override;
  Result<RecordingStarted> RecordStart(const TenantId& tenant, const CallId& call,
                                       const RecordParams& params) override;
  Status RecordStop(const TenantId& tenant, const CallId& call) override;
  Result<CallId> Originate(const OriginateParams& params) override;

 private:
  // Runs `command` on the loop and waits (at most wait_) for the status it reports.
  Status OnLoop(std::function<void(std::function<void(Status)>)> command);
  Status OnCallerLeg(const TenantId& tenant, const CallId& call, B2bua::LegWork work);

  B2bua& b2bua_;
  PostToLoop post_;
  std::chrono::milliseconds wait_;
  Originators* originators_;
};

}  // namespace sb::signaling::b2bua
