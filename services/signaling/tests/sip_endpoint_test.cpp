// SipEndpoint: what every request meets before a handler (sizes, malformed input, Max-Forwards,
// loops, Require, OPTIONS and drain), on a FakeClock with no sockets.
#include "transport/sip_endpoint.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/metrics.h"
#include "switchboard/sip/message.h"

namespace {

using sb::signaling::EndpointConfig;
using sb::signaling::IncomingRequest;
using sb::signaling::SipEndpoint;
using sb::sip::Destination;
using sb::sip::Transport;

const Destination kPhone{"192.0.2.7", 40112, Transport::kUdp};

std::string Request(std::string_view method, std::string_view extra = {},
                    std::string_view branch = "z9hG4bK776asdhds",
                    std::string_view uri = "sip:acme.sb.test") {
  std::string m = std::string(method) + " " + std::string(uri) + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 192.0.2.7:5060;rport;branch=" + std::string(branch) + "\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:alice@acme.sb.test>;tag=1928301774\r\n";
  m += "To: <sip:alice@acme.sb.test>\r\n";
  m += "Call-ID: a84b4c76e66710@192.0.2.7\r\n";
  m += "CSeq: 314159 " + std::string(method) + "\r\n";
  m += extra;
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

struct Sent {
  int code = 0;
  std::string bytes;
  Destination to;
};

EndpointConfig Config(uint64_t seed) {
  EndpointConfig config;
  config.advertised_host = "203.0.113.5";
  config.advertised_port = 5060;
  config.seed = seed;
  return config;
}

sb::sip::ParseOptions Lenient() {
  sb::sip::ParseOptions options;
  options.validate = false;
  return options;
}

std::vector<Sent> Take(SipEndpoint& endpoint) {
  std::vector<Sent> out;
  for (auto& send : endpoint.TakeSends()) {
    auto parsed = sb::sip::Message::Parse(send.bytes, Lenient());
    REQUIRE(parsed.ok());
    out.push_back({parsed->status_code(), send.bytes, send.destination});
  }
  return out;
}

// A TU that keeps its requests unanswered until the test says.
struct HoldingHandler : sb::signaling::RequestHandler {
  std::vector<std::string> keys;
  void OnRequest(const IncomingRequest& request, SipEndpoint&) override {
    keys.push_back(request.key);
  }
};

struct Fixture {
  sb::core::FakeClock clock;
  sb::core::MetricsRegistry metrics;
  SipEndpoint endpoint{clock, metrics, Config(42)};
};

}  // namespace

TEST_CASE("OPTIONS is answered 200 with Allow / sent back to the rport source", "[unit]") {
  Fixture f;
  f.endpoint.OnReceived(Request("OPTIONS"), kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].code == 200);
  CHECK(sent[0].to == kPhone);
  CHECK(sent[0].bytes.find("rport=40112") != std::string::npos);
  CHECK(sent[0].bytes.find("received=192.0.2.7") != std::string::npos);
  CHECK(sent[0].bytes.find("Allow: OPTIONS\r\n") != std::string::npos);
  CHECK(sent[0].bytes.find(";tag=") != std::string::npos);
}

TEST_CASE("while draining OPTIONS and new INVITEs get 503 / other requests still flow", "[unit]") {
  Fixture f;
  f.endpoint.SetDraining(true);
  f.endpoint.OnReceived(Request("OPTIONS", {}, "z9hG4bK1"), kPhone);
  f.endpoint.OnReceived(Request("INVITE", {}, "z9hG4bK2"), kPhone);
  f.endpoint.OnReceived(Request("BYE", {}, "z9hG4bK3"), kPhone);
  auto sent = Take(f.endpoint);
  std::vector<int> codes;
  for (auto& s : sent) codes.push_back(s.code);
  // The INVITE server transaction sends its own 100 Trying first (§17.2.1).
  CHECK(codes == std::vector<int>{503, 100, 503, 501});

  f.endpoint.SetDraining(false);
  f.endpoint.OnReceived(Request("OPTIONS", {}, "z9hG4bK4"), kPhone);
  CHECK(Take(f.endpoint).at(0).code == 200);
}

