// DigestCallAuthorizer with reg's RequestAuthenticator and AdminLookups on a real nats-server
// where no admin answers: an INVITE without credentials is challenged 407 for the caller's
// domain without asking admin; one with credentials waits for admin and, when admin does not
// answer in time, is refused 503 with Retry-After -- never a hang, never a pass.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "b2bua/digest_call_authorizer.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/core/clock.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/digest_server.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using namespace sb::signaling;

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
  sb::sip::SeededRandom random{3};
  sb::sip::InMemoryNonceCountTracker counts{clock};
  sb::sip::DigestServer server{clock, random, counts,
                               sb::sip::DigestServerOptions{
                                   .secret = "0123456789abcdef0123456789abcdef",
                                   .nonce_lifetime = 300s,
                                   .qop = {sb::sip::Qop::kAuth},
                                   .allow_no_qop = true,
                               }};
  RequestAuthenticator authenticator{server};
  std::unique_ptr<AdminLookups> admin;
  std::unique_ptr<b2bua::DigestCallAuthorizer> authorizer;
  Rig() {
    sb::bus::NatsBusOptions options;
    options.url = nats.url();
    options.name = "authorizer-test";
    auto connected = sb::bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    admin = std::make_unique<AdminLookups>(*bus, 300ms);
    authorizer = std::make_unique<b2bua::DigestCallAuthorizer>(authenticator, *admin);
  }
};

}  // namespace

TEST_CASE("an INVITE without credentials is challenged 407 for the caller's domain", "[natstest]") {
  Rig rig;
  auto out = rig.authorizer->Authorize(Invite());
  CHECK(out.code == 407);
  REQUIRE_FALSE(out.headers.empty());
  CHECK(out.headers[0].first == "Proxy-Authenticate");
  CHECK(out.headers[0].second.find("realm=\"acme.sb.test\"") != std::string::npos);
}

TEST_CASE("credentials when admin does not answer - 503 by the deadline", "[natstest]") {
  Rig rig;
  auto challenge = rig.authorizer->Authorize(Invite());
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
  auto out = rig.authorizer->Authorize(Invite(sb::sip::FormatCredentials(*answer)));
  CHECK(out.code == 503);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}
