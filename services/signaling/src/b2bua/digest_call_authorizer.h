// DigestCallAuthorizer: the B2BUA's CallAuthorizer on reg's RequestAuthenticator (digest, 407 +
// Proxy-Authenticate, RFC 3261 §22.3) and admin's credential lookup over NATS. The realm is the
// caller's domain (From); an authenticated caller is its tenant and extension number. The
// registrar's ban and per-account limit (AuthGuard) apply as they do to REGISTER: a banned source
// gets 403 before any lookup, and a failed INVITE authentication counts towards its ban.
// An INVITE without credentials whose source address is among a trunk's inbound sources is the
// carrier of that trunk: it is not challenged, the caller is the trunk's tenant and the From
// number.
//
//   sb::signaling::b2bua::DigestCallAuthorizer authorizer(authenticator, admin, guard);
//   sb::signaling::b2bua::Ports ports{authorizer, router, locator, media, events, store};
//
// Authorize blocks on admin and on the nonce tracker (run it offloaded, as the B2BUA does).
// Thread-safe as RequestAuthenticator and AdminLookups are.
#pragma once

#include "auth/request_authenticator.h"
#include "b2bua/ports.h"
#include "protection/auth_guard.h"
#include "rpc/admin_lookups.h"

namespace sb::signaling::b2bua {

class DigestCallAuthorizer final : public CallAuthorizer {
 public:
  // All borrowed; they must outlive the authorizer.
  DigestCallAuthorizer(const RequestAuthenticator& authenticator, const AdminLookups& admin,
                       const AuthGuard& guard)
      : authenticator_(authenticator), admin_(admin), guard_(guard) {}

  AuthOutcome Authorize(const sip::Message& invite, const sip::Destination& source) override;

 private:
  const RequestAuthenticator& authenticator_;
  const AdminLookups& admin_;
  const AuthGuard& guard_;
};

}  // namespace sb::signaling::b2bua
