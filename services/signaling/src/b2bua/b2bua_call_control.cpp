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
Result<std::string> B2buaCallControl::Play(const TenantId&, const CallId&, const PlayParams&) {
  return NotYet("play");
}
Status B2buaCallControl::StopPlay(const TenantId&, const CallId&) { return NotYet("stop_play"); }
Result<RecordingStarted> B2buaCallControl::RecordStart(const TenantId&, const CallId&,
                                                       const RecordParams&) {
  return NotYet("record_start");
}
Status B2buaCallControl::RecordStop(const TenantId&, const CallId&) {
  return NotYet("record_stop");
}
Result<CallId> B2buaCallControl::Originate(const OriginateParams&) { return NotYet("originate"); }

}  // namespace sb::signaling::b2bua