TEST_CASE("a malformed request gets 400 and the endpoint goes on", "[unit]") {
  Fixture f;
  std::string broken = Request("OPTIONS");
  broken.replace(broken.find("Call-ID"), 7, "X-Call-Id");
  f.endpoint.OnReceived(broken, kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].code == 400);

  f.endpoint.OnReceived("\x01\x02 not SIP at all \xff", kPhone);
  CHECK(Take(f.endpoint).empty());  // nothing to build a response from: dropped

  f.endpoint.OnReceived(Request("OPTIONS", {}, "z9hG4bK5"), kPhone);
  CHECK(Take(f.endpoint).at(0).code == 200);
}

TEST_CASE("CRLF keep-alive datagrams are ignored without an answer and counted", "[unit]") {
  Fixture f;
  for (std::string_view ping : {"\r\n", "\r\n\r\n"}) {
    f.endpoint.OnReceived(ping, kPhone);
    CHECK(Take(f.endpoint).empty());
  }
  CHECK(f.metrics.Render().find("sb_signaling_keepalives_received_total 2") != std::string::npos);
  f.endpoint.OnReceived(Request("OPTIONS", {}, "z9hG4bK6"), kPhone);
  CHECK(Take(f.endpoint).at(0).code == 200);
}

TEST_CASE("a request above the configured size gets 513", "[unit]") {
  sb::core::FakeClock clock;
  sb::core::MetricsRegistry metrics;
  EndpointConfig config = Config(1);
  config.limits.max_message_bytes = 1024;
  SipEndpoint endpoint(clock, metrics, config);
  endpoint.OnReceived(Request("OPTIONS", "X-Pad: " + std::string(2000, 'a') + "\r\n"), kPhone);
  auto sent = Take(endpoint);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].code == 513);
  endpoint.OnReceived(Request("OPTIONS", {}, "z9hG4bK6"), kPhone);
  CHECK(Take(endpoint).at(0).code == 200);
}

TEST_CASE("Max-Forwards 0 refuses what would be forwarded / not what is answered here", "[unit]") {
  Fixture f;
  std::string invite = Request("INVITE", {}, "z9hG4bK7", "sip:bob@acme.sb.test");
  invite.replace(invite.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  f.endpoint.OnReceived(invite, kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 2);
  CHECK(sent[1].code == 483);

  std::string options = Request("OPTIONS", {}, "z9hG4bK8");
  options.replace(options.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  f.endpoint.OnReceived(options, kPhone);
  CHECK(Take(f.endpoint).at(0).code == 200);
}

TEST_CASE("a request carrying this node's unchanged branch is a loop / a retargeted one is not",
          "[unit]") {
  Fixture f;
  const std::string uri = "sip:bob@acme.sb.test";
  std::string ours = f.endpoint.NewBranch(uri, "a84b4c76e66710@192.0.2.7", "1928301774", 314159);
  std::string our_via = "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=" + ours + "\r\n";
  // The looped request: our Via is below the one the last hop added.
  f.endpoint.OnReceived(Request("MESSAGE", our_via, "z9hG4bKhop1", uri), kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].code == 482);

  // A spiral: same Via, but the Request-URI changed on the way, so it is new work.
  f.endpoint.OnReceived(Request("MESSAGE", our_via, "z9hG4bKhop2", "sip:carol@acme.sb.test"),
                        kPhone);
  CHECK(Take(f.endpoint).at(0).code == 501);
}

TEST_CASE("unknown and unhandled methods get 501 with Allow -- handlers extend Allow", "[unit]") {
  Fixture f;
  HoldingHandler registrar;
  f.endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
  f.endpoint.OnReceived(Request("FOOBAR", {}, "z9hG4bK9"), kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].code == 501);
  CHECK(sent[0].bytes.find("Allow: OPTIONS, REGISTER\r\n") != std::string::npos);

  f.endpoint.OnReceived(Request("REGISTER", {}, "z9hG4bK10"), kPhone);
  CHECK(Take(f.endpoint).empty());
  REQUIRE(registrar.keys.size() == 1);
  REQUIRE(f.endpoint.Respond(registrar.keys[0], 200).ok());
  CHECK(Take(f.endpoint).at(0).code == 200);
  CHECK_FALSE(f.endpoint.Respond(registrar.keys[0], 200).ok());  // already answered
}

