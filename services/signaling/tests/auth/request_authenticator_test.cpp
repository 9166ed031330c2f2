// Digest authentication of requests (RFC 3261 §22, RFC 7616, RFC 8760) as the registrar and the
// B2BUA apply it: who gets challenged how, which answers pass, and which are refused, on a
// FakeClock with the in-memory nonce tracker.
#include "auth/request_authenticator.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "switchboard/core/clock.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/digest_server.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::AuthDecision;
using sb::signaling::ExtensionCredentials;
using sb::signaling::RequestAuthenticator;
using Outcome = sb::signaling::AuthDecision::Outcome;

constexpr std::string_view kRealm = "acme.sip.test";
constexpr std::string_view kPassword = "s3cret-1001";

sb::sip::Message Parse(const std::string& text) {
  auto parsed = sb::sip::Message::Parse(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

std::string Register(std::string_view to_user, std::string_view from_user,
                     std::string_view authorization = {}) {
  std::string m = "REGISTER sip:acme.sip.test SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKreg1\r\nMax-Forwards: 70\r\n";
  m += "From: <sip:" + std::string(from_user) + "@acme.sip.test>;tag=1\r\n";
  m += "To: <sip:" + std::string(to_user) + "@ACME.sip.test>\r\n";
  m += "Call-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@192.0.2.7:5060>\r\n";
  if (!authorization.empty()) m += "Authorization: " + std::string(authorization) + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

std::string Invite(std::string_view from_user, std::string_view proxy_authorization = {}) {
  std::string m = "INVITE sip:1002@acme.sip.test SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKinv1\r\nMax-Forwards: 70\r\n";
  m += "From: <sip:" + std::string(from_user) + "@acme.sip.test>;tag=9\r\n";
  m += "To: <sip:1002@acme.sip.test>\r\nCall-ID: inv-1\r\nCSeq: 1 INVITE\r\n";
  m += "Contact: <sip:1001@192.0.2.7:5060>\r\n";
  if (!proxy_authorization.empty()) {
    m += "Proxy-Authorization: " + std::string(proxy_authorization) + "\r\n";
  }
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

ExtensionCredentials Stored(std::string_view user = "1001", std::string_view password = kPassword) {
  ExtensionCredentials c;
  c.tenant = sb::TenantId("0190d1d2-0000-7000-8000-000000000001");
  c.extension_id = "ext-1001";
  c.extension_number = std::string(user);
  c.ha1_md5 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, user, kRealm, password);
  c.ha1_sha256 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, user, kRealm, password);
  c.enabled = true;
  return c;
}

struct Fixture {
  sb::core::FakeClock clock;
  sb::core::SeededRandom random{7};
  sb::sip::DigestServer server{clock, random,
                               sb::sip::DigestServerOptions{
                                   .secret = "0123456789abcdef0123456789abcdef",
                                   .nonce_lifetime = 300s,
                                   .qop = {sb::sip::Qop::kAuth},
                                   .allow_no_qop = true,
                               }};
  RequestAuthenticator auth{server};

  // The first challenge of `decision` using `algorithm`.
  sb::sip::DigestChallenge ChallengeFor(const AuthDecision& decision,
                                        sb::sip::DigestAlgorithm algorithm) {
    for (const auto& [name, value] : decision.headers) {
      auto c = sb::sip::ParseChallenge(value);
      REQUIRE(c.ok());
      if (c->algorithm == algorithm) return *c;
    }
    FAIL("no challenge for the algorithm");
    return {};
  }

  // A client answering the challenge of `request` as `user` with `password`.
  std::string Answer(const std::string& request_text, std::string_view user,
                     std::string_view password,
                     sb::sip::DigestAlgorithm algorithm = sb::sip::DigestAlgorithm::kMd5,
                     uint32_t nc = 1) {
    auto request = Parse(request_text);
    auto challenge = ChallengeFor(auth.Challenge(request, kRealm), algorithm);
    return Answer(challenge, request, user, password, nc);
  }
  std::string Answer(const sb::sip::DigestChallenge& challenge, const sb::sip::Message& request,
                     std::string_view user, std::string_view password, uint32_t nc) {
    auto credentials = sb::sip::AnswerChallenge(
        challenge, {.username = std::string(user), .password = std::string(password), .ha1 = {}},
        request.method_text(), request.request_uri_text(), "", "c0ffee", nc);
    REQUIRE(credentials.ok());
    return sb::sip::FormatCredentials(*credentials);
  }

  AuthDecision Check(const std::string& text, const sb::Result<ExtensionCredentials>& stored) {
    auto request = Parse(text);
    auto presented = auth.FindCredentials(request, kRealm);
    REQUIRE(presented.has_value());
    return auth.Verify(request, kRealm, *presented, stored);
  }
};

}  // namespace

TEST_CASE("a REGISTER without credentials gets 401 with MD5 then SHA-256 challenges", "[unit]") {
  Fixture f;
  auto request = Parse(Register("1001", "1001"));
  CHECK_FALSE(f.auth.FindCredentials(request, kRealm).has_value());
  auto d = f.auth.Challenge(request, kRealm);
  CHECK(d.outcome == Outcome::kChallenge);
  CHECK(d.code == 401);
  CHECK_FALSE(d.failure);
  REQUIRE(d.headers.size() == 2);
  CHECK(d.headers[0].first == "WWW-Authenticate");
  auto first = sb::sip::ParseChallenge(d.headers[0].second);
  auto second = sb::sip::ParseChallenge(d.headers[1].second);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->algorithm == sb::sip::DigestAlgorithm::kMd5);
  CHECK(second->algorithm == sb::sip::DigestAlgorithm::kSha256);
  // An RFC 8760 client still picks SHA-256.
  CHECK(sb::sip::PreferredChallenge({*first, *second}) == 1u);
  CHECK(first->realm == kRealm);
  CHECK(first->qop == std::vector<sb::sip::Qop>{sb::sip::Qop::kAuth});
  // One nonce for both (RFC 7616 §3.9.1's example): either answer is checked against it.
  CHECK(first->nonce == second->nonce);
}

