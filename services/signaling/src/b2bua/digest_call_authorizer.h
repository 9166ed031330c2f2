// DigestCallAuthorizer: the B2BUA's CallAuthorizer on reg's RequestAuthenticator (digest, 407 +
// Proxy-Authenticate, RFC 3261 §22.3) and admin's credential lookup over NATS. The realm is the
// caller's domain (From); an authenticated caller is its tenant and extension number. The
// registrar's ban and per-account limit (AuthGuard) apply as they do to REGISTER: a banned source
// gets 403 before any lookup, and a failed INVITE authentication counts towards its ban.
// An INVITE without credentials whose source address is among a trunk's inbound sources is the
// carrier of that trunk: it is not challenged, the caller is the trunk's tenant and the From
// number.
//
//   sb::signaling::b2bua::DigestCallAuthorizer authorizer(authenticator, admin, guard, redis,
//                                                         metrics);
//   sb::signaling::b2bua::Ports ports{authorizer, router, locator, media, events, store};
//
// ChallengeOnLoop answers the 407 without blocking when Authorize's answer can only be that: the
// source was found not banned within the last seconds (the guard's ClearSources), the node's
// admin cache says it is no trunk's, the INVITE names a caller domain and carries no credentials
// for it. Counted in sb_signaling_invite_loop_challenges_total.
//
// Authorize blocks on admin and on Redis (run it offloaded, as the B2BUA does). With the
// caller's credentials in the admin cache it makes one Redis round trip (protection/admission.h):
// the ban, the account's count and the digest nonce count in one pipeline after the response was
// checked; when admin must be asked, the ban and the count go first, so a banned source or a
// limited account never reaches admin. Thread-safe as RequestAuthenticator and AdminLookups are.
#pragma once

#include "auth/request_authenticator.h"
#include "b2bua/ports.h"
#include "protection/auth_guard.h"
#include "rpc/admin_lookups.h"
#include "switchboard/core/metrics.h"
#include "switchboard/redis/client.h"

namespace sb::signaling::b2bua {

class DigestCallAuthorizer final : public CallAuthorizer {
 public:
  // All borrowed; they must outlive the authorizer.
  // `redis` is the client of the guard's ban and limit and of the nonce counts.
  DigestCallAuthorizer(const RequestAuthenticator& authenticator, const AdminLookups& admin,
                       const AuthGuard& guard, redis::Client& redis,
                       core::MetricsRegistry& metrics);

  AuthOutcome Authorize(const sip::Message& invite, const std::string& entry) override;
  std::optional<AuthOutcome> ChallengeOnLoop(const sip::Message& invite,
                                             const std::string& entry) override;

 private:
  const RequestAuthenticator& authenticator_;
  const AdminLookups& admin_;
  const AuthGuard& guard_;
  redis::Client& redis_;
  core::CounterMetric& loop_challenges_;
};

}  // namespace sb::signaling::b2bua
