#include "b2bua/b2bua_call_control.h"

#include <future>
#include <memory>

namespace sb::signaling::b2bua {
namespace {

Status NotYet(std::string_view command) {
  return Status::FailedPrecondition("this signaling node does not support " + std::string(command) +
                                    " yet");
}

}  // namespace

Status B2buaCallControl::OnLoop(std::function<void(std::function<void(Status)>)> command) {
  auto outcome = std::make_shared<std::promise<Status>>();
  std::future<Status> result = outcome->get_future();
  post_([outcome, command = std::move(command)] {
    command([outcome](Status s) { outcome->set_value(std::move(s)); });
  });
  if (result.wait_for(wait_) != std::future_status::ready) {
    return Status::DeadlineExceeded("the SIP loop did not finish the command in time");
  }
  return result.get();
}

Status B2buaCallControl::Hangup(const TenantId& tenant, const CallId& call,
                                const HangupParams& /*params*/) {
  return OnLoop([this, tenant, id = call.str()](std::function<void(Status)> done) {
    b2bua_.Hangup(tenant, id, std::move(done));
  });
}

Status B2buaCallControl::Answer(const TenantId&, const CallId&) { return NotYet("answer"); }
Status B2buaCallControl::Bridge(const TenantId&, const CallId&, const CallId&) {
  return NotYet("bridge");
}
Status B2buaCallControl::Transfer(const TenantId& tenant, const CallId& call,
                                  const std::string& target_uri) {
  return OnLoop([this, tenant, id = call.str(), target_uri](std::function<void(Status)> done) {
    b2bua_.Transfer(tenant, id, target_uri, std::move(done));
  });
}
Status B2buaCallControl::OnCallerLeg(const TenantId& tenant, const CallId& call,
                                     B2bua::LegWork work) {
  return OnLoop([this, tenant, id = call.str(),
                 work = std::move(work)](std::function<void(Status)> done) mutable {
    b2bua_.OnCallerLeg(tenant, id, std::move(work), std::move(done));
  });
}

Result<std::string> B2buaCallControl::Play(const TenantId& tenant, const CallId& call,
                                           const PlayParams& params) {
  // Shared: a command that outlives its wait still finishes writing somewhere valid.
  auto playback = std::make_shared<std::string>();
  SB_RETURN_IF_ERROR(OnCallerLeg(
      tenant, call,
      [params, playback](MediaAnchor& media, const std::string& node, const std::string& leg) {
        auto played = media.Play(node, leg, params);
        if (!played.ok()) return played.status();
        *playback = *played;
        return Status::Ok();
      }));
  return *playback;
}

Status B2buaCallControl::StopPlay(const TenantId& tenant, const CallId& call) {
  return OnCallerLeg(tenant, call,
                     [](MediaAnchor& media, const std::string& node, const std::string& leg) {
                       return media.StopPlay(node, leg);
                     });
}

Result<RecordingStarted> B2buaCallControl::RecordStart(const TenantId& tenant, const CallId& call,
                                                       const RecordParams& params) {
  auto started = std::make_shared<RecordingStarted>();
  SB_RETURN_IF_ERROR(OnCallerLeg(
      tenant, call,
      [params, started](MediaAnchor& media, const std::string& node, const std::string& leg) {
        auto recording = media.RecordStart(node, leg, params);
        if (!recording.ok()) return recording.status();
        *started = *recording;
        return Status::Ok();
      }));
  return *started;
}

Status B2buaCallControl::RecordStop(const TenantId& tenant, const CallId& call) {
  return OnCallerLeg(tenant, call,
                     [](MediaAnchor& media, const std::string& node, const std::string& leg) {
                       return media.RecordStop(node, leg);
                     });
}
Result<CallId> B2buaCallControl::Originate(const OriginateParams&) { return NotYet("originate"); }

}  // namespace sb::signaling::b2bua