TEST_CASE("an INVITE without credentials gets 407 with Proxy-Authenticate", "[unit]") {
  Fixture f;
  auto d = f.auth.Challenge(Parse(Invite("1001")), kRealm);
  CHECK(d.code == 407);
  CHECK(d.reason == "Proxy Authentication Required");
  REQUIRE(d.headers.size() == 2);
  CHECK(d.headers[0].first == "Proxy-Authenticate");
  CHECK(d.headers[1].first == "Proxy-Authenticate");
}

TEST_CASE("the right password with MD5 or SHA-256 authenticates against the stored HA1", "[unit]") {
  Fixture f;
  for (auto algorithm : {sb::sip::DigestAlgorithm::kMd5, sb::sip::DigestAlgorithm::kSha256}) {
    auto answer = f.Answer(Register("1001", "1001"), "1001", kPassword, algorithm);
    auto d = f.Check(Register("1001", "1001", answer), Stored());
    CHECK(d.authenticated());
    CHECK(d.code == 0);
    CHECK(d.username == "1001");
    REQUIRE(d.credentials.has_value());
    CHECK(d.credentials->extension_id == "ext-1001");
  }
}

TEST_CASE("an INVITE answered in Proxy-Authorization authenticates its From user", "[unit]") {
  Fixture f;
  auto answer = f.Answer(Invite("1001"), "1001", kPassword);
  CHECK(f.Check(Invite("1001", answer), Stored()).authenticated());
}

TEST_CASE("a wrong password is 403 and counts as a failure", "[unit]") {
  Fixture f;
  auto answer = f.Answer(Register("1001", "1001"), "1001", "guess");
  auto d = f.Check(Register("1001", "1001", answer), Stored());
  CHECK(d.outcome == Outcome::kForbidden);
  CHECK(d.code == 403);
  CHECK(d.failure);
}

TEST_CASE("an unknown user answers exactly like a wrong password", "[unit]") {
  Fixture f;
  auto answer = f.Answer(Register("1009", "1009"), "1009", kPassword);
  auto d = f.Check(Register("1009", "1009", answer), sb::Status::NotFound("no such extension"));
  CHECK(d.code == 403);
  CHECK(d.reason == "Forbidden");
  CHECK(d.failure);
}

