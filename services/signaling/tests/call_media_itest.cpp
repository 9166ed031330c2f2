// Calls through the B2BUA on real sockets with the media anchored on a real sb-media process
// over a real nats-server, and answered calls kept in the real Redis: two phones played by UDP
// sockets in the test (SIP and RTP), RTP sent by each really arrives at the other through the
// media node. The caller's authentication and the callee's location are ports filled by the
// test here (the admin lookups and registrar have their own tests).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "b2bua/b2bua.h"
#include "b2bua/b2bua_call_control.h"
#include "media_process.h"
#include "rpc/call_command_server.h"
#include "rpc/call_media_anchor.h"
#include "rpc/call_operations.h"
#include "runtime/loop_redis.h"
#include "store/redis_call_store.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/call/v1/commands.pb.h"
#include "switchboard/core/logger.h"
#include "switchboard/media_client/node_tracker.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/sdp.h"
#include "switchboard/testing/child_process.h"
#include "switchboard/testing/nats_connect.h"
#include "switchboard/testing/servers.h"
#include "transport/sip_server.h"

namespace {

using namespace std::chrono_literals;
using namespace sb::signaling;
using namespace sb::signaling::b2bua;
using Clock = std::chrono::steady_clock;

const sb::TenantId kTenant{"5d0c1c9e-6b1a-4f0e-9c57-2b7e0d1f3a10"};  // commands want UUIDs

// A UDP socket on 127.0.0.1 (a phone's SIP or RTP port).
class Udp {
 public:
  Udp() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
    socklen_t len = sizeof(sa);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port_ = ntohs(sa.sin_port);
  }
  ~Udp() { ::close(fd_); }
  Udp(const Udp&) = delete;
  Udp& operator=(const Udp&) = delete;
  uint16_t port() const { return port_; }

