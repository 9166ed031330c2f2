// DigestCallAuthorizer with reg's RequestAuthenticator and AdminLookups on a real nats-server
// where no admin answers: an INVITE without credentials might come from a carrier trunk, so it
// waits for admin's trunk lookup; one with credentials waits for admin's credentials. Either is
// refused 503 with Retry-After by the deadline when admin does not answer -- never a hang, never
// a pass (challenges and trunks with a real admin: routing_itest). The ban and the
// per-account limit live in the shared Redis, as the registrar's do: a source banned there gets
// 403 on INVITE before any challenge, an account over its limit 503 before admin is asked.
// ChallengeOnLoop gives the 407 without blocking only when memory says Authorize would: the
// source found not banned by Redis moments ago, and no trunk's by the node's admin cache.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "b2bua/digest_call_authorizer.h"
#include "protection/admission.h"
#include "rpc/admin_lookup_cache.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/core/clock.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/digest_server.h"
#include "switchboard/testing/servers.h"

namespace {

sb::redis::ClientOptions RedisOptions() {
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url,
                                           sb::testing::UniqueName("invite-guard") + ":");
  REQUIRE(options.ok());
  return *options;
}

using namespace std::chrono_literals;
using namespace sb::signaling;

const std::string kPhone = "127.0.0.30";  // where the INVITEs entered

sb::sip::Message Invite(std::string_view credentials = {}) {
  std::string m =
      "INVITE sip:1002@acme.sb.test SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKauth1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n"
      "To: <sip:1002@acme.sb.test>\r\nCall-ID: auth-1\r\nCSeq: 1 INVITE\r\n"
      "Contact: <sip:1001@10.1.1.1:5060>\r\n";
  if (!credentials.empty()) m += "Proxy-Authorization: " + std::string(credentials) + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  auto parsed = sb::sip::Message::Parse(m);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

struct Rig {
  sb::testing::NatsServer nats = sb::testing::NatsServer::Start();
  std::unique_ptr<sb::bus::NatsBus> bus;
  sb::core::SystemClock clock;
  sb::core::SeededRandom random{3};
  sb::sip::DigestServer server{clock, random,
                               sb::sip::DigestServerOptions{
                                   .secret = "0123456789abcdef0123456789abcdef",
                                   .nonce_lifetime = 300s,
                                   .qop = {sb::sip::Qop::kAuth},
                                   .allow_no_qop = true,
                               }};
  RequestAuthenticator authenticator{server};
  std::unique_ptr<AdminLookups> admin;
  sb::redis::Client redis{RedisOptions()};
  AuthFailureBan ban{redis, {.max_failures = 3, .window = 60s, .ban_for = 60s}};
  AccountRateLimit account_limit{redis, {.max_requests = 1, .window = 60s}};
  sb::core::Logger log{"digest-call-authorizer-test"};
  ClearSources clear{clock, 2s};
  AuthGuard guard{&ban, &account_limit, log, &clear};
  AdminLookupCache cache{clock, 60s};
  sb::core::MetricsRegistry metrics;
  std::unique_ptr<b2bua::DigestCallAuthorizer> authorizer;
  Rig() {
    sb::bus::NatsBusOptions options;
    options.url = nats.url();
    options.name = "authorizer-test";
    auto connected = sb::bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    admin = std::make_unique<AdminLookups>(*bus, 300ms, &cache);
    authorizer =
        std::make_unique<b2bua::DigestCallAuthorizer>(authenticator, *admin, guard, redis, metrics);
  }
  // The source's ban check alone, as a handler's Admission sends it first.
  std::optional<AuthRefusal> CheckSource(const std::string& host) {
    return Admission(redis, guard, host).Send();
  }
  double LoopChallenges() {
    return metrics.Counter("sb_signaling_invite_loop_challenges_total", "").value();
  }
};

}  // namespace

