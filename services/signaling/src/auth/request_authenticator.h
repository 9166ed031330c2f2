// RequestAuthenticator: SIP digest authentication of any request a phone sends (RFC 3261 §22,
// RFC 7616, RFC 8760). REGISTER is challenged with 401 + WWW-Authenticate, every other method with
// 407 + Proxy-Authenticate (this node is the phone's proxy, §22.3). Each challenge offers MD5 and
// SHA-256 (RFC 8760; MD5 listed first for clients that only read the first challenge), qop=auth,
// with an HMAC nonce that expires and whose nonce count the issuing replica tracks in memory
// (sip::DigestServer), so no replay is accepted anywhere. Verification uses the HA1 admin
// stores (never a clear password); the realm is the tenant's SIP domain; the authenticated user
// must be the user the request claims (To and From of a REGISTER, From of anything else; the URI
// user as written or unescaped, so that a username with escapes such as "null-%00-null" works),
// otherwise 403.
//
// The decision logic is pure; the blocking part (admin's credential lookup, when its answer is not
// cached) runs off the SIP loop through the Offloader. A handler's flow:
//
//   // On the loop thread, in RequestHandler::OnRequest:
//   std::string realm = RealmOf(*request.message);           // the domain the caller claims
//   auto presented = auth.FindCredentials(*request.message, realm);
//   if (!presented) return Answer(endpoint, request.key, auth.Challenge(*request.message, realm));
//   auto message = std::make_shared<sb::sip::Message>(request.message->Clone());
//   auto decision = std::make_shared<AuthDecision>();
//   sb::Status queued = offloader.Run(
//       [=, &admin, &auth] {                                 // a worker thread: may block
//         auto looked_up = admin.Credentials(realm, presented->username);
//         *decision = auth.Verify(*message, realm, *presented, looked_up);
//       },
//       [=, &endpoint] {                                     // back on the loop thread
//         if (!decision->authenticated()) return Answer(endpoint, key, *decision);
//         Continue(*message, decision->credentials);         // tenant, extension ...
//       });
//   if (!queued.ok()) endpoint.Respond(request.key, 503);
//
// where Answer is endpoint.Respond(key, d.code, d.reason, d.headers).
//
// Thread-safety: const methods may run concurrently (DigestServer is thread-safe).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rpc/admin_lookups.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/digest_server.h"
#include "switchboard/sip/message.h"

namespace sb::signaling {

struct AuthDecision {
  enum class Outcome {
    kAuthenticated,
    kChallenge,    // 401/407: no usable credentials yet, or a stale nonce
    kForbidden,    // 403: wrong password, unknown or disabled user, another user's identity
    kBadRequest,   // 400: credentials that cannot be checked (no cnonce, uri mismatch)
    kUnavailable,  // 503: admin did not answer
  };
  Outcome outcome = Outcome::kUnavailable;
  int code = 503;  // 0 when authenticated
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // challenges, Retry-After
  // True when the attempt counts against the source (protection/auth_failure_ban.h): someone
  // presented credentials that are wrong. A first request without credentials is not one.
  bool failure = false;
  // Who was authenticated (set for kAuthenticated, and for a kForbidden suspended tenant).
  std::string username;
  std::optional<ExtensionCredentials> credentials;

  bool authenticated() const { return outcome == Outcome::kAuthenticated; }
};

struct AuthenticatorOptions {
  bool offer_sha256 = true;
  bool offer_md5 = true;  // most deployed phones still only do MD5
  // Seconds a client waits before retrying after a 503 (admin or Redis away).
  int retry_after_seconds = 5;
};

class RequestAuthenticator {
 public:
  // `server` is borrowed; its options should offer qop auth (DigestServerOptions::qop).
  RequestAuthenticator(const sip::DigestServer& server, AuthenticatorOptions options = {})
      : server_(server), options_(options) {}

  // 401 for REGISTER, 407 for the rest.
  static int ChallengeCode(const sip::Message& request);
  // "WWW-Authenticate" / "Proxy-Authenticate", and the header the answer comes back in.
  static std::string_view ChallengeHeader(const sip::Message& request);
  static std::string_view CredentialsHeader(const sip::Message& request);

  // The Digest credentials of `request` for `realm` (a client may send several, one per realm),
  // or nullopt when there are none to check: the caller then answers Challenge().
  std::optional<sip::DigestCredentials> FindCredentials(const sip::Message& request,
                                                        std::string_view realm) const;

  // A fresh challenge for `realm`, one header per offered algorithm, MD5 first.
  AuthDecision Challenge(const sip::Message& request, std::string_view realm,
                         bool stale = false) const;

  // Checks `presented` (from FindCredentials) against what admin answered for its username, and
  // spends the nonce count when the password is right. No I/O.
  AuthDecision Verify(const sip::Message& request, std::string_view realm,
                      const sip::DigestCredentials& presented,
                      const Result<ExtensionCredentials>& looked_up) const;

  // Whether `request` claims to come from `username` (To and From of a REGISTER, From
  // otherwise): its SIP URI user is `username` as written (escapes kept) or unescaped; false when
  // the header is missing or not a SIP URI.
  static bool ClaimsUser(const sip::Message& request, std::string_view username);

 private:
  // The decision for a verdict other than kOk.
  AuthDecision Refused(const sip::Message& request, std::string_view realm,
                       sip::DigestVerdict verdict) const;
  AuthDecision Forbidden(std::string reason, bool failure) const;
  AuthDecision Unavailable(std::string reason) const;

  const sip::DigestServer& server_;
  AuthenticatorOptions options_;
};

// The realm a request is authenticated in: the lower-cased host of its To URI for REGISTER (the
// domain registered to) and of its From URI otherwise (the caller's domain). Empty when absent.
std::string RealmOf(const sip::Message& request);

}  // namespace sb::signaling
