// Admission against the shared Redis, as the registrar and the B2BUA use it: the ban and the
// account's count of one request go in one pipeline after its credentials were checked (and their
// nonce count spent, in the digest server's memory), and the answer keeps the order of precedence
// of checks made one by one (banned 403, then the account's 503, then the digest's own answer),
// with the same side effects: a banned source does not use up the account's allowance, a refused
// request counts no failure.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "auth/request_authenticator.h"
#include "protection/admission.h"
#include "protection/clear_sources.h"
#include "switchboard/core/clock.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/digest_server.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using namespace sb::signaling;

constexpr std::string_view kRealm = "acme.sip.test";
constexpr std::string_view kPassword = "s3cret-1001";

sb::redis::ClientOptions SharedOptions() {
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url,
                                           sb::testing::UniqueName("admission") + ":");
  REQUIRE(options.ok());
  return *options;
}

sb::sip::Message Register(std::string_view authorization = {}) {
  std::string m = "REGISTER sip:acme.sip.test SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKreg1\r\nMax-Forwards: 70\r\n";
  m += "From: <sip:1001@acme.sip.test>;tag=1\r\nTo: <sip:1001@acme.sip.test>\r\n";
  m += "Call-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@192.0.2.7:5060>\r\n";
  if (!authorization.empty()) m += "Authorization: " + std::string(authorization) + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  auto parsed = sb::sip::Message::Parse(m);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

ExtensionCredentials Stored() {
  ExtensionCredentials c;
  c.tenant = sb::TenantId("0190d1d2-0000-7000-8000-000000000001");
  c.extension_id = "ext-1001";
  c.extension_number = "1001";
  c.ha1_md5 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "1001", kRealm, kPassword);
  c.enabled = true;
  return c;
}

// What a request met: a refusal of the guard's checks, or the digest's decision.
struct Admitted {
  std::optional<AuthRefusal> refused;
  AuthDecision decision;
};

struct Rig {
  explicit Rig(sb::redis::ClientOptions options = SharedOptions()) : redis(std::move(options)) {}

  sb::core::SystemClock clock;
  sb::core::SeededRandom random{11};
  sb::redis::Client redis;
  sb::sip::DigestServer server{clock, random,
                               sb::sip::DigestServerOptions{
                                   .secret = "0123456789abcdef0123456789abcdef",
                                   .nonce_lifetime = 300s,
                                   .qop = {sb::sip::Qop::kAuth},
                                   .allow_no_qop = false,
                               }};
  RequestAuthenticator auth{server, {.offer_sha256 = false}};
  AuthFailureBan ban{redis, {.max_failures = 2, .window = 60s, .ban_for = 60s}};
  AccountRateLimit limit{redis, {.max_requests = 2, .window = 60s}};
  sb::core::Logger log{"admission-test"};
  ClearSources clear{clock, 60s};
  AuthGuard guard{&ban, &limit, log, &clear};
  const std::string nonce = server.MakeNonce(kRealm);

  // A REGISTER answering this rig's nonce with count `nc`.
  sb::sip::Message Answered(uint32_t nc, std::string_view password = kPassword) {
    sb::sip::DigestChallenge challenge = server.Challenge(kRealm, sb::sip::DigestAlgorithm::kMd5);
    challenge.nonce = nonce;
    auto bare = Register();
    auto credentials = sb::sip::AnswerChallenge(
        challenge, {.username = "1001", .password = std::string(password), .ha1 = {}},
        bare.method_text(), bare.request_uri_text(), "", "c0ffee", nc);
    REQUIRE(credentials.ok());
    return Register(sb::sip::FormatCredentials(*credentials));
  }

  // The handlers' sequence: checks queued, the credentials checked, one round trip.
  Admitted Admit(const sb::sip::Message& request, std::string_view source = "192.0.2.7") {
    Admission admission(redis, guard, std::string(source));
    auto presented = auth.FindCredentials(request, kRealm);
    REQUIRE(presented);
    admission.CountAccount(kRealm, presented->username);
    AuthDecision decision = auth.Verify(request, kRealm, *presented, Stored());
    if (auto refused = admission.Send()) return {std::move(refused), {}};
    guard.Record(source, decision.failure);
    return {std::nullopt, std::move(decision)};
  }

  // The key's time to live in ms (-1: none, -2: no key).
  int64_t Pttl(const std::string& key) {
    auto reply = redis.Run(sb::redis::Command("PTTL").Key(key));
    REQUIRE(reply.ok());
    return reply->integer().value_or(-3);
  }

  bool Exists(const std::string& key) {
    auto reply = redis.Run(sb::redis::Command("EXISTS").Key(key));
    REQUIRE(reply.ok());
    return reply->integer() == 1;
  }
};

bool SaysStale(const AuthDecision& d) {
  if (d.code != 401 || d.headers.empty()) return false;
  auto challenge = sb::sip::ParseChallenge(d.headers.front().second);
  return challenge.ok() && challenge->stale;
}

const std::string kAccountKey = "acctrate:acme.sip.test:1001";

}  // namespace

TEST_CASE("a right password is admitted in one round trip - its nonce count only once", "[redis]") {
  Rig rig;
  auto first = rig.Admit(rig.Answered(1));
  REQUIRE_FALSE(first.refused);
  CHECK(first.decision.authenticated());
  CHECK(first.decision.credentials->extension_id == "ext-1001");
  CHECK(rig.Exists(kAccountKey));

  auto replayed = rig.Admit(rig.Answered(1));
  REQUIRE_FALSE(replayed.refused);
  CHECK(SaysStale(replayed.decision));
  CHECK_FALSE(replayed.decision.failure);  // a replayed count is no password guess
}

