#include "auth/request_authenticator.h"

#include "switchboard/core/ascii.h"

namespace sb::signaling {
namespace {

// Whether the SIP URI of `header` has the user `username`: as written, escapes kept, which is how
// admin holds a SIP username that needs them (a NUL has no other way in: "null-%00-null"), or
// unescaped ("sip:%31001@..." is 1001's, §19.1.4). An escaped username never names the user it
// unescapes to: "%31001" is not 1001, whose registrations it would otherwise reach.
bool UserIs(const Result<const sip::NameAddr*>& header, std::string_view username) {
  if (!header.ok() || !(*header)->uri.is_sip() || !(*header)->uri.has_user) return false;
  const sip::Uri& uri = (*header)->uri;
  return uri.user == username || uri.UserUnescaped() == username;
}

}  // namespace

int RequestAuthenticator::ChallengeCode(const sip::Message& request) {
  return request.method() == sip::Method::kRegister ? 401 : 407;
}

std::string_view RequestAuthenticator::ChallengeHeader(const sip::Message& request) {
  return request.method() == sip::Method::kRegister ? "WWW-Authenticate" : "Proxy-Authenticate";
}

std::string_view RequestAuthenticator::CredentialsHeader(const sip::Message& request) {
  return request.method() == sip::Method::kRegister ? "Authorization" : "Proxy-Authorization";
}

bool RequestAuthenticator::ClaimsUser(const sip::Message& request, std::string_view username) {
  if (request.method() != sip::Method::kRegister) return UserIs(request.From(), username);
  // No third-party registration: the From of a REGISTER names the same user (§10.2).
  return UserIs(request.To(), username) && UserIs(request.From(), username);
}

std::string RealmOf(const sip::Message& request) {
  auto header = request.method() == sip::Method::kRegister ? request.To() : request.From();
  if (!header.ok() || !(*header)->uri.is_sip()) return {};
  return core::AsciiLowered((*header)->uri.host);
}

std::optional<sip::DigestCredentials> RequestAuthenticator::FindCredentials(
    const sip::Message& request, std::string_view realm) const {
  const sip::HeaderId id = request.method() == sip::Method::kRegister
                               ? sip::HeaderId::kAuthorization
                               : sip::HeaderId::kProxyAuthorization;
  for (size_t i = 0; i < request.header_count(); ++i) {
    sip::HeaderField field = request.header(i);
    if (field.id != id) continue;
    // Credentials for another realm (a proxy further on) or in another scheme are not ours to
    // judge; unparsable ones are treated as absent so the client gets a fresh challenge.
    auto parsed = sip::ParseCredentials(field.value);
    if (parsed.ok() && parsed->realm == realm) return std::move(*parsed);
  }
  return std::nullopt;
}

AuthDecision RequestAuthenticator::Challenge(const sip::Message& request, std::string_view realm,
                                             bool stale) const {
  AuthDecision d;
  d.outcome = AuthDecision::Outcome::kChallenge;
  d.code = ChallengeCode(request);
  d.reason = d.code == 401 ? "Unauthorized" : "Proxy Authentication Required";
  const std::string header(ChallengeHeader(request));
  // MD5 first: RFC 8760 clients pick the strongest challenge they support wherever it is listed
  // (§2.4), but older clients answer the first one only, and sipp 3.6 and many deployed phones
  // fail on a first SHA-256 challenge. Listing MD5 first costs a compliant client nothing.
  // One nonce for both, as in RFC 7616's example (§3.9.1): a nonce names no algorithm, and
  // signing one costs half of signing two.
  sip::DigestChallenge challenge = server_.Challenge(realm, sip::DigestAlgorithm::kMd5, stale);
  if (options_.offer_md5) d.headers.emplace_back(header, sip::FormatChallenge(challenge));
  if (options_.offer_sha256) {
    challenge.algorithm = sip::DigestAlgorithm::kSha256;
    d.headers.emplace_back(header, sip::FormatChallenge(challenge));
  }
  return d;
}

AuthDecision RequestAuthenticator::Forbidden(std::string reason, bool failure) const {
  AuthDecision d;
  d.outcome = AuthDecision::Outcome::kForbidden;
  d.code = 403;
  d.reason = std::move(reason);
  d.failure = failure;
  return d;
}

AuthDecision RequestAuthenticator::Unavailable(std::string reason) const {
  AuthDecision d;
  d.outcome = AuthDecision::Outcome::kUnavailable;
  d.code = 503;
  d.reason = std::move(reason);
  d.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
  return d;
}

AuthDecision RequestAuthenticator::Verify(const sip::Message& request, std::string_view realm,
                                          const sip::DigestCredentials& presented,
                                          const Result<ExtensionCredentials>& looked_up) const {
  // A phone may only act as itself: checked first, since no password makes it right.
  if (!ClaimsUser(request, presented.username)) {
    return Forbidden("Forbidden (not the authenticated user)", true);
  }

  if (!looked_up.ok()) {
    if (looked_up.status().code() == StatusCode::kNotFound) {
      // Unknown user and wrong password answer alike so that users cannot be enumerated.
      return Forbidden("Forbidden", true);
    }
    return Unavailable("Service Unavailable");
  }

  auto algorithm = presented.algorithm ? sip::ParseAlgorithm(*presented.algorithm)
                                       : std::optional(sip::DigestAlgorithm::kMd5);
  std::string_view ha1;
  if (algorithm && sip::BaseAlgorithm(*algorithm) == sip::DigestAlgorithm::kMd5 &&
      options_.offer_md5) {
    ha1 = looked_up->ha1_md5;
  } else if (algorithm && sip::BaseAlgorithm(*algorithm) == sip::DigestAlgorithm::kSha256 &&
             options_.offer_sha256) {
    ha1 = looked_up->ha1_sha256;
  }
  // An algorithm we did not offer, or one admin holds no HA1 for: offer what we do support.
  if (ha1.empty()) return Challenge(request, realm);

  const sip::DigestVerdict verdict = server_.Verify(
      presented, realm, request.method_text(), request.request_uri_text(), request.body(), ha1);
  if (verdict != sip::DigestVerdict::kOk) return Refused(request, realm, verdict);

  // The password was right: what follows is policy, not a guess, so it is not a failure.
  AuthDecision out;
  if (looked_up->tenant_suspended) {
    out = Forbidden("Forbidden (tenant suspended)", false);
    out.username = presented.username;
    out.credentials = *looked_up;
  } else if (!looked_up->enabled) {
    out = Forbidden("Forbidden (extension disabled)", false);
  } else {
    out.outcome = AuthDecision::Outcome::kAuthenticated;
    out.code = 0;
    out.username = presented.username;
    out.credentials = *looked_up;
  }
  return out;
}

AuthDecision RequestAuthenticator::Refused(const sip::Message& request, std::string_view realm,
                                           sip::DigestVerdict verdict) const {
  switch (verdict) {
    case sip::DigestVerdict::kOk:
      break;  // not a refusal: callers never pass it
    case sip::DigestVerdict::kStale:
      return Challenge(request, realm, /*stale=*/true);
    case sip::DigestVerdict::kWrongResponse:
      return Forbidden("Forbidden", true);
    case sip::DigestVerdict::kBadNonce:
    case sip::DigestVerdict::kWrongRealm:
    case sip::DigestVerdict::kUnsupported:
      // Not a password guess: a nonce from before a secret change, or a client that picked
      // something we did not offer. A fresh challenge lets an honest client recover.
      return Challenge(request, realm);
    case sip::DigestVerdict::kWrongUri: {
      AuthDecision d;
      d.outcome = AuthDecision::Outcome::kBadRequest;
      d.code = 400;
      d.reason = "Bad Request (digest uri is not the Request-URI)";
      return d;
    }
    case sip::DigestVerdict::kMalformed:
      break;
  }
  AuthDecision d;
  d.outcome = AuthDecision::Outcome::kBadRequest;
  d.code = 400;
  d.reason = "Bad Request (malformed credentials)";
  return d;
}

}  // namespace sb::signaling