TEST_CASE("a required extension that is not supported gets 420 naming it", "[unit]") {
  Fixture f;
  f.endpoint.OnReceived(Request("OPTIONS", "Require: 100rel, foo\r\n"), kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].code == 420);
  CHECK(sent[0].bytes.find("Unsupported: 100rel, foo\r\n") != std::string::npos);
}

// An INVITE carrying `body` of `content_type` (plus `extra` header lines).
std::string InviteWithBody(std::string_view content_type, std::string_view body,
                           std::string_view extra = {}, std::string_view branch = "z9hG4bKbody1") {
  std::string m =
      Request("INVITE", std::string(extra) + "Content-Type: " + std::string(content_type) + "\r\n",
              branch, "sip:bob@acme.sb.test");
  const std::string empty = "Content-Length: 0\r\n\r\n";
  m.replace(m.find(empty), empty.size(),
            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body));
  return m;
}

TEST_CASE("an INVITE whose body or Accept rules out SDP is refused before its handler sees it",
          "[unit]") {
  Fixture f;
  HoldingHandler b2bua;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &b2bua);
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\n"
      "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

  SECTION("a body type the B2BUA cannot read: 415 with the type it reads (RFC 4475 invut)") {
    f.endpoint.OnReceived(InviteWithBody("application/unknownformat", "<a/>"), kPhone);
    auto sent = Take(f.endpoint);
    REQUIRE_FALSE(sent.empty());  // after the INVITE transaction's 100
    CHECK(sent.back().code == 415);
    CHECK(sent.back().bytes.find("Accept: application/sdp\r\n") != std::string::npos);
    CHECK(b2bua.keys.empty());
  }
  SECTION("an Accept without SDP: 406 (RFC 4475 sdp01)") {
    f.endpoint.OnReceived(
        InviteWithBody("application/sdp", sdp, "Accept: text/nobodyKnowsThis\r\n"), kPhone);
    auto sent = Take(f.endpoint);
    REQUIRE_FALSE(sent.empty());
    CHECK(sent.back().code == 406);
    CHECK(b2bua.keys.empty());
  }
  SECTION("SDP, any Accept that includes it and multipart bodies reach the handler") {
    f.endpoint.OnReceived(
        InviteWithBody("Application/SDP", sdp, "Accept: text/plain, application/*\r\n"), kPhone);
    f.endpoint.OnReceived(InviteWithBody("multipart/mixed;boundary=b", "--b\r\n\r\nx\r\n--b--\r\n",
                                         {}, "z9hG4bKbody2"),
                          kPhone);
    CHECK(b2bua.keys.size() == 2);
  }
}

TEST_CASE("a retransmitted request gets the same response / the handler sees it once", "[unit]") {
  Fixture f;
  HoldingHandler registrar;
  f.endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
  const std::string reg = Request("REGISTER");
  f.endpoint.OnReceived(reg, kPhone);
  REQUIRE(f.endpoint.Respond(registrar.keys.at(0), 200).ok());
  auto first = Take(f.endpoint);
  f.endpoint.OnReceived(reg, kPhone);
  auto again = Take(f.endpoint);
  CHECK(registrar.keys.size() == 1);
  REQUIRE(again.size() == 1);
  CHECK(again[0].bytes == first.at(0).bytes);

  // Timer J (64*T1 over UDP) ends the server transaction; no sleep, the fake clock moves.
  CHECK(f.endpoint.transactions() == 1);
  f.clock.Advance(std::chrono::seconds(33));
  f.endpoint.OnTimers();
  CHECK(f.endpoint.transactions() == 0);
}