TEST_CASE("admin not answering is 503 with Retry-After and not a failure", "[unit]") {
  Fixture f;
  auto answer = f.Answer(Register("1001", "1001"), "1001", kPassword);
  auto d = f.Check(Register("1001", "1001", answer), sb::Status::Unavailable("admin timed out"));
  CHECK(d.outcome == Outcome::kUnavailable);
  CHECK(d.code == 503);
  CHECK_FALSE(d.failure);
  REQUIRE(d.headers.size() == 1);
  CHECK(d.headers[0].first == "Retry-After");
}

TEST_CASE("credentials of one user registering another AOR are 403", "[unit]") {
  Fixture f;
  // 1001 knows its own password and tries to take over 1002's registrations.
  auto answer = f.Answer(Register("1002", "1001"), "1001", kPassword);
  auto d = f.Check(Register("1002", "1001", answer), Stored());
  CHECK(d.code == 403);
  CHECK(d.failure);
  // Nor may a REGISTER for 1001 come From 1002 (third-party registration).
  auto third_party = f.Answer(Register("1001", "1002"), "1001", kPassword);
  CHECK(f.Check(Register("1001", "1002", third_party), Stored()).code == 403);
  // An INVITE must come From the authenticated user.
  auto invite = f.Answer(Invite("1002"), "1001", kPassword);
  CHECK(f.Check(Invite("1002", invite), Stored()).code == 403);
}

TEST_CASE("a SIP username with escapes authenticates the AOR written with them", "[unit]") {
  Fixture f;
  // RFC 4475 §3.1.1.4: admin holds the user "null-%00-null" as written (it cannot hold a NUL).
  const std::string user = "null-%00-null";
  auto answer = f.Answer(Register(user, user), user, kPassword);
  auto d = f.Check(Register(user, user, answer), Stored(user));
  CHECK(d.authenticated());
  CHECK(d.username == user);
  // An escaped URI user still names the plain username it unescapes to (§19.1.4).
  auto escaped_aor = f.Answer(Register("%31001", "1001"), "1001", kPassword);
  CHECK(f.Check(Register("%31001", "1001", escaped_aor), Stored()).authenticated());
}

TEST_CASE("an escaped SIP username never registers the user it unescapes to", "[unit]") {
  Fixture f;
  // "%31001" is another extension than 1001: its password must not reach 1001's bindings.
  auto answer = f.Answer(Register("1001", "1001"), "%31001", kPassword);
  auto d = f.Check(Register("1001", "1001", answer), Stored("%31001"));
  CHECK(d.code == 403);
  CHECK(d.failure);
}

TEST_CASE("a replayed nonce count is re-challenged as stale / a higher one passes", "[unit]") {
  Fixture f;
  auto request = Parse(Register("1001", "1001"));
  auto challenge =
      f.ChallengeFor(f.auth.Challenge(request, kRealm), sb::sip::DigestAlgorithm::kMd5);
  auto first = f.Answer(challenge, request, "1001", kPassword, 1);
  CHECK(f.Check(Register("1001", "1001", first), Stored()).authenticated());
  auto replay = f.Check(Register("1001", "1001", first), Stored());
  CHECK(replay.outcome == Outcome::kChallenge);
  CHECK(replay.code == 401);
  CHECK_FALSE(replay.failure);
  REQUIRE_FALSE(replay.headers.empty());
  CHECK(sb::sip::ParseChallenge(replay.headers[0].second)->stale);
  auto second = f.Answer(challenge, request, "1001", kPassword, 2);
  CHECK(f.Check(Register("1001", "1001", second), Stored()).authenticated());
}