  void SendTo(std::string_view bytes, uint16_t port) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    REQUIRE(::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof(to)) == static_cast<ssize_t>(bytes.size()));
  }
  // One datagram, or nullopt when none came before the deadline.
  std::optional<std::string> Receive(Clock::time_point deadline) const {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) return std::string(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

sb::sip::ParseOptions Lenient() {
  sb::sip::ParseOptions options;
  options.validate = false;
  return options;
}

// A phone: its SIP socket and its RTP socket.
struct Phone {
  Udp sip, rtp;
  std::string Sdp() const {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio " +
           std::to_string(rtp.port()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  }
  // The next SIP message that satisfies `wanted` (others -- 100 Trying, retransmissions -- are
  // passed over) within 5 s.
  template <typename Pred>
  sb::sip::Message Expect(Pred wanted) const {
    const auto deadline = Clock::now() + 5s;
    for (;;) {
      auto bytes = sip.Receive(deadline);
      REQUIRE(bytes.has_value());
      auto m = sb::sip::Message::Parse(*bytes, Lenient());
      REQUIRE(m.ok());
      if (wanted(*m)) return std::move(*m);
    }
  }
  sb::sip::Message ExpectResponse(int code) const {
    return Expect([code](const sb::sip::Message& m) { return m.status_code() == code; });
  }
  sb::sip::Message ExpectRequest(sb::sip::Method method) const {
    return Expect(
        [method](const sb::sip::Message& m) { return m.is_request() && m.method() == method; });
  }
};

// The node's media address and port from its SDP.
uint16_t MediaPort(std::string_view sdp_text) {
  auto sd = sb::sdp::Parse(sdp_text);
  REQUIRE(sd.ok());
  REQUIRE_FALSE(sd->media.empty());
  return sd->media.front().port;
}

std::string Rtp(uint16_t seq, uint32_t ssrc) {
  std::string p(12 + 160, '\xff');  // PCMU silence
  p[0] = '\x80';
  p[1] = 0;
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq);
  uint32_t ts = seq * 160u;
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<char>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  return p;
}

// Sends RTP from `from` to `port` until `to` receives a packet (at most 3 s, 20 ms apart).
bool RtpReaches(const Udp& from, uint16_t port, const Udp& to) {
  const auto deadline = Clock::now() + 3s;
  for (uint16_t seq = 1; Clock::now() < deadline && seq < 200; ++seq) {
    from.SendTo(Rtp(seq, 0x1234 + port), port);
    if (auto got = to.Receive(Clock::now() + 20ms); got && got->size() >= 12) return true;
  }
  return false;
}

struct AcceptAll : CallAuthorizer {
  AuthOutcome Authorize(const sb::sip::Message&, const std::string&) override {
    AuthOutcome out;
    out.caller = {kTenant, "acme.sb.test", "1001", {}};
    return out;
  }
  std::optional<AuthOutcome> ChallengeOnLoop(const sb::sip::Message&, const std::string&) override {
    return std::nullopt;  // nobody is challenged
  }
};

// Every dialled user is an extension of the caller's tenant.
struct SameTenant : CallRouter {
  Route Resolve(const Caller& caller, std::string_view dialed) override {
    Route r;
    r.domain = caller.domain;
    r.extension = std::string(dialed);
    r.from_uri = "sip:" + caller.extension + "@" + caller.domain;
    r.to_uri = "sip:" + std::string(dialed) + "@" + caller.domain;
    return r;
  }
  Route ThroughTrunk(const Caller&, std::string_view, std::string_view, std::string_view) override {
    Route r;
    r.code = 404;
    r.reason = "No Trunks Here";
    return r;
  }
};

// 1002 at sip_port; 1003 (a transfer's target) at target_port.
struct OnePhone : CalleeLocator {
  uint16_t sip_port = 0;
  uint16_t target_port = 0;
  sb::Result<std::vector<Target>> Locate(const sb::TenantId&, std::string_view,
                                         std::string_view number) override {
    const uint16_t port = number == "1002" ? sip_port : number == "1003" ? target_port : 0;
    if (port == 0) return sb::Status::NotFound("no such extension");
    return std::vector<Target>{{"sip:" + std::string(number) + "@127.0.0.1:" + std::to_string(port),
                                {"127.0.0.1", port, sb::sip::Transport::kUdp},
                                {}}};
  }
};

struct Recorded : CallEvents {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> seen;
  void Add(std::string s) {
    std::lock_guard lock(mu);
    seen.push_back(std::move(s));
    changed.notify_all();
  }
  void Created(const CallSummary&) override { Add("created"); }
  void Ringing(const CallSummary&) override { Add("ringing"); }
  void Answered(const CallSummary& c) override { Add("answered " + c.answered_leg); }
  void Ended(const CallSummary& c) override { Add("ended " + c.cause); }
  // The store parks these in the test's own Redis keys: `kept` names those it did.
  std::optional<PreparedEvent> PrepareAnswered(const CallSummary& c) override {
    return PreparedEvent{.kind = PreparedEvent::Kind::kAnswered,
                         .call = c,
                         .message = {.msg_id = c.call_id + ".answered"}};
  }
  std::optional<PreparedEvent> PrepareEnded(const CallSummary& c) override {
    return PreparedEvent{.call = c, .message = {.msg_id = c.call_id + ".ended"}};
  }
  void SendPrepared(PreparedEvent e, bool was_kept) override {
    if (was_kept) Add("kept " + e.message.msg_id);
    if (e.kind == PreparedEvent::Kind::kAnswered) {
      Answered(e.call);
    } else {
      Ended(e.call);
    }
  }
  // Waits (at most 5 s) until an event starting with `prefix` (and ending with `suffix`) was
  // published.
  bool WaitFor(const std::string& prefix, const std::string& suffix = {}) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, 5s, [&] {
      return std::any_of(seen.begin(), seen.end(), [&](const std::string& e) {
        return e.starts_with(prefix) && e.ends_with(suffix);
      });
    });
  }
};

// Runs `task` on the server's loop thread and waits for it.
void OnLoop(SipServer& server, std::function<void()> task) {
  std::promise<void> done;
  server.Post([&] {
    task();
    done.set_value();
  });
  done.get_future().wait();
}