TEST_CASE("a banned source gets 403 before its stale nonce count - the account is not charged",
          "[redis]") {
  Rig rig;
  REQUIRE(rig.Admit(rig.Answered(1)).decision.authenticated());  // count 1 is spent
  REQUIRE(rig.redis.Run(sb::redis::Command("DEL").Key(kAccountKey)).ok());
  for (int i = 0; i < 2; ++i) REQUIRE(rig.ban.RecordFailure("192.0.2.66").ok());

  auto banned = rig.Admit(rig.Answered(1), "192.0.2.66");
  REQUIRE(banned.refused);
  CHECK(banned.refused->code == 403);
  CHECK(banned.refused->reason == "Forbidden (banned)");
  CHECK_FALSE(rig.Exists(kAccountKey));
  // Another source with the same stale count is re-challenged, as one check at a time would.
  auto other = rig.Admit(rig.Answered(1), "192.0.2.67");
  REQUIRE_FALSE(other.refused);
  CHECK(SaysStale(other.decision));
}

TEST_CASE(
    "a source known clear is counted without the ban's condition - the count's window is "
    "kept: one the key lacks is set, one it has is not moved",
    "[redis]") {
  Rig rig;
  REQUIRE(rig.Admit(rig.Answered(1)).decision.authenticated());  // the ban check marks it clear
  REQUIRE(rig.clear.IsKnownClear("192.0.2.7"));
  // A count without an expiry: the script sets one only on a new key, the plain commands on any.
  REQUIRE(rig.redis.Run(sb::redis::Command("SET").Key(kAccountKey).Arg("1")).ok());
  REQUIRE(rig.Pttl(kAccountKey) == -1);

  REQUIRE(rig.Admit(rig.Answered(2)).decision.authenticated());
  const int64_t window = rig.Pttl(kAccountKey);
  CHECK(window > 0);
  CHECK(window <= 60000);
  REQUIRE(rig.redis.Run(sb::redis::Command("PEXPIRE").Key(kAccountKey).Arg("30000")).ok());
  auto third = rig.Admit(rig.Answered(3));
  REQUIRE(third.refused);
  CHECK(third.refused->code == 503);  // 3 over the limit of 2: counted, then refused
  CHECK(rig.Pttl(kAccountKey) <= 30000);
  auto count = rig.redis.Run(sb::redis::Command("GET").Key(kAccountKey));
  REQUIRE(count.ok());
  CHECK(*count->str() == "3");
}

TEST_CASE(
    "a ban another replica set for a source known clear here - refused 403 and charged to the "
    "account once - the ban seen, its next request is not charged",
    "[redis]") {
  Rig rig;
  REQUIRE(rig.Admit(rig.Answered(1)).decision.authenticated());
  REQUIRE(rig.redis.Run(sb::redis::Command("DEL").Key(kAccountKey)).ok());
  for (int i = 0; i < 2; ++i) REQUIRE(rig.ban.RecordFailure("192.0.2.7").ok());  // elsewhere

  auto banned = rig.Admit(rig.Answered(2));
  REQUIRE(banned.refused);
  CHECK(banned.refused->code == 403);
  CHECK(rig.Exists(kAccountKey));
  CHECK_FALSE(rig.clear.IsKnownClear("192.0.2.7"));
  REQUIRE(rig.redis.Run(sb::redis::Command("DEL").Key(kAccountKey)).ok());
  auto again = rig.Admit(rig.Answered(3));
  REQUIRE(again.refused);
  CHECK(again.refused->code == 403);
  CHECK_FALSE(rig.Exists(kAccountKey));
}

TEST_CASE("an account over its limit gets 503 before a wrong password - no failure is counted",
          "[redis]") {
  Rig rig;
  REQUIRE(rig.Admit(rig.Answered(1)).decision.authenticated());
  REQUIRE(rig.Admit(rig.Answered(2)).decision.authenticated());

  auto limited = rig.Admit(rig.Answered(3, "guess"));
  REQUIRE(limited.refused);
  CHECK(limited.refused->code == 503);
  CHECK(limited.refused->headers ==
        std::vector<std::pair<std::string, std::string>>{{"Retry-After", "60"}});
  CHECK_FALSE(rig.Exists(AuthFailureBan::FailuresKey("192.0.2.7")));
}

TEST_CASE("a wrong password within the limit is 403 and counts towards the source's ban",
          "[redis]") {
  Rig rig;
  auto wrong = rig.Admit(rig.Answered(1, "guess"));
  REQUIRE_FALSE(wrong.refused);
  CHECK(wrong.decision.code == 403);
  CHECK(wrong.decision.failure);
  CHECK(rig.Exists(AuthFailureBan::FailuresKey("192.0.2.7")));
  // The wrong guess did not spend the count: the right password still gets it.
  CHECK(rig.Admit(rig.Answered(1)).decision.authenticated());
}

TEST_CASE("a Redis that is down refuses 503 and never admits", "[redis]") {
  auto server = sb::testing::RedisServer::Start();
  auto options = sb::redis::OptionsFromUrl(server.url(), "sig:");
  REQUIRE(options.ok());
  Rig rig(*options);
  auto request = rig.Answered(1);
  server.Kill();
  auto down = rig.Admit(request);
  REQUIRE(down.refused);
  CHECK(down.refused->code == 503);
}