TEST_CASE("answering the other algorithm's challenge with a used nonce count is a replay",
          "[unit]") {
  Fixture f;
  auto request = Parse(Register("1001", "1001"));
  auto decision = f.auth.Challenge(request, kRealm);
  auto md5 = f.ChallengeFor(decision, sb::sip::DigestAlgorithm::kMd5);
  auto sha256 = f.ChallengeFor(decision, sb::sip::DigestAlgorithm::kSha256);
  auto first = f.Answer(md5, request, "1001", kPassword, 1);
  CHECK(f.Check(Register("1001", "1001", first), Stored()).authenticated());
  auto other = f.Answer(sha256, request, "1001", kPassword, 1);
  auto replay = f.Check(Register("1001", "1001", other), Stored());
  CHECK(replay.outcome == Outcome::kChallenge);
  CHECK_FALSE(replay.failure);
  auto next = f.Answer(sha256, request, "1001", kPassword, 2);
  CHECK(f.Check(Register("1001", "1001", next), Stored()).authenticated());
}

TEST_CASE("an expired nonce with the right password is re-challenged stale", "[unit]") {
  Fixture f;
  auto answer = f.Answer(Register("1001", "1001"), "1001", kPassword);
  f.clock.Advance(301s);
  auto d = f.Check(Register("1001", "1001", answer), Stored());
  CHECK(d.code == 401);
  CHECK(sb::sip::ParseChallenge(d.headers[0].second)->stale);
  CHECK_FALSE(d.failure);
}

TEST_CASE("a suspended tenant or disabled extension is 403 though the password is right",
          "[unit]") {
  Fixture f;
  auto suspended = Stored();
  suspended.tenant_suspended = true;
  auto d = f.Check(Register("1001", "1001", f.Answer(Register("1001", "1001"), "1001", kPassword)),
                   suspended);
  CHECK(d.code == 403);
  CHECK(d.reason == "Forbidden (tenant suspended)");
  CHECK_FALSE(d.failure);
  auto disabled = Stored();
  disabled.enabled = false;
  auto e = f.Check(Register("1001", "1001", f.Answer(Register("1001", "1001"), "1001", kPassword)),
                   disabled);
  CHECK(e.code == 403);
  CHECK(e.reason == "Forbidden (extension disabled)");
}

TEST_CASE("credentials for another realm are not ours to check", "[unit]") {
  Fixture f;
  auto answer = f.Answer(Register("1001", "1001"), "1001", kPassword);
  auto request = Parse(Register("1001", "1001", answer));
  CHECK_FALSE(f.auth.FindCredentials(request, "other.sip.test").has_value());
}

TEST_CASE("a nonce forged or from another secret is re-challenged without a failure", "[unit]") {
  Fixture f;
  sb::core::FakeClock other_clock;
  sb::core::SeededRandom other_random{9};
  sb::sip::DigestServer other{other_clock,
                              other_random,
                              {.secret = "another-secret-another-secret!!",
                               .nonce_lifetime = 300s,
                               .qop = {sb::sip::Qop::kAuth},
                               .allow_no_qop = true}};
  auto request = Parse(Register("1001", "1001"));
  auto foreign = other.Challenge(kRealm, sb::sip::DigestAlgorithm::kMd5);
  auto d =
      f.Check(Register("1001", "1001", f.Answer(foreign, request, "1001", kPassword, 1)), Stored());
  CHECK(d.code == 401);
  CHECK_FALSE(d.failure);
}

TEST_CASE("the digest uri must be the Request-URI", "[unit]") {
  Fixture f;
  auto request = Parse(Register("1001", "1001"));
  auto challenge =
      f.ChallengeFor(f.auth.Challenge(request, kRealm), sb::sip::DigestAlgorithm::kMd5);
  auto credentials = sb::sip::AnswerChallenge(
      challenge, {.username = "1001", .password = std::string(kPassword), .ha1 = {}}, "REGISTER",
      "sip:elsewhere.sip.test", "", "c0ffee", 1);
  REQUIRE(credentials.ok());
  auto d = f.Check(Register("1001", "1001", sb::sip::FormatCredentials(*credentials)), Stored());
  CHECK(d.code == 400);
}

TEST_CASE("the realm is the To domain of a REGISTER and the From domain otherwise", "[unit]") {
  CHECK(sb::signaling::RealmOf(Parse(Register("1001", "1001"))) == "acme.sip.test");
  CHECK(sb::signaling::RealmOf(Parse(Invite("1001"))) == "acme.sip.test");
}