// The signaling node in-process: real sockets, ThreadPoolOffloader, B2BUA on real media; the
// B2BUA saves and removes answered calls from the loop, as sb-signaling does (LoopRedis), and
// `store` reads them back as another replica would.
struct Rig {
  sb::testing::NatsServer nats = sb::testing::NatsServer::Start();
  std::unique_ptr<sb::bus::NatsBus> bus = sb::testing::ConnectNats(nats.url(), "call-media-itest");
  sb::core::SystemClock clock;
  sb::media_client::NodeTracker tracker{*bus, clock};
  sb::media_client::test::MediaProcess media{nats.url()};
  sb::redis::ClientOptions redis_options = [] {
    sb::redis::ClientOptions o;
    o.host = sb::testing::Shared().redis_host;
    o.port = sb::testing::Shared().redis_port;
    o.key_prefix = sb::testing::UniqueName("signaling") + ":";
    return o;
  }();
  sb::redis::Client redis{redis_options};
  sb::signaling::RedisEventOutbox parking{redis, std::chrono::seconds(30)};
  RedisCallStore store{redis, std::chrono::hours(1), parking, clock};
  sb::signaling::MediaClientAnchor anchor{*bus, tracker, std::chrono::seconds(2)};
  AcceptAll auth;
  SameTenant router;
  OnePhone locator;
  Recorded events;
  const int sip_port = sb::testing::FreePort();
  sb::core::MetricsRegistry metrics;
  sb::core::Logger log{"signaling", sb::core::LogLevel::kWarn};
  SipEndpoint endpoint{clock, metrics, [this] {
                         EndpointConfig c;
                         c.advertised_host = "127.0.0.1";
                         c.advertised_port = static_cast<uint16_t>(sip_port);
                         return c;
                       }()};
  std::unique_ptr<SipServer> server;
  std::unique_ptr<sb::signaling::LoopRedis> loop_redis;
  std::unique_ptr<RedisCallStore> loop_store;
  std::unique_ptr<ThreadPoolOffloader> offloader;
  std::unique_ptr<B2bua> b2bua;

  explicit Rig(std::chrono::milliseconds no_answer = 10s) {
    REQUIRE(tracker.Start().ok());
    REQUIRE(tracker.WaitUntil([&] { return tracker.IsLive(media.node_id()); }, 10s));
    ListenConfig listen;
    listen.udp_addr = "127.0.0.1:" + std::to_string(sip_port);
    listen.tcp_addr = "";
    auto started = SipServer::Start(endpoint, clock, metrics, log, listen);
    REQUIRE(started.ok());
    server = std::move(*started);
    loop_redis = std::make_unique<sb::signaling::LoopRedis>(*server, redis_options, clock);
    loop_store = std::make_unique<RedisCallStore>(redis, std::chrono::hours(1), parking, clock,
                                                  loop_redis.get());
    offloader = std::make_unique<ThreadPoolOffloader>(
        2, [this](std::function<void()> task) { server->Post(std::move(task)); });
    b2bua = std::make_unique<B2bua>(
        endpoint, *offloader, Ports{auth, router, locator, anchor, events, *loop_store},
        Settings{.node_id = "sig-itest", .no_answer_timeout = no_answer, .seed = 0});
    OnLoop(*server, [this] {
      endpoint.SetHandler(sb::sip::Method::kInvite, b2bua.get());
      endpoint.SetDialogHandler(b2bua.get());
    });
  }
  ~Rig() {
    // The loop's Redis goes on the loop; the loop stops before the offloader that posts into it
    // and the B2BUA it calls.
    if (server) {
      OnLoop(*server, [this] { loop_redis->Detach(); });
      server->Stop();
    }
    offloader.reset();
  }
  uint16_t port() const { return static_cast<uint16_t>(sip_port); }
};

std::string Invite(const Phone& caller, uint16_t server_port, std::string_view call_id) {
  auto b = sb::sip::MessageBuilder::Request("INVITE", "sip:1002@acme.sb.test");
  b.AddHeader("Via", "SIP/2.0/UDP 127.0.0.1:" + std::to_string(caller.sip.port()) +
                         ";rport;branch=z9hG4bK-inv-" + std::string(call_id))
      .AddHeader("Max-Forwards", "70")
      .AddHeader("From", "<sip:1001@acme.sb.test>;tag=caller")
      .AddHeader("To", "<sip:1002@acme.sb.test>")
      .AddHeader("Call-ID", call_id)
      .AddHeader("CSeq", "1 INVITE")
      .AddHeader("Contact", "<sip:1001@127.0.0.1:" + std::to_string(caller.sip.port()) + ">")
      .SetBody(caller.Sdp(), "application/sdp");
  (void)server_port;
  return b.Build();
}

std::string Reply(const sb::sip::Message& request, int code, std::string_view tag,
                  const Phone& phone, std::string_view body = {}) {
  auto r = sb::sip::MakeResponse(request, code, {}, tag);
  r.AddHeader("Contact", "<sip:1002@127.0.0.1:" + std::to_string(phone.sip.port()) + ">");
  if (!body.empty()) r.SetBody(body, "application/sdp");
  return r.Build();
}