TEST_CASE("an INVITE without credentials when admin does not answer - 503 by the deadline",
          "[natstest]") {
  Rig rig;
  const auto started = std::chrono::steady_clock::now();
  auto out = rig.authorizer->Authorize(Invite(), kPhone);
  CHECK(out.code == 503);
  CHECK(out.headers == std::vector<std::pair<std::string, std::string>>{{"Retry-After", "5"}});
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("credentials when admin does not answer - 503 by the deadline", "[natstest]") {
  Rig rig;
  auto challenge = rig.authenticator.Challenge(Invite(), "acme.sb.test");
  REQUIRE(challenge.code == 407);
  sb::sip::DigestChallenge parsed;
  bool found = false;
  for (const auto& [name, value] : challenge.headers) {
    auto c = sb::sip::ParseChallenge(value);
    REQUIRE(c.ok());
    if (c->algorithm == sb::sip::DigestAlgorithm::kMd5) {
      parsed = *c;
      found = true;
    }
  }
  REQUIRE(found);
  sb::sip::Message bare = Invite();
  auto answer =
      sb::sip::AnswerChallenge(parsed, {.username = "1001", .password = "pw", .ha1 = {}},
                               bare.method_text(), bare.request_uri_text(), "", "c0ffee", 1);
  REQUIRE(answer.ok());
  const auto started = std::chrono::steady_clock::now();
  auto out = rig.authorizer->Authorize(Invite(sb::sip::FormatCredentials(*answer)), kPhone);
  CHECK(out.code == 503);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE(
    "a source banned for authentication failures gets 403 on INVITE before any challenge - "
    "another source is not",
    "[natstest]") {
  Rig rig;
  // Failures counted by the registrar (or by earlier INVITEs) in the shared Redis.
  for (int i = 0; i < 3; ++i) REQUIRE(rig.ban.RecordFailure(kPhone).ok());
  auto banned = rig.authorizer->Authorize(Invite(), kPhone);
  CHECK(banned.code == 403);
  CHECK(banned.reason == "Forbidden (banned)");
  CHECK(banned.headers.empty());
  auto other = rig.authorizer->Authorize(Invite(), "127.0.0.31");
  CHECK(other.code == 503);  // not banned: it waited for admin's trunk lookup
}

TEST_CASE("an account over its INVITE limit gets 503 with Retry-After before admin is asked",
          "[natstest]") {
  Rig rig;
  const std::string credentials =
      "Digest username=\"1001\", realm=\"acme.sb.test\", nonce=\"n\", "
      "uri=\"sip:1002@acme.sb.test\", response=\"00000000000000000000000000000000\"";
  auto first = rig.authorizer->Authorize(Invite(credentials), kPhone);
  CHECK(first.reason.find("too many") == std::string::npos);
  const auto started = std::chrono::steady_clock::now();
  auto second = rig.authorizer->Authorize(Invite(credentials), kPhone);
  CHECK(second.code == 503);
  CHECK(second.reason.find("too many requests") != std::string::npos);
  CHECK(second.headers == std::vector<std::pair<std::string, std::string>>{{"Retry-After", "60"}});
  // Refused from Redis alone: the silent admin's 300 ms deadline never ran.
  CHECK(std::chrono::steady_clock::now() - started < 250ms);
}

TEST_CASE(
    "an INVITE without credentials is challenged without blocking only from a source known clear "
    "and known to be no trunk's",
    "[natstest]") {
  Rig rig;
  CHECK_FALSE(rig.authorizer->ChallengeOnLoop(Invite(), kPhone));  // Redis not asked yet
  REQUIRE_FALSE(rig.CheckSource(kPhone));                          // Redis: not banned
  CHECK_FALSE(rig.authorizer->ChallengeOnLoop(Invite(), kPhone));  // maybe a trunk's
  rig.cache.PutTrunkBySource(kPhone, sb::Status::NotFound("no trunk"), rig.cache.generation());
  auto challenge = rig.authorizer->ChallengeOnLoop(Invite(), kPhone);
  REQUIRE(challenge);
  CHECK(challenge->code == 407);
  REQUIRE_FALSE(challenge->headers.empty());
  CHECK(challenge->headers[0].first == "Proxy-Authenticate");
  CHECK(challenge->headers[0].second.find("realm=\"acme.sb.test\"") != std::string::npos);
  CHECK(rig.LoopChallenges() == 1);

  // Credentials, a trunk's source and a source banned since are the workers' to decide.
  CHECK_FALSE(rig.authorizer->ChallengeOnLoop(
      Invite("Digest username=\"1001\", realm=\"acme.sb.test\", nonce=\"n\", "
             "uri=\"sip:1002@acme.sb.test\", response=\"00000000000000000000000000000000\""),
      kPhone));
  const std::string carrier = "127.0.0.32";
  REQUIRE_FALSE(rig.CheckSource(carrier));
  rig.cache.PutTrunkBySource(carrier,
                             TrunkMatch{.tenant = {}, .trunk_id = "trunk-1", .trunk_name = "c"},
                             rig.cache.generation());
  CHECK_FALSE(rig.authorizer->ChallengeOnLoop(Invite(), carrier));
  for (int i = 0; i < 3; ++i) REQUIRE(rig.ban.RecordFailure(kPhone).ok());
  auto banned = rig.CheckSource(kPhone);
  REQUIRE(banned);
  CHECK(banned->code == 403);
  CHECK_FALSE(rig.authorizer->ChallengeOnLoop(Invite(), kPhone));
  CHECK(rig.LoopChallenges() == 1);
}

TEST_CASE("a trunk's INVITE from a source Redis found clear moments ago is taken without Redis",
          "[natstest]") {
  Rig rig;
  // The same authorizer, but its Redis is gone: only what needs no round trip can pass.
  auto gone = RedisOptions();
  gone.port = sb::testing::FreePort();
  sb::redis::Client dead{gone};
  b2bua::DigestCallAuthorizer offline(rig.authenticator, *rig.admin, rig.guard, dead, rig.metrics);
  const std::string carrier = "127.0.0.33";
  rig.cache.PutTrunkBySource(carrier,
                             TrunkMatch{.tenant = {}, .trunk_id = "trunk-1", .trunk_name = "c"},
                             rig.cache.generation());
  CHECK(offline.Authorize(Invite(), carrier).code == 503);  // the ban check could not be made

  REQUIRE_FALSE(rig.CheckSource(carrier));  // Redis: not banned, moments ago
  auto taken = offline.Authorize(Invite(), carrier);
  CHECK(taken.code == 0);
  CHECK(taken.caller.trunk_id == "trunk-1");
  // A source that is no trunk's still has its ban check sent (and here it cannot be).
  const std::string phone = "127.0.0.34";
  REQUIRE_FALSE(rig.CheckSource(phone));
  rig.cache.PutTrunkBySource(phone, sb::Status::NotFound("no trunk"), rig.cache.generation());
  CHECK(offline.Authorize(Invite(), phone).code == 503);
}
