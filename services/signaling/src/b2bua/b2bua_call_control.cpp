#include "b2bua/b2bua_call_control.h"

#include <cctype>
#include <future>
#include <memory>

#include "b2bua/dialed_uri.h"
#include "switchboard/sip/uri.h"

namespace sb::signaling::b2bua {
namespace {

// RFC 3261 user-unreserved-ish: what a From user part carries without escaping.
bool IsCallerIdUser(std::string_view user) {
  for (char c : user) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
                    c == '.' || c == '_' || c == '*';
    if (!ok) return false;
  }
  return true;
}

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

Status B2buaCallControl::Answer(const TenantId& tenant, const CallId& call) {
  return OnLoop([this, tenant, id = call.str()](std::function<void(Status)> done) {
    b2bua_.AnswerCaller(tenant, id, std::move(done));
  });
}
Status B2buaCallControl::Bridge(const TenantId& tenant, const CallId& call, const CallId& other) {
  return OnLoop(
      [this, tenant, id = call.str(), other = other.str()](std::function<void(Status)> done) {
        b2bua_.Bridge(tenant, id, other, std::move(done));
      });
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
Result<CallId> B2buaCallControl::Originate(const OriginateParams& params) {
  if (originators_ == nullptr) return NotYet("originate");
  auto uri = sip::ParseUri(params.to_uri);
  const bool tel = uri.ok() && uri->scheme == sip::UriScheme::kTel;
  std::string dialed;
  // A local tel: number is the tenant's own when its phone-context is the tenant's SIP domain,
  // which is the originators' to resolve: checked once they have.
  bool local_tel = false;
  if (tel) {
    auto number = TelDialed(*uri, "to_uri", {});
    if (number.ok()) {
      dialed = std::move(*number);
    } else if (sip::LocalTelDigits(*uri)) {
      local_tel = true;
    } else {
      return number.status();
    }
  } else if (uri.ok() && uri->is_sip() && uri->has_user && !uri->user.empty() &&
             !uri->host.empty()) {
    dialed = uri->UserUnescaped();
  } else {
    return Status::InvalidArgument(
        "to_uri must be sip:<extension or number>@<the tenant's SIP domain> or a tel: number "
        "(global, or local in the tenant's SIP domain)",
        "to_uri");
  }
  if (!IsCallerIdUser(params.caller_id)) {
    return Status::InvalidArgument("caller_id must be a number or a SIP user name", "caller_id");
  }
  // Whom the call is placed as: the tenant itself through its trunk, or its extension in the
  // domain the sip: URI names (which must be the tenant's) or, for a tel: URI, the tenant's.
  const bool through_trunk = !params.trunk_id.empty();
  auto caller = through_trunk || tel
                    ? originators_->AsTenant(params.tenant)
                    : originators_->Resolve(params.tenant, uri->host, params.extension);
  if (!caller.ok()) return caller.status();
  if (local_tel) {
    auto number = TelDialed(*uri, "to_uri", caller->domain);
    if (!number.ok()) return number.status();
    dialed = std::move(*number);
  }
  if (through_trunk && !tel && !SameDomain(uri->host, caller->domain)) {
    return Status::NotFound("tenant " + params.tenant.str() + " has no SIP domain " +
                            std::string(uri->host));
  }
  if (!through_trunk && tel) {
    caller = originators_->Resolve(params.tenant, caller->domain, params.extension);
    if (!caller.ok()) return caller.status();
  }
  Origination origination{.caller = *caller,
                          .dialed = std::move(dialed),
                          .from_uri = {},
                          .timeout = params.timeout,
                          .call_id = params.call_id.str()};
  if (through_trunk) {
    origination.trunk_id = params.trunk_id;
    origination.trunk_caller_id = params.caller_id;
  } else if (!params.caller_id.empty()) {
    origination.from_uri = "sip:" + params.caller_id + "@" + caller->domain;
  }
  // Shared: a command that outlives its wait still finishes writing somewhere valid.
  auto placed = std::make_shared<std::string>();
  SB_RETURN_IF_ERROR(OnLoop([this, origination, placed](std::function<void(Status)> done) {
    b2bua_.Originate(origination, [placed, done](Result<std::string> id) {
      if (id.ok()) *placed = *id;
      done(id.status());
    });
  }));
  return CallId(*placed);
}

}  // namespace sb::signaling::b2bua