// A request of the caller inside its dialog with the B2BUA.
std::string InDialog(const Phone& caller, std::string_view method, std::string_view call_id,
                     std::string_view to_tag, int cseq, uint16_t server_port) {
  auto b = sb::sip::MessageBuilder::Request(method, "sip:127.0.0.1:" + std::to_string(server_port));
  b.AddHeader("Via", "SIP/2.0/UDP 127.0.0.1:" + std::to_string(caller.sip.port()) +
                         ";rport;branch=z9hG4bK-" + std::string(method) + std::to_string(cseq))
      .AddHeader("Max-Forwards", "70")
      .AddHeader("From", "<sip:1001@acme.sb.test>;tag=caller")
      .AddHeader("To", "<sip:1002@acme.sb.test>;tag=" + std::string(to_tag))
      .AddHeader("Call-ID", call_id)
      .AddHeader("CSeq", std::to_string(cseq) + " " + std::string(method));
  return b.Build();
}

}  // namespace

TEST_CASE(
    "a call through sb-media - RTP reaches each phone through the node - BYE from the "
    "caller ends both legs",
    "[natstest][redis]") {
  Rig rig;
  Phone caller, callee;
  rig.locator.sip_port = callee.sip.port();
  caller.sip.SendTo(Invite(caller, rig.port(), "media-call-1"), rig.port());
  caller.ExpectResponse(100);

  sb::sip::Message invite = callee.ExpectRequest(sb::sip::Method::kInvite);
  const uint16_t node_b = MediaPort(invite.body());
  CHECK(invite.body().find(std::to_string(caller.rtp.port())) == std::string_view::npos);
  callee.sip.SendTo(Reply(invite, 180, "callee", callee), rig.port());
  caller.ExpectResponse(180);
  callee.sip.SendTo(Reply(invite, 200, "callee", callee, callee.Sdp()), rig.port());
  callee.ExpectRequest(sb::sip::Method::kAck);

  sb::sip::Message ok = caller.ExpectResponse(200);
  const uint16_t node_a = MediaPort(ok.body());
  const std::string tag((*ok.To())->tag());
  caller.sip.SendTo(InDialog(caller, "ACK", "media-call-1", tag, 1, rig.port()), rig.port());
  CHECK(node_a != node_b);

  CHECK(RtpReaches(caller.rtp, node_a, callee.rtp));
  CHECK(RtpReaches(callee.rtp, node_b, caller.rtp));
  CHECK(rig.events.WaitFor("answered"));
  // Saved from the loop once the node had the answer: another replica finds it.
  auto stored = rig.store.FindByDialog("media-call-1", tag);
  for (const auto deadline = Clock::now() + 5s; !stored.ok() && Clock::now() < deadline;) {
    std::this_thread::sleep_for(20ms);
    stored = rig.store.FindByDialog("media-call-1", tag);
  }
  REQUIRE(stored.ok());
  CHECK(stored->media_legs.size() == 2);

  caller.sip.SendTo(InDialog(caller, "BYE", "media-call-1", tag, 2, rig.port()), rig.port());
  caller.ExpectResponse(200);
  sb::sip::Message bye = callee.ExpectRequest(sb::sip::Method::kBye);
  CHECK((*bye.To())->tag() == "callee");
  callee.sip.SendTo(Reply(bye, 200, "callee", callee), rig.port());
  CHECK(rig.events.WaitFor("ended normal"));
  CHECK(rig.store.FindByDialog("media-call-1", tag).status().code() == sb::StatusCode::kNotFound);
  // Each event was parked in the step that saved or removed the call, so that a node dying
  // after it still has it sent (nobody acks them here: they stay parked).
  CHECK(rig.events.WaitFor("kept ", ".answered"));
  CHECK(rig.events.WaitFor("kept ", ".ended"));
  auto parked = rig.redis.Run(sb::redis::Command("HKEYS").Key("evt-parked"));
  REQUIRE(parked.ok());
  REQUIRE(parked->array());
  std::set<std::string> ids;
  for (const auto& id : *parked->array()) ids.insert(*id.str());
  CHECK(ids == std::set<std::string>{stored->call_id + ".answered", stored->call_id + ".ended"});
}

