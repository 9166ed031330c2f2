#include "b2bua/digest_call_authorizer.h"

#include <utility>

#include "protection/admission.h"

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

AuthOutcome Refuse(int code, std::string reason) {
  AuthOutcome out;
  out.code = code;
  out.reason = std::move(reason);
  return out;
}

AuthOutcome FromTrunk(const sip::Message& invite, const TrunkMatch& trunk) {
  if (trunk.tenant.suspended) return Refuse(403, "Tenant Suspended");
  AuthOutcome out;
  auto from = invite.From();
  out.caller.tenant = trunk.tenant.id;
  out.caller.domain = trunk.tenant.sip_domain;
  out.caller.extension = from.ok() ? std::string((*from)->uri.user) : std::string();
  out.caller.trunk_id = trunk.trunk_id;
  return out;
}

}  // namespace

DigestCallAuthorizer::DigestCallAuthorizer(const RequestAuthenticator& authenticator,
                                           const AdminLookups& admin, const AuthGuard& guard,
                                           redis::Client& redis, core::MetricsRegistry& metrics)
    : authenticator_(authenticator),
      admin_(admin),
      guard_(guard),
      redis_(redis),
      loop_challenges_(metrics.Counter(
          "sb_signaling_invite_loop_challenges_total",
          "INVITEs challenged on the SIP loop, without Redis, admin or a worker")) {}

std::optional<AuthOutcome> DigestCallAuthorizer::ChallengeOnLoop(const sip::Message& invite,
                                                                 const std::string& entry) {
  // Authorize's path to a challenge, each step answered from memory: not banned (Redis said so
  // moments ago), no trunk's source (a cached NOT_FOUND), a realm, no credentials for it.
  if (!guard_.KnownClear(entry)) return std::nullopt;
  auto trunk = admin_.CachedTrunkBySource(entry);
  if (!trunk || trunk->ok() || trunk->status().code() != StatusCode::kNotFound) {
    return std::nullopt;
  }
  const std::string realm = RealmOf(invite);
  if (realm.empty() || authenticator_.FindCredentials(invite, realm)) return std::nullopt;
  loop_challenges_.Inc();
  return Refuse(authenticator_.Challenge(invite, realm));
}

AuthOutcome DigestCallAuthorizer::Authorize(const sip::Message& invite, const std::string& entry) {
  Admission admission(redis_, guard_, entry);
  // An answer found without Redis still yields to a refusal of the checks queued before it.
  auto after_checks = [&admission](AuthOutcome outcome) {
    if (auto refused = admission.Send()) return Refuse(std::move(*refused));
    return outcome;
  };
  const std::string realm = RealmOf(invite);
  std::optional<sip::DigestCredentials> presented;
  if (!realm.empty()) presented = authenticator_.FindCredentials(invite, realm);
  if (!presented) {
    // Carriers do not answer challenges: their trunks are recognised by source address. A source
    // Redis found not banned moments ago is not asked again (as for ChallengeOnLoop): a busy
    // trunk's calls cost no round trip for it. Not a trunk's: the queued check goes below.
    const bool clear = guard_.KnownClear(entry);
    if (!clear) {
      if (auto refused = admission.Send()) return Refuse(std::move(*refused));
    }
    auto trunk = admin_.TrunkBySource(entry);
    if (trunk.ok()) return FromTrunk(invite, *trunk);
    if (clear) {
      if (auto refused = admission.Send()) return Refuse(std::move(*refused));
    }
    if (trunk.status().code() != StatusCode::kNotFound) {
      AuthOutcome out = Refuse(503, "Admin Unavailable");
      out.headers = {{"Retry-After", "5"}};
      return out;
    }
  }
  if (realm.empty()) return after_checks(Refuse(403, "No Caller Domain"));
  if (!presented) return after_checks(Refuse(authenticator_.Challenge(invite, realm)));
  admission.CountAccount(realm, presented->username);
  auto looked_up = admin_.CachedCredentials(realm, presented->username);
  if (!looked_up) {
    if (auto refused = admission.Send()) return Refuse(std::move(*refused));
    looked_up = admin_.Credentials(realm, presented->username);
  }
  AuthDecision decision = authenticator_.Verify(invite, realm, *presented, *looked_up);
  if (auto refused = admission.Send()) return Refuse(std::move(*refused));
  guard_.Record(entry, decision.failure);
  if (!decision.authenticated() || !decision.credentials) return Refuse(std::move(decision));
  AuthOutcome out;
  out.caller.tenant = decision.credentials->tenant;
  out.caller.domain = realm;
  out.caller.extension = decision.credentials->extension_number;
  return out;
}

}  // namespace sb::signaling::b2bua
