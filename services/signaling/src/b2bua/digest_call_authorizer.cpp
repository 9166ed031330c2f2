#include "b2bua/digest_call_authorizer.h"

#include <utility>

namespace sb::signaling::b2bua {
namespace {

AuthOutcome Refuse(AuthDecision decision) {
  AuthOutcome out;
  out.code = decision.code != 0 ? decision.code : 503;
  out.reason = std::move(decision.reason);
  out.headers = std::move(decision.headers);
  return out;
}

AuthOutcome Refuse(AuthRefusal refusal) {
  AuthOutcome out;
  out.code = refusal.code;
  out.reason = std::move(refusal.reason);
  out.headers = std::move(refusal.headers);
  return out;
}

}  // namespace

AuthOutcome DigestCallAuthorizer::Authorize(const sip::Message& invite,
                                            const sip::Destination& source) {
  if (auto refused = guard_.CheckSource(source.host)) return Refuse(std::move(*refused));
  const std::string realm = RealmOf(invite);
  if (realm.empty()) {
    AuthOutcome out;
    out.code = 403;
    out.reason = "No Caller Domain";
    return out;
  }
  auto presented = authenticator_.FindCredentials(invite, realm);
  if (!presented) return Refuse(authenticator_.Challenge(invite, realm));
  if (auto refused = guard_.CheckAccount(realm, presented->username)) {
    return Refuse(std::move(*refused));
  }
  auto looked_up = admin_.Credentials(realm, presented->username);
  AuthDecision decision = authenticator_.Verify(invite, realm, *presented, looked_up);
  guard_.Record(source.host, decision.failure);
  if (!decision.authenticated() || !decision.credentials) return Refuse(std::move(decision));
  AuthOutcome out;
  out.caller.tenant = decision.credentials->tenant;
  out.caller.domain = realm;
  out.caller.extension = decision.credentials->extension_number;
  return out;
}

}  // namespace sb::signaling::b2bua