TEST_CASE(
    "a busy callee - 486 reaches the caller and the media legs are released - the ended event is "
    "parked before it is sent",
    "[natstest][redis]") {
  Rig rig;
  Phone caller, callee;
  rig.locator.sip_port = callee.sip.port();
  caller.sip.SendTo(Invite(caller, rig.port(), "media-call-2"), rig.port());
  sb::sip::Message invite = callee.ExpectRequest(sb::sip::Method::kInvite);
  callee.sip.SendTo(Reply(invite, 486, "callee", callee), rig.port());
  sb::sip::Message busy = caller.ExpectResponse(486);
  CHECK(busy.status_code() == 486);
  CHECK(rig.events.WaitFor("ended busy"));
  // Never saved, the call's end was still parked before it was sent: its record outlives us.
  CHECK(rig.events.WaitFor("kept ", ".ended"));
  auto parked = rig.redis.Run(sb::redis::Command("HLEN").Key("evt-parked"));
  REQUIRE(parked.ok());
  CHECK(parked->integer() == 1);
  // The node has no legs left: its load report counts zero legs again.
  CHECK(rig.tracker.WaitUntil(
      [&] {
        auto report = rig.tracker.Find(rig.media.node_id());
        return report.ok() && report->legs == 0;
      },
      5s));
}

TEST_CASE("no answer within the timeout - the callee gets a CANCEL - the caller 480",
          "[natstest][redis]") {
  Rig rig(1500ms);
  Phone caller, callee;
  rig.locator.sip_port = callee.sip.port();
  caller.sip.SendTo(Invite(caller, rig.port(), "media-call-3"), rig.port());
  sb::sip::Message invite = callee.ExpectRequest(sb::sip::Method::kInvite);
  callee.sip.SendTo(Reply(invite, 180, "callee", callee), rig.port());
  caller.ExpectResponse(180);
  sb::sip::Message cancel = callee.ExpectRequest(sb::sip::Method::kCancel);
  callee.sip.SendTo(Reply(cancel, 200, "callee", callee), rig.port());
  callee.sip.SendTo(Reply(invite, 487, "callee", callee), rig.port());
  caller.ExpectResponse(480);
  CHECK(rig.events.WaitFor("ended no_answer"));
}

TEST_CASE(
    "lost packets - the callee never sees the first INVITE and the caller loses the first "
    "200 - retransmissions carry the call through",
    "[natstest][redis]") {
  Rig rig;
  Phone caller, callee;
  rig.locator.sip_port = callee.sip.port();
  caller.sip.SendTo(Invite(caller, rig.port(), "media-call-4"), rig.port());
  // Dropped: the first copy of the INVITE (Timer A resends it after T1).
  sb::sip::Message first = callee.ExpectRequest(sb::sip::Method::kInvite);
  sb::sip::Message again = callee.ExpectRequest(sb::sip::Method::kInvite);
  CHECK(again.Serialize() == first.Serialize());
  callee.sip.SendTo(Reply(again, 200, "callee", callee, callee.Sdp()), rig.port());
  callee.ExpectRequest(sb::sip::Method::kAck);

  // Dropped: the first 200 to the caller (the UAS core resends it until the ACK, §13.3.1.4).
  sb::sip::Message ok = caller.ExpectResponse(200);
  sb::sip::Message ok_again = caller.ExpectResponse(200);
  CHECK(ok_again.Serialize() == ok.Serialize());
  const std::string tag((*ok.To())->tag());
  caller.sip.SendTo(InDialog(caller, "ACK", "media-call-4", tag, 1, rig.port()), rig.port());
  CHECK(RtpReaches(caller.rtp, MediaPort(ok.body()), callee.rtp));

  caller.sip.SendTo(InDialog(caller, "BYE", "media-call-4", tag, 2, rig.port()), rig.port());
  caller.ExpectResponse(200);
  sb::sip::Message bye = callee.ExpectRequest(sb::sip::Method::kBye);
  callee.sip.SendTo(Reply(bye, 200, "callee", callee), rig.port());
  CHECK(rig.events.WaitFor("ended normal"));
}

namespace {

// `phone` answers the INVITE it gets at once with its SDP and takes the ACK; the INVITE.
sb::sip::Message AnswerAs(const Phone& phone, std::string_view tag, const Rig& rig) {
  sb::sip::Message invite = phone.ExpectRequest(sb::sip::Method::kInvite);
  phone.sip.SendTo(Reply(invite, 200, tag, phone, phone.Sdp()), rig.port());
  phone.ExpectRequest(sb::sip::Method::kAck);
  return invite;
}

}  // namespace