TEST_CASE("a challenge answered statelessly keeps nothing / its retransmission is challenged anew",
          "[unit]") {
  Fixture f;
  HoldingHandler registrar;
  f.endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
  const std::string reg = Request("REGISTER");
  f.endpoint.OnReceived(reg, kPhone);
  REQUIRE(
      f.endpoint
          .RespondStatelessly(registrar.keys.at(0), 401, {},
                              {{"WWW-Authenticate", "Digest realm=\"acme.sb.test\", nonce=\"n1\""}})
          .ok());
  auto first = Take(f.endpoint);
  REQUIRE(first.size() == 1);
  CHECK(first[0].code == 401);
  CHECK(first[0].to == kPhone);
  CHECK(first[0].bytes.find("WWW-Authenticate: Digest realm=\"acme.sb.test\"") !=
        std::string::npos);
  CHECK(f.endpoint.transactions() == 0);

  f.endpoint.OnReceived(reg, kPhone);
  CHECK(registrar.keys.size() == 2);
  CHECK(Take(f.endpoint).empty());  // the handler has it again and has not answered yet
  REQUIRE(f.endpoint.Respond(registrar.keys.at(1), 200).ok());
  CHECK(Take(f.endpoint).at(0).code == 200);

  SECTION("an INVITE is not answered statelessly: its ACK must meet the transaction") {
    f.endpoint.SetHandler(sb::sip::Method::kInvite, &registrar);
    f.endpoint.OnReceived(Request("INVITE", {}, "z9hG4bKinv", "sip:bob@acme.sb.test"), kPhone);
    (void)Take(f.endpoint);
    CHECK(f.endpoint.RespondStatelessly(registrar.keys.back(), 407).code() ==
          sb::StatusCode::kFailedPrecondition);
    CHECK(f.endpoint.Respond(registrar.keys.back(), 407).ok());
  }
}

TEST_CASE("CANCEL of a pending INVITE: 200 for the CANCEL / 487 for the INVITE", "[unit]") {
  Fixture f;
  HoldingHandler b2bua;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &b2bua);
  const std::string invite = Request("INVITE", {}, "z9hG4bKcall1", "sip:bob@acme.sb.test");
  f.endpoint.OnReceived(invite, kPhone);
  CHECK(Take(f.endpoint).at(0).code == 100);
  std::string cancel = Request("CANCEL", {}, "z9hG4bKcall1", "sip:bob@acme.sb.test");
  f.endpoint.OnReceived(cancel, kPhone);
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].code == 200);
  CHECK(sent[0].bytes.find("CSeq: 314159 CANCEL") != std::string::npos);
  CHECK(sent[1].code == 487);
  CHECK(sent[1].bytes.find("CSeq: 314159 INVITE") != std::string::npos);
  CHECK_FALSE(f.endpoint.Respond(b2bua.keys.at(0), 200).ok());
}

TEST_CASE("a 180 and a 200 to an INVITE carry its Record-Route entries in their order", "[unit]") {
  Fixture f;
  HoldingHandler b2bua;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &b2bua);
  const std::string routes =
      "Record-Route: <sip:198.51.100.9:5060;lr;r2=on>, <sip:lb.sb.test;lr>\r\n"
      "Record-Route: <sip:edge.sb.test;lr>\r\n";
  f.endpoint.OnReceived(Request("INVITE", routes, "z9hG4bKrr1", "sip:bob@acme.sb.test"), kPhone);
  auto trying = Take(f.endpoint);
  REQUIRE(trying.size() == 1);
  CHECK(trying[0].bytes.find("Record-Route") == std::string::npos);  // 100 is hop by hop

  REQUIRE(f.endpoint.Respond(b2bua.keys.at(0), 180).ok());
  REQUIRE(f.endpoint.Respond(b2bua.keys.at(0), 200).ok());
  auto sent = Take(f.endpoint);
  REQUIRE(sent.size() == 2);
  for (const auto& response : sent) {
    INFO(response.bytes);
    auto parsed = sb::sip::Message::Parse(response.bytes, Lenient());
    REQUIRE(parsed.ok());
    std::vector<std::string> copied;
    for (std::string_view route : parsed->Values(sb::sip::HeaderId::kRecordRoute)) {
      copied.emplace_back(route);
    }
    CHECK(copied == std::vector<std::string>{"<sip:198.51.100.9:5060;lr;r2=on>",
                                             "<sip:lb.sb.test;lr>", "<sip:edge.sb.test;lr>"});
  }
}
