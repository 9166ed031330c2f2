// Calls to numbers and trunks through the real binaries (tests/platform.h: sb-admin, sb-media and
// sb-signaling on a private nats-server; tenants, extensions, numbers and trunks created over
// admin's gRPC API). Carriers are sipp (tests/sipp/carrier_*.xml) on their own loopback
// addresses: the gateway a trunk sends to, and the source address a trunk accepts calls from.
// Phones are UDP sockets in the test that register and call with digest (sb::sip::AnswerChallenge).
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "platform.h"
#include "sipp_call_rig.h"
#include "sipp_process.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/message.h"
#include "switchboard/testing/dns_server.h"
#include "switchboard/testing/servers.h"
#include "switchboard/testing/udp_socket.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sb::sip::Message;

using sb::signaling::test::CarrierTrunk;
using sb::signaling::test::Platform;
using sb::signaling::test::Sipp;

// Extensions' passwords in these tests.
std::string Password(const std::string& user) { return "password-" + user; }

// A phone (or a carrier without sipp) on its own loopback address: SIP and RTP sockets.
class Phone {
 public:
  Phone(std::string ip, int server_port) : sip_(ip), rtp_(ip), server_port_(server_port) {}

  const std::string& ip() const { return sip_.ip(); }
  // The Call-ID (and From tag) of what Build makes next.
  void NewCall(std::string call_id) { call_id_ = std::move(call_id); }
  uint16_t port() const { return sip_.port(); }
  std::string Sdp() const {
    return "v=0\r\no=- 1 1 IN IP4 " + ip() + "\r\ns=-\r\nc=IN IP4 " + ip() +
           "\r\nt=0 0\r\nm=audio " + std::to_string(rtp_.port()) +
           " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  }
  void Send(const std::string& text) const {
    REQUIRE(sip_.SendTo(static_cast<uint16_t>(server_port_), text));
  }
  void Send(const sb::sip::MessageBuilder& m) const { Send(m.Build()); }
  // The next message that `wanted` accepts within 8 s (others are passed over), or nullopt.
  template <typename Pred>
  std::optional<Message> Next(Pred wanted) const {
    const auto deadline = Clock::now() + 8s;
    while (Clock::now() < deadline) {
      auto got = sip_.Receive(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      if (!got) break;
      auto m = Message::Parse(got->text());
      if (m.ok() && wanted(*m)) return std::move(*m);
    }
    return std::nullopt;
  }
  std::optional<Message> Final() const {
    return Next([](const Message& m) { return m.status_code() >= 200; });
  }
  std::optional<Message> Request(sb::sip::Method method) const {
    return Next([method](const Message& m) { return m.is_request() && m.method() == method; });
  }

  // A request from this phone (`user`@`domain`); `to` is the To header value.
  sb::sip::MessageBuilder Build(std::string_view method, const std::string& uri,
                                const std::string& user, const std::string& domain,
                                const std::string& to, int cseq) {
    auto b = sb::sip::MessageBuilder::Request(method, uri);
    b.AddHeader("Via", "SIP/2.0/UDP " + ip() + ":" + std::to_string(port()) +
                           ";rport;branch=z9hG4bK" + call_id_ + std::to_string(cseq))
        .AddHeader("Max-Forwards", "70")
        .AddHeader("From", "<sip:" + user + "@" + domain + ">;tag=" + call_id_)
        .AddHeader("To", to)
        .AddHeader("Call-ID", call_id_)
        .AddHeader("CSeq", std::to_string(cseq) + " " + std::string(method))
        .AddHeader("Contact", "<sip:" + user + "@" + ip() + ":" + std::to_string(port()) + ">");
    return b;
  }

  // REGISTER with digest (retried while sb-signaling and admin start); the final code.
  int Register(const std::string& domain, const std::string& user) {
    call_id_ = "reg-" + user + "-" + std::to_string(port());
    const auto deadline = Clock::now() + 30s;
    int code = 0;
    for (int cseq = 1; Clock::now() < deadline; cseq += 2) {
      auto reg = Build("REGISTER", "sip:" + domain, user, domain,
                       "<sip:" + user + "@" + domain + ">", cseq);
      reg.AddHeader("Expires", "300");
      Send(reg);
      auto challenge = Final();
      if (!challenge || challenge->status_code() != 401) {
        std::this_thread::sleep_for(200ms);
        continue;
      }
      reg = Build("REGISTER", "sip:" + domain, user, domain, "<sip:" + user + "@" + domain + ">",
                  cseq + 1);
      reg.AddHeader("Expires", "300")
          .AddHeader("Authorization", Answer(*challenge, sb::sip::HeaderId::kWwwAuthenticate,
                                             "REGISTER", "sip:" + domain, user, {}));
      Send(reg);
      auto done = Final();
      code = done ? done->status_code() : 0;
      if (code == 200) return code;
      std::this_thread::sleep_for(200ms);
    }
    return code;
  }

  // INVITE `dialed` as `user`@`domain` without credentials; the final response (ACKed).
  std::optional<Message> Unauthenticated(const std::string& domain, const std::string& user,
                                         const std::string& dialed, std::string_view call_id) {
    NewCall(std::string(call_id));
    const std::string uri = "sip:" + dialed + "@" + domain;
    auto invite = Build("INVITE", uri, user, domain, "<" + uri + ">", 1);
    invite.SetBody(Sdp(), "application/sdp");
    Send(invite);
    auto answer = Final();
    if (answer) Ack(*answer, uri, user, domain, 1);
    return answer;
  }

  // INVITE `dialed` as extension `user`, answering the 407; returns the call's final response.
  std::optional<Message> Call(const std::string& domain, const std::string& user,
                              const std::string& dialed, std::string_view call_id) {
    const std::string uri = "sip:" + dialed + "@" + domain;
    auto challenge = Unauthenticated(domain, user, dialed, call_id);
    REQUIRE(challenge);
    REQUIRE(challenge->status_code() == 407);
    auto invite = Build("INVITE", uri, user, domain, "<" + uri + ">", 2);
    invite
        .AddHeader("Proxy-Authorization", Answer(*challenge, sb::sip::HeaderId::kProxyAuthenticate,
                                                 "INVITE", uri, user, Sdp()))
        .SetBody(Sdp(), "application/sdp");
    Send(invite);
    return Final();
  }
  // ACK for a final response to our INVITE with CSeq `cseq` (a 2xx: in its dialog).
  void Ack(const Message& response, const std::string& uri, const std::string& user,
           const std::string& domain, int cseq) {
    auto ack = sb::sip::MessageBuilder::Request("ACK", uri);
    const bool ok = response.status_code() < 300;
    // §17.1.1.3: a non-2xx ACK shares the INVITE's branch; a 2xx ACK is a new transaction.
    ack.AddHeader("Via", "SIP/2.0/UDP " + ip() + ":" + std::to_string(port()) +
                             ";rport;branch=z9hG4bK" + call_id_ + std::to_string(cseq) +
                             (ok ? "ack" : ""))
        .AddHeader("Max-Forwards", "70")
        .AddHeader("From", "<sip:" + user + "@" + domain + ">;tag=" + call_id_)
        .AddHeader("To", std::string(*response.Header(sb::sip::HeaderId::kTo)))
        .AddHeader("Call-ID", call_id_)
        .AddHeader("CSeq", std::to_string(cseq) + " ACK");
    Send(ack);
  }

 private:
  std::string Answer(const Message& challenge, sb::sip::HeaderId header, std::string_view method,
                     const std::string& uri, const std::string& user, std::string_view body) {
    for (size_t i = 0; i < challenge.header_count(); ++i) {
      auto field = challenge.header(i);
      if (field.id != header) continue;
      auto c = sb::sip::ParseChallenge(field.value);
      REQUIRE(c.ok());
      auto creds =
          sb::sip::AnswerChallenge(*c, {.username = user, .password = Password(user), .ha1 = {}},
                                   method, uri, body, "cn" + call_id_, 1);
      REQUIRE(creds.ok());
      return sb::sip::FormatCredentials(*creds);
    }
    FAIL("no challenge");
    return {};
  }

  sb::testing::UdpSocket sip_, rtp_;
  int server_port_;
  std::string call_id_;
};

// The answer of a phone to a request the B2BUA sent it.
std::string Reply(const Message& request, int code, const Phone& phone,
                  std::string_view body = {}) {
  auto r = sb::sip::MakeResponse(request, code, {}, "phone");
  r.AddHeader("Contact", "<sip:phone@" + phone.ip() + ":" + std::to_string(phone.port()) + ">");
  if (!body.empty()) r.SetBody(body, "application/sdp");
  return r.Build();
}

// sipp as a carrier on `ip`:`port` (its RTP on `media_port`), one call.
Sipp Carrier(const std::string& scenario, const std::string& ip, int port, int media_port,
             const std::vector<std::string>& extra) {
  std::vector<std::string> args{"-sf", Sipp::Scenario(scenario),   "-i",  ip,
                                "-p",  std::to_string(port),       "-mi", ip,
                                "-mp", std::to_string(media_port), "-m",  "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Sipp::Start("carrier", args);
}

// 1001's answered call to 00442071234567: the ACK, the BYE and its 200; then the carrier's
// scenario must have run to its end.
void HangUpOutboundCall(Phone& phone, const Message& answered, const std::string& domain,
                        Sipp& carrier) {
  const std::string uri = "sip:00442071234567@" + domain;
  phone.Ack(answered, uri, "1001", domain, 2);
  phone.Send(phone.Build("BYE", uri, "1001", domain,
                         std::string(*answered.Header(sb::sip::HeaderId::kTo)), 3));
  auto bye_ok = phone.Final();
  REQUIRE(bye_ok);
  CHECK(bye_ok->status_code() == 200);
  const int carrier_exit = carrier.Wait();
  INFO(carrier.Report());
  CHECK(carrier_exit == 0);
}

}  // namespace

// Over TCP the node opens the connection to the carrier's gateway (RFC 3261 §18.1.1), and the
// carrier's answers, the ACK and the BYE all go over it.
TEST_CASE(
    "an extension dials an external number - the carrier gets the rewritten number and the "
    "caller id - its challenge is answered with the trunk's credentials - the call connects - "
    "over UDP and over TCP",
    "[integration]") {
  const bool tcp = GENERATE(false, true);
  INFO((tcp ? "TCP" : "UDP") << " trunk");
  Platform p({.media = true});
  REQUIRE(p.WaitUntilReady());
  auto acme = p.CreateTenant();
  p.CreateExtension(acme, "1001", Password("1001"), "+15557770001");
  const int carrier_port = sb::testing::FreePort();
  const int carrier_media = Sipp::FreeMediaPort();
  auto trunk = CarrierTrunk("127.0.0.5", carrier_port, "127.0.0.6");
  if (tcp) trunk.set_transport(switchboard::admin::v1::TRANSPORT_TCP);
  p.CreateTrunk(acme, trunk);
  Sipp carrier = Carrier("carrier_uas.xml", "127.0.0.5", carrier_port, carrier_media,
                         tcp ? std::vector<std::string>{"-t", "t1"} : std::vector<std::string>{});

  Phone phone("127.0.0.1", p.sip_port());
  auto answered = phone.Call(acme.sip_domain(), "1001", "00442071234567", "out-1");
  INFO(p.SignalingLog());
  REQUIRE(answered);
  INFO(answered->reason_phrase());
  if (answered->status_code() != 200) UNSCOPED_INFO(carrier.Report());
  REQUIRE(answered->status_code() == 200);
  // Anchored: the phone is given the media node's address, not the carrier's.
  CHECK(answered->body().find("m=audio " + std::to_string(carrier_media) + " ") ==
        std::string_view::npos);
  CHECK(answered->body().find("m=audio ") != std::string_view::npos);
  HangUpOutboundCall(phone, *answered, acme.sip_domain(), carrier);
}

// RFC 3263: a trunk whose gateway is a host name without a port is found by its SRV records,
// asked of a real name server (dnsmasq); the INVITE goes to the SRV target's address and port
// with the name kept in its Request-URI. With a first target that nobody answers at, the
// INVITE goes to the next one once the first has been silent SB_SIGNALING_SILENT_CONTACT_MS
// (§4.3).
TEST_CASE(
    "a trunk's gateway given by name - located through DNS SRV - the call connects with the name "
    "in the Request-URI - past a first SRV target that is silent",
    "[integration]") {
  const bool first_silent = GENERATE(false, true);
  INFO((first_silent ? "a silent first target" : "one target"));
  const int carrier_port = sb::testing::FreePort();
  sb::testing::DnsZone zone{
      .zone = "carrier.sbtest",
      .a = {{"gw.carrier.sbtest", "127.0.0.5"}, {"silent.carrier.sbtest", "127.0.0.9"}},
      .srv = {{"_sip._udp.carrier.sbtest", "gw.carrier.sbtest", carrier_port, 20, 0}}};
  if (first_silent) {
    zone.srv.push_back(
        {"_sip._udp.carrier.sbtest", "silent.carrier.sbtest", sb::testing::FreePort(), 10, 0});
  }
  auto dns = sb::testing::DnsServer::Start(zone);
  Platform p({.media = true,
              .signaling_env = {{"SB_SIGNALING_DNS_SERVERS", dns.address()},
                                {"SB_SIGNALING_SILENT_CONTACT_MS", "1000"}}});
  REQUIRE(p.WaitUntilReady());
  auto acme = p.CreateTenant();
  p.CreateExtension(acme, "1001", Password("1001"), "+15557770001");
  auto trunk = CarrierTrunk("127.0.0.5", carrier_port, "127.0.0.6");
  trunk.set_host("carrier.sbtest");
  trunk.set_port(0);
  p.CreateTrunk(acme, trunk);
  Sipp carrier =
      Carrier("carrier_by_name_uas.xml", "127.0.0.5", carrier_port, Sipp::FreeMediaPort(), {});

  Phone phone("127.0.0.1", p.sip_port());
  const auto dialled = Clock::now();
  auto answered = phone.Call(acme.sip_domain(), "1001", "00442071234567", "by-name-1");
  // The silent target had its second first (a lower bound: it cannot flake on a slow host).
  if (first_silent) CHECK(Clock::now() - dialled >= 1s);
  INFO(p.SignalingLog());
  INFO(dns.ReadLog());
  REQUIRE(answered);
  if (answered->status_code() != 200) UNSCOPED_INFO(carrier.Report());
  REQUIRE(answered->status_code() == 200);
  HangUpOutboundCall(phone, *answered, acme.sip_domain(), carrier);
  CHECK(dns.ReadLog().find("query[SRV] _sip._udp.carrier.sbtest") != std::string::npos);
}

// The carrier's sipp calls +15557770002 from 127.0.0.6 (its trunk's inbound source) without
// credentials, sending to `port` (sb-signaling's, or the balancer's in front of it); the desk
// phone, where the number is routed, answers with media anchored, and the carrier hangs up.
void CarrierCallsDesk(int port, Phone& desk) {
  const int carrier_media = Sipp::FreeMediaPort();
  Sipp carrier = Carrier("carrier_uac.xml", "127.0.0.6", sb::testing::FreePort(), carrier_media,
                         {"-s", "+15557770002", "127.0.0.1:" + std::to_string(port)});
  auto invite = desk.Request(sb::sip::Method::kInvite);
  if (!invite) UNSCOPED_INFO(carrier.Report());
  REQUIRE(invite);
  CHECK((*invite->From())->uri.user == "+442071234567");
  CHECK(invite->body().find("m=audio " + std::to_string(carrier_media) + " ") ==
        std::string_view::npos);
  desk.Send(Reply(*invite, 180, desk));
  desk.Send(Reply(*invite, 200, desk, desk.Sdp()));
  REQUIRE(desk.Request(sb::sip::Method::kAck));
  auto bye = desk.Request(sb::sip::Method::kBye);
  REQUIRE(bye);
  desk.Send(Reply(*bye, 200, desk));
  const int carrier_exit = carrier.Wait();
  INFO(carrier.Report());
  CHECK(carrier_exit == 0);
}

TEST_CASE(
    "a carrier calls the tenant's number from its trunk's address - the registered extension "
    "answers with media anchored - the tenant's own number from an extension - 404 for unknown "
    "numbers and for another tenant's trunk",
    "[integration]") {
  Platform p({.media = true});
  REQUIRE(p.WaitUntilReady());
  auto acme = p.CreateTenant();
  p.CreateExtension(acme, "1001", Password("1001"));
  p.CreateExtension(acme, "1002", Password("1002"));
  p.AddNumber(acme, "+15557770002", "ext:1002");
  p.CreateTrunk(acme, CarrierTrunk("127.0.0.5", 5060, "127.0.0.6"));
  auto globex = p.CreateTenant();
  p.CreateTrunk(globex, CarrierTrunk("127.0.0.8", 5060, "127.0.0.7"));

  Phone desk("127.0.0.1", p.sip_port());
  REQUIRE(desk.Register(acme.sip_domain(), "1002") == 200);
  CarrierCallsDesk(p.sip_port(), desk);

  // An extension dials the tenant's own number (without "+"): the desk phone rings, is busy.
  Phone mobile("127.0.0.2", p.sip_port());
  auto busy_call = std::thread([&] {
    auto ring = desk.Request(sb::sip::Method::kInvite);
    if (ring) desk.Send(Reply(*ring, 486, desk));
  });
  auto busy = mobile.Call(acme.sip_domain(), "1001", "15557770002", "own-1");
  busy_call.join();
  REQUIRE(busy);
  CHECK(busy->status_code() == 486);

  // Nothing routes 7777 (no extension, no prefix rule).
  auto nothing = mobile.Call(acme.sip_domain(), "1001", "7777", "none-1");
  REQUIRE(nothing);
  CHECK(nothing->status_code() == 404);

  // Carriers without sipp: an unknown number from acme's trunk, acme's number from globex's.
  for (const auto& [source, number] :
       {std::pair<std::string, std::string>{"127.0.0.6", "+15550000000"},
        {"127.0.0.7", "+15557770002"}}) {
    Phone other(source, p.sip_port());
    other.NewCall("in-" + source);
    auto in = other.Build("INVITE", "sip:" + number + "@127.0.0.1", "+442071234567", source,
                          "<sip:" + number + "@127.0.0.1>", 1);
    in.SetBody(other.Sdp(), "application/sdp");
    other.Send(in);
    auto refused = other.Final();
    INFO(source << " -> " << number);
    REQUIRE(refused);
    CHECK(refused->status_code() == 404);
  }
}

TEST_CASE(
    "through the Kamailio balancer - the carrier's INVITE is known by the carrier's address, not "
    "the balancer's - the tenant's extension answers",
    "[integration]") {
  // The replica sees every request come from the balancer (127.0.0.1); the carrier's address is
  // in the balancer's Via stamp (SB_SIGNALING_TRUSTED_PROXIES). Without it the INVITE would be
  // challenged as an unknown phone's and the carrier's call would fail.
  Platform p({.media = true, .signaling_env = {{"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1"}}});
  REQUIRE(p.WaitUntilReady());
  auto acme = p.CreateTenant();
  p.CreateExtension(acme, "1002", Password("1002"));
  p.AddNumber(acme, "+15557770002", "ext:1002");
  p.CreateTrunk(acme, CarrierTrunk("127.0.0.5", 5060, "127.0.0.6"));
  auto balancer = sb::signaling::test::StartBalancer({p.sip_port()});
  Phone desk("127.0.0.1", p.sip_port());
  REQUIRE(desk.Register(acme.sip_domain(), "1002") == 200);
  CarrierCallsDesk(balancer.port(), desk);
  CHECK(sb::signaling::test::DestinationPort(balancer.ReadLog(), "sb-lb route INVITE") ==
        p.sip_port());
}

TEST_CASE(
    "an address Redis found not banned and admin no trunk's is challenged on the loop - a "
    "trunk's INVITEs are still taken without a challenge - a banned address gets 403",
    "[integration]") {
  Platform p({.media = true});
  REQUIRE(p.WaitUntilReady());
  auto acme = p.CreateTenant();
  p.CreateExtension(acme, "1001", Password("1001"));
  p.CreateTrunk(acme, CarrierTrunk("127.0.0.5", 5060, "127.0.0.6"));
  const std::string domain = acme.sip_domain();
  const std::string ip = "127.0.0.43";
  const std::string sample = "sb_signaling_invite_loop_challenges_total";
  const double before = p.Metric(sample);
  REQUIRE(before >= 0);

  // The first challenge asked Redis (not banned) and admin (no trunk's); the next is answered
  // from what they said, on the loop. The admin events of the set-up above may still be arriving
  // (each drops the trunk answers, and an answer asked for before one is not kept): a few tries.
  Phone phone(ip, p.sip_port());
  double loop_challenges = before;
  for (int i = 0; i < 30 && loop_challenges == before; ++i) {
    if (i > 0) std::this_thread::sleep_for(100ms);
    auto challenge = phone.Unauthenticated(domain, "1001", "1002", "loop-" + std::to_string(i));
    REQUIRE(challenge);
    CHECK(challenge->status_code() == 407);
    loop_challenges = p.Metric(sample);
  }
  CHECK(loop_challenges == before + 1);

  // A carrier is never challenged, the first time or again: its unknown number is refused 404.
  Phone carrier("127.0.0.6", p.sip_port());
  for (const char* call_id : {"trunk-1", "trunk-2"}) {
    auto refused = carrier.Unauthenticated("127.0.0.6", "+442071234567", "+15550000000", call_id);
    REQUIRE(refused);
    CHECK(refused->status_code() == 404);
  }
  CHECK(p.Metric(sample) == loop_challenges);

  // Ten failed authentications ban the phone's address (the default policy): from then on its
  // INVITEs are refused 403, not challenged.
  for (int i = 0; i < 10; ++i) {
    auto failed = phone.Call(domain, "1009", "1002", "guess-" + std::to_string(i));
    REQUIRE(failed);
    CHECK(failed->status_code() == 403);
    phone.Ack(*failed, "sip:1002@" + domain, "1009", domain, 2);
  }
  auto banned = phone.Unauthenticated(domain, "1001", "1002", "banned-1");
  REQUIRE(banned);
  CHECK(banned->status_code() == 403);
  CHECK(banned->reason_phrase() == "Forbidden (banned)");
}