TEST_CASE(
    "blind transfer - sipp as the caller REFERs 1002 to 1003 - NOTIFY 100 and 200 and a BYE "
    "reach it - RTP flows between 1002 and 1003 through the node",
    "[natstest][redis]") {
  Rig rig;
  Phone callee, target;
  rig.locator.sip_port = callee.sip.port();
  rig.locator.target_port = target.sip.port();
  sb::testing::ChildProcess sipp = sb::testing::ChildProcess::Start(
      {"sipp", "-sf", std::string(SB_SIGNALING_SIPP_DIR) + "/refer_transferor.xml",
       "127.0.0.1:" + std::to_string(rig.port()), "-i", "127.0.0.1", "-p",
       std::to_string(sb::testing::FreePort()), "-m", "1", "-nostdin", "-timeout", "20s",
       "-timeout_error"},
      {}, "sipp-refer");

  const uint16_t node_b = MediaPort(AnswerAs(callee, "callee", rig).body());
  CHECK(rig.events.WaitFor("answered"));
  sb::sip::Message invite = AnswerAs(target, "target", rig);
  const uint16_t node_t = MediaPort(invite.body());
  CHECK((*invite.From())->uri.user == "1002");  // the party that stays calls the target
  CHECK(invite.Header("Referred-By") == std::optional<std::string_view>("<sip:1001@acme.sb.test>"));
  CHECK(node_t != node_b);

  const int exit_code = sipp.WaitExit(20s);
  INFO(sipp.ReadLog());
  CHECK(exit_code == 0);
  CHECK(RtpReaches(callee.rtp, node_b, target.rtp));
  CHECK(RtpReaches(target.rtp, node_t, callee.rtp));
  CHECK(rig.events.WaitFor("answered ", "-a1"));  // the target's leg replaced the caller's
}

TEST_CASE(
    "a transfer command over NATS moves the caller to 1003 - the callee gets a BYE - RTP flows "
    "between the caller and 1003 - another tenant's call is NOT_FOUND",
    "[natstest][redis]") {
  Rig rig;
  Phone caller, callee, target;
  rig.locator.sip_port = callee.sip.port();
  rig.locator.target_port = target.sip.port();
  B2buaCallControl control(
      *rig.b2bua, [&rig](std::function<void()> task) { rig.server->Post(std::move(task)); }, 3s);
  CallCommandServer commands(*rig.bus, "sig-itest", control);
  REQUIRE(commands.Start().ok());
  REQUIRE(rig.bus->Flush(2s).ok());

  caller.sip.SendTo(Invite(caller, rig.port(), "xfer-cmd-1"), rig.port());
  (void)AnswerAs(callee, "callee", rig);
  sb::sip::Message ok = caller.ExpectResponse(200);
  const std::string tag((*ok.To())->tag());
  caller.sip.SendTo(InDialog(caller, "ACK", "xfer-cmd-1", tag, 1, rig.port()), rig.port());
  // The answered call is saved after the 200 (on the offloader): wait for it, bounded.
  auto stored = rig.store.FindByDialog("xfer-cmd-1", tag);
  for (const auto deadline = Clock::now() + 5s; !stored.ok() && Clock::now() < deadline;) {
    std::this_thread::sleep_for(20ms);
    stored = rig.store.FindByDialog("xfer-cmd-1", tag);
  }
  REQUIRE(stored.ok());

  auto subject =
      sb::bus::subjects::NodeCommand(call_ops::kService, "sig-itest", call_ops::kTransfer);
  REQUIRE(subject.ok());
  switchboard::call::v1::TransferRequest transfer;
  transfer.mutable_call()->set_tenant_id("9a3e1c2b-7d4f-4e8a-b1c6-0f2d3e4a5b6c");
  transfer.mutable_call()->set_call_id(stored->call_id);
  transfer.set_target_uri("sip:1003@acme.sb.test");
  auto refused =
      sb::bus::RequestProto<switchboard::call::v1::CommandReply>(*rig.bus, *subject, transfer, 5s);
  REQUIRE(refused.ok());
  CHECK(refused->error().code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);

  transfer.mutable_call()->set_tenant_id(kTenant.str());
  auto accepted =
      sb::bus::RequestProto<switchboard::call::v1::CommandReply>(*rig.bus, *subject, transfer, 5s);
  REQUIRE(accepted.ok());
  CHECK(accepted->error().code() == 0);
  sb::sip::Message target_invite = AnswerAs(target, "target", rig);
  CHECK((*target_invite.From())->uri.user == "1001");
  sb::sip::Message bye = callee.ExpectRequest(sb::sip::Method::kBye);
  CHECK((*bye.To())->tag() == "callee");
  callee.sip.SendTo(Reply(bye, 200, "callee", callee), rig.port());
  CHECK(RtpReaches(caller.rtp, MediaPort(ok.body()), target.rtp));
  CHECK(RtpReaches(target.rtp, MediaPort(target_invite.body()), caller.rtp));
  CHECK(rig.events.WaitFor("answered ", "-b1"));
}
