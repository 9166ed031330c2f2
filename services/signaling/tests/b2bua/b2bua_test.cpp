// The B2BUA's call flows on a FakeClock with the endpoint's bytes read back: the test plays the
// caller and the callee's phones; admin, the registrar's bindings, the media node, the event
// stream and Redis are small stateful stand-ins behind the B2BUA's ports (the real ones are
// exercised by the integration tests), and blocking work runs inline.
#include "b2bua/b2bua.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "b2bua/b2bua_call_control.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/metrics.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/digest.h"

namespace {

using namespace sb::signaling;
using namespace sb::signaling::b2bua;
using sb::sip::Destination;
using sb::sip::Message;
using sb::sip::Transport;

const Destination kCaller{"10.1.1.1", 5060, Transport::kUdp};
const Destination kDesk{"10.2.2.2", 5062, Transport::kUdp};
const Destination kMobile{"10.3.3.3", 5064, Transport::kUdp};
const Destination kCarrier{"198.51.100.7", 5060, Transport::kUdp};
const Destination kTarget{"10.4.4.4", 5066, Transport::kUdp};  // 1003, a transfer's target
const sb::TenantId kTenant{"tenant-acme"};

const char kCallerSdp[] =
    "v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

sb::sip::ParseOptions Lenient() {
  sb::sip::ParseOptions options;
  options.validate = false;
  return options;
}

Message Parse(const std::string& bytes) {
  auto parsed = Message::Parse(bytes, Lenient());
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

std::string NodeSdp(std::string_view leg, int version = 1, std::string_view origin = "node") {
  return "v=0\r\no=" + std::string(origin) + " 7 " + std::to_string(version) +
         " IN IP4 127.0.0.9\r\ns=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n"
         "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=x-leg:" +
         std::string(leg) + "\r\n";
}

// Authenticated when the INVITE carries any Proxy-Authorization; 407 otherwise.
struct Authorizer : CallAuthorizer {
  AuthOutcome Authorize(const Message& invite, const std::string&) override {
    AuthOutcome out;
    if (!invite.Header(sb::sip::HeaderId::kProxyAuthorization)) {
      out.code = 407;
      out.headers = {{"Proxy-Authenticate", "Digest realm=\"acme.sb.test\", nonce=\"n1\""}};
      return out;
    }
    out.caller = {kTenant, "acme.sb.test", "1001", {}};
    return out;
  }
  // Like DigestCallAuthorizer's when memory says the source is clear and no trunk's: the 407
  // Authorize would give, without a worker.
  bool challenge_on_loop = false;
  std::optional<AuthOutcome> ChallengeOnLoop(const Message& invite,
                                             const std::string& entry) override {
    if (!challenge_on_loop) return std::nullopt;
    AuthOutcome out = Authorize(invite, entry);
    if (out.code == 0) return std::nullopt;
    return out;
  }
};

// The worker pool as the B2BUA sees it: each job's work and then run at once (as
// InlineOffloader does), or, when `deferred`, kept until the test runs them, so that what the
// loop does meanwhile (a CANCEL) is seen. Counts the jobs either way.
struct Jobs : sb::signaling::Offloader {
  bool deferred = false;
  size_t count = 0;
  std::vector<std::pair<std::function<void()>, std::function<void()>>> waiting;
  sb::Status Run(std::function<void()> work, std::function<void()> then) override {
    ++count;
    if (deferred) {
      waiting.emplace_back(std::move(work), std::move(then));
      return sb::Status::Ok();
    }
    work();
    if (then) then();
    return sb::Status::Ok();
  }
  // A callback's way back to the loop (an asynchronous media answer): no worker job, but held
  // back with the jobs when `deferred`, as it would come later.
  void ToLoop(std::function<void()> task) override {
    if (deferred) {
      waiting.emplace_back([] {}, std::move(task));
      return;
    }
    task();
  }
  // The waiting jobs, in order (and those they queue).
  void RunWaiting() {
    while (!waiting.empty()) {
      auto [work, then] = std::move(waiting.front());
      waiting.erase(waiting.begin());
      work();
      if (then) then();
    }
  }
};

// Routes what the test set in `routes`; any other dialled user is an extension of the caller's.
// `asked` is who dialled what ("1001 1003"), in order.
struct Router : CallRouter {
  std::map<std::string, Route, std::less<>> routes;
  std::vector<std::string> asked;
  Route Resolve(const Caller& caller, std::string_view dialed) override {
    asked.push_back(caller.extension + " " + std::string(dialed));
    auto it = routes.find(dialed);
    Route r;
    if (it != routes.end()) {
      r = it->second;
    } else {
      r.domain = caller.domain;
      r.extension = std::string(dialed);
      r.to_uri = "sip:" + std::string(dialed) + "@" + caller.domain;
    }
    r.from_uri = "sip:" + caller.extension + "@" + caller.domain;
    return r;
  }
  // The route set in `trunk_routes` for the trunk named; 404 for any other.
  std::map<std::string, Route, std::less<>> trunk_routes;
  Route ThroughTrunk(const Caller& caller, std::string_view trunk_id, std::string_view dialed,
                     std::string_view caller_id) override {
    asked.push_back("trunk " + std::string(trunk_id) + " " + std::string(dialed) + " as " +
                    std::string(caller_id) + "@" + caller.domain);
    auto it = trunk_routes.find(trunk_id);
    if (it != trunk_routes.end()) return it->second;
    Route r;
    r.code = 404;
    r.reason = "No Route";
    r.cause = "not_found";
    return r;
  }
};

struct Locator : CalleeLocator {
  std::map<std::string, std::vector<Target>> extensions;
  sb::Result<std::vector<Target>> Locate(const sb::TenantId& tenant, std::string_view,
                                         std::string_view number) override {
    auto it = extensions.find(std::string(number));
    if (tenant != kTenant || it == extensions.end()) return sb::Status::NotFound("no extension");
    return it->second;
  }
};

// Media nodes: "media-1" (its descriptions' origin "node"), or whichever `next_node` names.
struct Media : MediaAnchor {
  std::set<std::string> legs;
  std::map<std::string, std::string> node_of;  // leg -> its node
  // Like the node: a leg is in one bridge at a time; destroying it frees its peer.
  std::map<std::string, std::string> bridged;
  std::vector<std::string> log;
  bool refuse_offers = false;         // like a node that knows none of the offer's codecs
  std::string next_node = "media-1";  // the least-loaded node, for a leg that names none
  sb::Result<Leg> CreateLeg(const sb::TenantId&, std::string_view, std::string_view leg_id,
                            std::string_view node_id, std::string_view offer) override {
    if (refuse_offers && !offer.empty()) return sb::Status::InvalidArgument("no common codec");
    const std::string node = node_id.empty() ? next_node : std::string(node_id);
    legs.emplace(leg_id);
    node_of[std::string(leg_id)] = node;
    log.push_back("create " + std::string(leg_id) + (offer.empty() ? " offer" : " answer"));
    return Leg{node, NodeSdp(leg_id, 1, Origin(node)), "PCMU"};
  }
  sb::Result<Leg> UpdateLeg(std::string_view node, std::string_view leg_id, bool is_offer,
                            std::string_view) override {
    if (!On(node, leg_id)) return sb::Status::NotFound("no leg");
    log.push_back("update " + std::string(leg_id) + (is_offer ? " offer" : " answer"));
    return Leg{std::string(node), NodeSdp(leg_id, 2, Origin(node)), "PCMU"};
  }
  sb::Result<bool> Bridge(std::string_view node, std::string_view a, std::string_view b) override {
    if (!On(node, a) || !On(node, b)) return sb::Status::NotFound("no such leg on the node");
    if (bridged.count(std::string(a)) || bridged.count(std::string(b))) {
      return sb::Status::FailedPrecondition("already bridged");
    }
    bridged[std::string(a)] = b;
    bridged[std::string(b)] = a;
    log.push_back("bridge " + std::string(a) + " " + std::string(b));
    return false;
  }
  sb::Result<std::string> Play(std::string_view, std::string_view leg_id,
                               const PlayParams& params) override {
    if (!legs.count(std::string(leg_id))) return sb::Status::NotFound("no leg");
    log.push_back("play " + std::string(leg_id) + " " + params.tone + params.wav_file);
    return std::string("playback-1");
  }
  sb::Status StopPlay(std::string_view, std::string_view leg_id) override {
    log.push_back("stop_play " + std::string(leg_id));
    return sb::Status::Ok();
  }
  sb::Result<RecordingStarted> RecordStart(std::string_view, std::string_view leg_id,
                                           const RecordParams& params) override {
    log.push_back("record " + std::string(leg_id) + (params.mixed ? " mixed" : ""));
    return RecordingStarted{.recording_id = "rec-1", .file = "/recordings/rec-1.wav"};
  }
  sb::Status RecordStop(std::string_view, std::string_view leg_id) override {
    log.push_back("record_stop " + std::string(leg_id));
    return sb::Status::Ok();
  }
  sb::Status DestroyLeg(std::string_view node, std::string_view leg_id) override {
    if (!On(node, leg_id)) return sb::Status::NotFound("no leg");
    legs.erase(std::string(leg_id));
    if (auto it = bridged.find(std::string(leg_id)); it != bridged.end()) {
      bridged.erase(it->second);
      bridged.erase(it);
    }
    log.push_back("destroy " + std::string(leg_id));
    return sb::Status::Ok();
  }
  // The node's final statistics of each leg it destroys for an ended call.
  void ReleaseLegsReporting(std::string_view node, const std::vector<std::string>& released,
                            std::function<void(LegFinals)> done) override {
    LegFinals finals;
    for (const auto& leg : released) {
      if (On(node, leg)) finals[leg] = {.jitter_ms = 2.5, .packets_received = 500, .mos = 4.3};
    }
    (void)DestroyLegs(node, released);
    done(std::move(finals));
  }
  bool On(std::string_view node, std::string_view leg) const {
    auto it = node_of.find(std::string(leg));
    return legs.count(std::string(leg)) && it != node_of.end() && it->second == node;
  }
  static std::string Origin(std::string_view node) {
    return node == "media-1" ? "node" : std::string(node);
  }
};

struct Events : CallEvents {
  std::vector<std::string> seen;
  void Created(const CallSummary& c) override { seen.push_back("created " + c.to_uri); }
  void Ringing(const CallSummary& c) override {
    seen.push_back("ringing " + std::to_string(c.sip_code));
  }
  void Answered(const CallSummary&) override { seen.push_back("answered"); }
  void Ended(const CallSummary& c) override {
    seen.push_back("ended " + c.cause + " " + std::to_string(c.sip_code));
    ended.push_back(c);
  }
  std::optional<PreparedEvent> PrepareAnswered(const CallSummary& c) override {
    return PreparedEvent{
        .kind = PreparedEvent::Kind::kAnswered, .call = c, .message = {.msg_id = c.call_id}};
  }
  std::optional<PreparedEvent> PrepareEnded(const CallSummary& c) override {
    return PreparedEvent{.call = c, .message = {.msg_id = c.call_id + ".ended"}};
  }
  void SendPrepared(PreparedEvent e, bool kept) override {
    if (e.kind == PreparedEvent::Kind::kAnswered) {
      Answered(e.call);
    } else {
      Ended(e.call);
    }
    if (kept) sent_kept.push_back(e.message.msg_id);
  }
  std::vector<CallSummary> ended;
  std::vector<std::string> sent_kept;  // ended events the store had kept with the removal
};

// Like RedisCallStore: each saved dialog keeps a key naming its call until the call is removed,
// also after a transfer gave the call another dialog.
struct Store : CallStore {
  // Like RedisCallStore given the loop's connection (its writes in the order made): ringing
  // calls are stored too.
  bool on_loop = false;
  bool works_on_loop() const override { return on_loop; }
  size_t saves = 0;
  std::map<std::string, StoredCall> calls;
  std::map<std::pair<std::string, std::string>, std::string> dialogs;
  // The node each removal named: whose list of carried calls it leaves (redis_call_owners.h).
  std::vector<std::string> removed_from;
  std::vector<std::string> kept_events;  // msg ids of the ended events kept with removals
  sb::Status Save(const StoredCall& call, const PreparedEvent*) override {
    ++saves;
    if (call.existing_only && calls.count(call.call_id) == 0) return sb::Status::Ok();
    calls[call.call_id] = call;
    for (const auto* d : {&call.caller, &call.callee}) {
      if (!d->id.call_id.empty()) dialogs[{d->id.call_id, d->id.local_tag}] = call.call_id;
    }
    return sb::Status::Ok();
  }
  sb::Result<StoredCall> FindByDialog(std::string_view call_id, std::string_view tag) override {
    auto it = dialogs.find({std::string(call_id), std::string(tag)});
    if (it == dialogs.end()) return sb::Status::NotFound("no call");
    return Find(it->second);
  }
  sb::Result<StoredCall> Find(std::string_view id) override {
    auto it = calls.find(std::string(id));
    if (it == calls.end()) return sb::Status::NotFound("no call");
    StoredCall found = it->second;
    found.existing_only = true;  // as RedisCallStore reads it
    return found;
  }
  sb::Status Remove(const StoredCall& call, const PreparedEvent* ended) override {
    removed_from.push_back(call.node_id);
    if (ended != nullptr) kept_events.push_back(ended->message.msg_id);
    if (auto it = calls.find(call.call_id); it != calls.end()) {
      for (const auto* d : {&it->second.caller, &it->second.callee}) {
        dialogs.erase({d->id.call_id, d->id.local_tag});
      }
    }
    calls.erase(call.call_id);
    return sb::Status::Ok();
  }
};

struct Node {
  Node(sb::core::FakeClock& clock, Authorizer& auth, Router& router, Locator& locator, Media& media,
       Events& events, Store& store, uint64_t seed,
       std::chrono::milliseconds no_answer = std::chrono::seconds(20))
      : endpoint(clock, metrics,
                 [seed] {
                   EndpointConfig c;
                   c.advertised_host = "203.0.113.5";
                   c.advertised_port = 5060;
                   c.seed = seed;
                   return c;
                 }()),
        b2bua(endpoint, offloader, Ports{auth, router, locator, media, events, store},
              {.node_id = "sig-1", .no_answer_timeout = no_answer, .seed = seed}) {
    endpoint.SetHandler(sb::sip::Method::kInvite, &b2bua);
    endpoint.SetDialogHandler(&b2bua);
  }
  sb::core::MetricsRegistry metrics;
  SipEndpoint endpoint;
  Jobs offloader;
  B2bua b2bua;
};

struct Out {
  Destination to;
  std::string bytes;
};

struct Fixture {
  sb::core::FakeClock clock;
  Authorizer auth;
  Router router;
  Locator locator;
  Media media;
  Events events;
  Store store;
  std::chrono::milliseconds no_answer;
  Node node{clock, auth, router, locator, media, events, store, 11, no_answer};
  std::vector<Out> wire;  // everything sent, in order, not yet looked at

  // Another replica of the same deployment (the same store, media and admin), as a phone's
  // request or the adopter reaches one that never saw the call.
  Node Replica(uint64_t seed) {
    return Node(clock, auth, router, locator, media, events, store, seed);
  }

  explicit Fixture(std::chrono::milliseconds no_answer_timeout = std::chrono::seconds(20))
      : no_answer(no_answer_timeout) {
    locator.extensions["1002"] = {{"sip:1002@192.168.1.20:5062", kDesk, {"<sip:edge.sb.test;lr>"}},
                                  {"sip:1002@192.168.1.30:5064", kMobile, {}}};
    locator.extensions["1004"] = {};
    locator.extensions["1003"] = {{"sip:1003@192.168.1.40:5066", kTarget, {}}};
  }

  // After FailOver, another replica takes what phones send, as the balancer does once the
  // call's node is gone; the first node is silent from then on.
  std::unique_ptr<Node> survivor;
  void FailOver(uint64_t seed) {
    survivor = std::make_unique<Node>(clock, auth, router, locator, media, events, store, seed);
  }
  Node& Serving() { return survivor ? *survivor : node; }

  void Pump() {
    for (auto& s : Serving().endpoint.TakeSends()) wire.push_back({s.destination, s.bytes});
  }
  void Receive(const std::string& bytes, const Destination& from) {
    Serving().endpoint.OnReceived(bytes, from);
    Pump();
  }
  // The next message sent to `to` (removed from the wire).
  std::optional<Message> Next(const Destination& to) {
    Pump();
    for (auto it = wire.begin(); it != wire.end(); ++it) {
      if (it->to == to) {
        Message m = Parse(it->bytes);
        wire.erase(it);
        return m;
      }
    }
    return std::nullopt;
  }
  // Status codes of the responses sent to `to`, in order (removed from the wire).
  std::vector<int> Codes(const Destination& to) {
    Pump();
    std::vector<int> codes;
    for (auto it = wire.begin(); it != wire.end();) {
      if (it->to == to && Parse(it->bytes).is_response()) {
        codes.push_back(Parse(it->bytes).status_code());
        it = wire.erase(it);
      } else {
        ++it;
      }
    }
    return codes;
  }

  std::string CallerInvite(std::string_view to = "1002", bool credentials = true,
                           std::string_view branch = "z9hG4bKa1", int cseq = 1) {
    std::string m = "INVITE sip:" + std::string(to) + "@acme.sb.test SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=" + std::string(branch) + "\r\n";
    m += "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n";
    m += "To: <sip:" + std::string(to) + "@acme.sb.test>\r\nCall-ID: a-call\r\n";
    m += "CSeq: " + std::to_string(cseq) + " INVITE\r\nContact: <sip:1001@10.1.1.1:5060>\r\n";
    if (credentials) m += "Proxy-Authorization: Digest username=\"1001\"\r\n";
    m += "Content-Type: application/sdp\r\nContent-Length: " +
         std::to_string(sizeof(kCallerSdp) - 1) + "\r\n\r\n" + kCallerSdp;
    return m;
  }
  // A request of the caller inside its dialog (To tag from the B2BUA's 200).
  std::string CallerInDialog(std::string_view method, std::string_view to_tag, int cseq,
                             std::string_view body = {}) {
    std::string m = std::string(method) + " sip:203.0.113.5:5060 SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKc" + std::to_string(cseq) + "\r\n";
    m += "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n";
    m += "To: <sip:1002@acme.sb.test>;tag=" + std::string(to_tag) + "\r\nCall-ID: a-call\r\n";
    m += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\n";
    m += "Contact: <sip:1001@10.1.1.1:5060>\r\n";
    if (!body.empty()) m += "Content-Type: application/sdp\r\n";
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    return m;
  }
  static std::string Answer(const Message& request, int code, std::string_view tag,
                            std::string_view body = {}) {
    auto r = sb::sip::MakeResponse(request, code, {}, tag);
    if (code > 100 && code < 300) r.AddHeader("Contact", "<sip:1002@192.168.1.20:5062>");
    if (!body.empty()) r.SetBody(body, "application/sdp");
    return r.Build();
  }
  // A request of a callee inside the dialog its 200 created.
  static std::string CalleeInDialog(const Message& invite, std::string_view method,
                                    std::string_view tag, int cseq, std::string_view body = {}) {
    auto from = invite.From();
    std::string m = std::string(method) + " sip:203.0.113.5:5060 SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 192.168.1.20:5062;rport;branch=z9hG4bKb" + std::to_string(cseq) +
         "\r\nMax-Forwards: 70\r\n";
    m += "From: <sip:1002@acme.sb.test>;tag=" + std::string(tag) + "\r\n";
    m += "To: <sip:1001@acme.sb.test>;tag=" + std::string((*from)->tag()) + "\r\n";
    m += "Call-ID: " + std::string(*invite.CallId()) + "\r\n";
    m += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\n";
    m += "Contact: <sip:1002@192.168.1.20:5062>\r\n";
    if (!body.empty()) m += "Content-Type: application/sdp\r\n";
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    return m;
  }

  // `request` with one more header line.
  static std::string With(std::string request, std::string_view header) {
    return request.insert(request.find("Content-Length:"), std::string(header) + "\r\n");
  }
  Message Take(const Destination& to) {
    auto m = Next(to);
    REQUIRE(m);
    return std::move(*m);
  }

  struct Rung {
    Message desk;
    Message mobile;
  };
  // The caller rings 1002: the INVITEs to its desk phone and its mobile.
  Rung Ring() {
    Receive(CallerInvite(), kCaller);
    auto desk = Next(kDesk);
    auto mobile = Next(kMobile);
    REQUIRE(desk);
    REQUIRE(mobile);
    return {std::move(*desk), std::move(*mobile)};
  }

  struct Answered {
    Message desk_invite;
    Message mobile_invite;
    std::string caller_tag;  // the B2BUA's To tag towards the caller
    std::string caller_sdp;  // the description in the caller's 200
  };
  // Caller rings 1002: the desk phone answers.
  Answered Connect() {
    auto [desk, mobile] = Ring();
    Receive(Answer(desk, 180, "desk"), kDesk);
    Receive(Answer(mobile, 180, "mobile"), kMobile);
    Receive(Answer(desk, 200, "desk", kCallerSdp), kDesk);
    std::string tag = CallerTag();
    std::string sdp;
    for (const auto& sent : wire) {
      if (sent.to == kCaller && Parse(sent.bytes).status_code() == 200) {
        sdp = std::string(Parse(sent.bytes).body());
      }
    }
    wire.clear();
    return {std::move(desk), std::move(mobile), tag, sdp};
  }
  // Connected, then the desk phone REFERs the caller to 1003: 202 (from another replica when the
  // call's node is gone by then).
  Answered ReferFromDesk(bool after_failover = false) {
    Answered call = Connect();
    if (after_failover) FailOver(99);
    Receive(With(CalleeInDialog(call.desk_invite, "REFER", "desk", 2),
                 "Refer-To: <sip:1003@acme.sb.test>"),
            kDesk);
    CHECK(Codes(kDesk) == std::vector<int>{202});
    return call;
  }
  // The B2BUA's To tag in its 200 to the caller (still on the wire): the caller's dialog.
  std::string CallerTag() {
    Pump();
    std::string tag;
    for (auto it = wire.begin(); it != wire.end(); ++it) {
      if (it->to == kCaller && Parse(it->bytes).status_code() == 200) {
        tag = std::string((*Parse(it->bytes).To())->tag());
      }
    }
    REQUIRE_FALSE(tag.empty());
    return tag;
  }
};

}  // namespace

TEST_CASE("an INVITE without credentials is challenged 407 and is no call yet", "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite("1002", false), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 407});
  CHECK(f.events.seen.empty());
  CHECK(f.node.b2bua.calls() == 0);
  CHECK(f.media.legs.empty());
}

TEST_CASE(
    "an INVITE the authorizer can challenge on the loop gets its 407 without a worker job - "
    "the INVITE with credentials then goes to a worker as before",
    "[unit]") {
  Fixture f;
  f.auth.challenge_on_loop = true;
  f.Receive(f.CallerInvite("1002", false), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 407});
  CHECK(f.node.offloader.count == 0);
  CHECK(f.node.b2bua.calls() == 0);
  f.Receive(f.CallerInvite("1002", true, "z9hG4bKa2", 2), kCaller);
  CHECK(f.node.offloader.count > 0);
  CHECK(f.Next(kDesk));
  CHECK(f.events.seen == std::vector<std::string>{"created sip:1002@acme.sb.test"});
}

TEST_CASE(
    "a call is set up by one worker job - authorized routed located and its leg pair created - "
    "before anything is rung",
    "[unit]") {
  Fixture f;
  f.node.offloader.deferred = true;
  f.Receive(f.CallerInvite(), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100});
  CHECK(f.node.offloader.waiting.size() == 1);
  CHECK(f.router.asked.empty());
  f.node.offloader.RunWaiting();
  CHECK(f.node.offloader.count == 1);
  CHECK(f.router.asked == std::vector<std::string>{"1001 1002"});
  CHECK(f.media.legs.size() == 2);
  CHECK(f.Next(kDesk));
  CHECK(f.Next(kMobile));
  CHECK(f.events.seen == std::vector<std::string>{"created sip:1002@acme.sb.test"});
}

TEST_CASE(
    "the caller cancels while the worker sets the call up - 487 - the leg pair created "
    "meanwhile is destroyed - nobody is rung",
    "[unit]") {
  Fixture f;
  f.node.offloader.deferred = true;
  f.Receive(f.CallerInvite(), kCaller);
  std::string cancel = f.CallerInvite();
  cancel.replace(0, 6, "CANCEL");
  cancel.replace(cancel.find("1 INVITE"), 8, "1 CANCEL");
  f.Receive(cancel, kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 200, 487});
  CHECK(f.node.b2bua.calls() == 0);
  f.node.offloader.RunWaiting();
  CHECK(std::count_if(f.media.log.begin(), f.media.log.end(),
                      [](const std::string& l) { return l.starts_with("create "); }) == 2);
  CHECK(f.media.legs.empty());
  CHECK_FALSE(f.Next(kDesk));
  CHECK_FALSE(f.Next(kMobile));
  CHECK(f.events.seen.empty());  // not routed yet when it was cancelled: no call to report
}

TEST_CASE(
    "the media node refuses the caller's offer in the set-up job - 488 - created and ended "
    "media_failure - nobody is rung",
    "[unit]") {
  Fixture f;
  f.media.refuse_offers = true;
  f.Receive(f.CallerInvite(), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 488});
  CHECK(f.events.seen ==
        std::vector<std::string>{"created sip:1002@acme.sb.test", "ended media_failure 488"});
  CHECK(f.media.legs.empty());
  CHECK_FALSE(f.Next(kDesk));
  CHECK(f.node.b2bua.calls() == 0);
}

TEST_CASE("an INVITE whose body is not SDP is refused 415 before any challenge - no call",
          "[unit]") {
  Fixture f;
  std::string invite = f.CallerInvite("1002", false);
  invite = invite.substr(0, invite.find("Content-Type: application/sdp"));
  f.Receive(invite + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 415});
  CHECK(f.events.seen.empty());
  CHECK(f.node.b2bua.calls() == 0);
  CHECK(f.media.legs.empty());
}

TEST_CASE(
    "ring all contacts - 180 relayed once - first 200 wins - the other is cancelled - "
    "media bridged - the caller gets the node's answer",
    "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite(), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100});
  auto desk = f.Next(kDesk);
  auto mobile = f.Next(kMobile);
  REQUIRE(desk);
  REQUIRE(mobile);
  // The callee is offered the media node's SDP, never the caller's; the desk's Path is its Route.
  CHECK(desk->request_uri_text() == "sip:1002@192.168.1.20:5062");
  CHECK(desk->Header(sb::sip::HeaderId::kRoute) ==
        std::optional<std::string_view>("<sip:edge.sb.test;lr>"));
  CHECK_FALSE(mobile->Header(sb::sip::HeaderId::kRoute));
  CHECK(desk->body().find("x-leg:") != std::string_view::npos);
  CHECK(desk->body().find("10.1.1.1") == std::string_view::npos);
  CHECK((*desk->From())->uri.user == "1001");
  REQUIRE(f.media.log.size() == 2);
  CHECK(f.media.log[0].ends_with("-a answer"));
  CHECK(f.media.log[1].ends_with("-b offer"));

  f.Receive(f.Answer(*desk, 180, "desk"), kDesk);
  f.Receive(f.Answer(*mobile, 180, "mobile"), kMobile);
  CHECK(f.Codes(kCaller) == std::vector<int>{180});

  f.Receive(f.Answer(*mobile, 200, "mobile", kCallerSdp), kMobile);
  auto ack = f.Next(kMobile);
  REQUIRE(ack);
  CHECK(ack->method() == sb::sip::Method::kAck);
  auto cancel = f.Next(kDesk);
  REQUIRE(cancel);
  CHECK(cancel->method() == sb::sip::Method::kCancel);
  f.Pump();
  Message ok = [&] {
    for (auto& w : f.wire) {
      if (w.to == kCaller) return Parse(w.bytes);
    }
    FAIL("no 200 to the caller");
    return Parse(f.wire.at(0).bytes);
  }();
  CHECK(ok.status_code() == 200);
  CHECK(ok.body().find("-a\r\n") != std::string_view::npos);  // leg a's node SDP
  REQUIRE(f.media.log.size() == 4);
  CHECK(f.media.log[2].ends_with("-b answer"));
  CHECK(f.media.log[3].starts_with("bridge "));
  CHECK(f.events.seen ==
        std::vector<std::string>{"created sip:1002@acme.sb.test", "ringing 180", "answered"});
  CHECK(f.store.calls.size() == 1);
  const StoredCall& stored = f.store.calls.begin()->second;
  CHECK(sb::core::IsUuid(stored.call_id));  // what the call commands accept
  CHECK(stored.caller.id.call_id == "a-call");
  CHECK(stored.callee.peer == kMobile);
  CHECK(stored.media_node_id == "media-1");

  // The desk answers the CANCEL and its INVITE 487: nothing reaches the caller.
  f.Receive(f.Answer(*cancel, 200, "desk"), kDesk);
  f.Receive(f.Answer(*desk, 487, "desk"), kDesk);
  CHECK(f.Codes(kCaller).size() <= 1);  // at most the 200 still on the wire
}

TEST_CASE(
    "early media - the callee's 183 SDP completes leg b and is bridged - the caller gets 183 "
    "with the node's answer - the 200 with the same SDP changes nothing",
    "[unit]") {
  Fixture f;
  auto [desk, mobile] = f.Ring();
  f.Receive(f.Answer(mobile, 180, "mobile"), kMobile);
  f.Receive(f.Answer(desk, 183, "desk", kCallerSdp), kDesk);
  REQUIRE(f.media.log.size() == 4);
  CHECK(f.media.log[2].ends_with("-b answer"));
  CHECK(f.media.log[3].starts_with("bridge "));
  auto trying = f.Next(kCaller);
  auto ringing = f.Next(kCaller);
  auto progress = f.Next(kCaller);
  REQUIRE(progress);
  CHECK(trying->status_code() == 100);
  CHECK(ringing->status_code() == 180);
  CHECK(ringing->body().empty());
  CHECK(progress->status_code() == 183);
  CHECK(progress->body().find("-a\r\n") != std::string_view::npos);  // leg a's node SDP
  CHECK(progress->body().find("10.1.1.1") == std::string_view::npos);

  f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.media.log.size() == 4);
  std::optional<Message> ok;
  while (auto m = f.Next(kCaller)) ok = std::move(m);
  REQUIRE(ok);
  CHECK(ok->status_code() == 200);
  CHECK(ok->body() == progress->body());
  CHECK(f.events.seen ==
        std::vector<std::string>{"created sip:1002@acme.sb.test", "ringing 180", "answered"});
}

TEST_CASE(
    "early media from one contact - another answers with its own SDP - leg b takes the "
    "answer without a second bridge",
    "[unit]") {
  Fixture f;
  auto [desk, mobile] = f.Ring();
  f.Receive(f.Answer(desk, 183, "desk", kCallerSdp), kDesk);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 183});
  CHECK(f.events.seen.back() == "ringing 183");
  std::string mobile_sdp = kCallerSdp;
  mobile_sdp.replace(mobile_sdp.find("4000"), 4, "4100");
  f.Receive(f.Answer(mobile, 200, "mobile", mobile_sdp), kMobile);
  REQUIRE(f.media.log.size() == 5);
  CHECK(f.media.log[4].ends_with("-b answer"));
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  CHECK(f.events.seen.back() == "answered");
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kCancel);
}

// The caller's INVITE asking for reliable provisionals (RFC 3262).
std::string RequireRel100(std::string invite) {
  return invite.insert(invite.find("Max-Forwards"), "Require: 100rel\r\n");
}

std::string WithHeader(std::string message, std::string_view header) {
  return message.insert(message.find("Content-Length"), std::string(header) + "\r\n");
}

std::string HeaderOf(const Message& m, std::string_view name) {
  return std::string(m.Header(name).value_or(""));
}

uint32_t CSeqOf(const Message& m) {
  auto cseq = m.GetCSeq();
  REQUIRE(cseq.ok());
  return (*cseq)->number;
}

TEST_CASE(
    "a caller requiring 100rel gets its 183 reliably - resent until the PRACK - the 200 "
    "waits for it",
    "[unit]") {
  Fixture f;
  f.locator.extensions["1002"].pop_back();
  f.Receive(RequireRel100(f.CallerInvite()), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100});
  auto desk = f.Next(kDesk);
  REQUIRE(desk);
  f.Receive(f.Answer(*desk, 183, "desk", kCallerSdp), kDesk);
  auto progress = f.Next(kCaller);
  REQUIRE(progress);
  CHECK(progress->status_code() == 183);
  CHECK(progress->HasToken(sb::sip::HeaderId::kRequire, "100rel"));
  auto rseq = progress->Header("RSeq");
  REQUIRE(rseq);
  const std::string tag(progress->To().value()->tag());

  // The callee answers: the caller's 200 waits for the PRACK of the 183 with SDP.
  f.Receive(f.Answer(*desk, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.Codes(kCaller).empty());
  f.clock.Advance(std::chrono::milliseconds(500));
  f.node.endpoint.OnTimers();
  auto again = f.Next(kCaller);
  REQUIRE(again);
  CHECK(again->status_code() == 183);
  CHECK(again->Header("RSeq") == rseq);

  f.Receive(
      WithHeader(f.CallerInDialog("PRACK", tag, 2), "RAck: " + std::string(*rseq) + " 1 INVITE"),
      kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200, 200});
  CHECK(f.events.seen.back() == "answered");
  // Acknowledged: no more copies of the 183.
  f.clock.Advance(std::chrono::seconds(2));
  f.node.endpoint.OnTimers();
  for (auto m = f.Next(kCaller); m; m = f.Next(kCaller)) CHECK(m->status_code() != 183);
}

TEST_CASE(
    "a caller that never PRACKs its reliable 180 - the INVITE is answered 500 after 64*T1 - "
    "the callee is cancelled - the call ends network_failure 500",
    "[unit]") {
  Fixture f(std::chrono::minutes(2));
  f.locator.extensions["1002"].pop_back();
  f.Receive(RequireRel100(f.CallerInvite()), kCaller);
  auto desk = f.Next(kDesk);
  REQUIRE(desk);
  f.Receive(f.Answer(*desk, 180, "desk"), kDesk);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 180});
  for (int i = 0; i < 70; ++i) {
    f.clock.Advance(std::chrono::milliseconds(500));
    f.node.endpoint.OnTimers();
  }
  std::vector<int> codes = f.Codes(kCaller);
  REQUIRE_FALSE(codes.empty());
  CHECK(codes.back() == 500);
  CHECK(std::count(codes.begin(), codes.end(), 180) >= 6);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kCancel);
  CHECK(f.media.legs.empty());
  CHECK(f.node.b2bua.calls() == 0);
  CHECK(f.events.seen.back() == "ended network_failure 500");
}

TEST_CASE(
    "a callee's reliable 183 is PRACKed once - its retransmission is neither PRACKed nor "
    "relayed again - our INVITEs say Supported 100rel",
    "[unit]") {
  Fixture f;
  f.locator.extensions["1002"].pop_back();
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Next(kDesk);
  REQUIRE(desk);
  CHECK(desk->HasToken(sb::sip::HeaderId::kSupported, "100rel"));
  auto reliable = [&] {
    std::string r = f.Answer(*desk, 183, "desk", kCallerSdp);
    return WithHeader(WithHeader(r, "Require: 100rel"), "RSeq: 41");
  };
  f.Receive(reliable(), kDesk);
  auto prack = f.Next(kDesk);
  REQUIRE(prack);
  CHECK(prack->method() == sb::sip::Method::kPrack);
  CHECK(prack->Header("RAck") == std::optional<std::string_view>("41 1 INVITE"));
  CHECK((*prack->To())->tag() == "desk");
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 183});
  f.Receive(f.Answer(*prack, 200, "desk"), kDesk);

  f.Receive(reliable(), kDesk);
  CHECK_FALSE(f.Next(kDesk));
  CHECK(f.Codes(kCaller).empty());
  f.Receive(f.Answer(*desk, 200, "desk"), kDesk);  // the answer was in the 183
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  CHECK(f.media.log.size() == 4);  // leg b completed and bridged once, by the 183
}

TEST_CASE(
    "BYE from the caller - 200 - BYE to the callee - legs destroyed - ended normal, kept with the "
    "call's removal from the store",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  f.Receive(f.CallerInDialog("ACK", call.caller_tag, 1), kCaller);
  f.Receive(f.CallerInDialog("BYE", call.caller_tag, 2), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  auto bye = f.Next(kDesk);
  REQUIRE(bye);
  CHECK(bye->method() == sb::sip::Method::kBye);
  CHECK((*bye->To())->tag() == "desk");
  CHECK(bye->request_uri_text() == "sip:1002@192.168.1.20:5062");
  f.Receive(f.Answer(*bye, 200, "desk"), kDesk);
  CHECK(f.media.legs.empty());
  CHECK(f.events.seen.back() == "ended normal 200");
  CHECK(f.store.calls.empty());
  CHECK(f.store.removed_from == std::vector<std::string>{"sig-1"});
  // In the removal's own step, so that a node killed after it still reports the end.
  CHECK(f.store.kept_events == std::vector<std::string>{f.events.ended.back().call_id + ".ended"});
  CHECK(f.events.sent_kept == f.store.kept_events);
  CHECK(f.node.b2bua.calls() == 0);
  // The mobile's early dialog ends with the 487 to its cancelled INVITE.
  CHECK(f.node.endpoint.dialogs() == 1);
  f.Receive(f.Answer(call.mobile_invite, 487, "mobile"), kMobile);
  CHECK(f.node.endpoint.dialogs() == 0);
}

TEST_CASE(
    "a call from its INVITE to its BYE costs three worker jobs - the record saved with the "
    "node's answer holds the caller's dialog as the 200 created it",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  CHECK(f.node.offloader.count == 2);  // the set-up; the answer with the record
  REQUIRE(f.store.calls.size() == 1);
  const StoredDialog& stored = f.store.calls.begin()->second.caller;
  const sb::sip::Dialog* dialog =
      f.node.endpoint.FindDialog(sb::sip::DialogId{"a-call", call.caller_tag, "caller"});
  REQUIRE(dialog);
  CHECK(stored.id == dialog->id());
  CHECK(stored.local_uri == dialog->local_uri());
  CHECK(stored.remote_uri == dialog->remote_uri());
  CHECK(stored.remote_target == dialog->remote_target());
  CHECK(stored.route_set == dialog->route_set());
  CHECK(stored.next_local_cseq == dialog->local_cseq().value_or(0) + 1000);
  CHECK(stored.peer == kCaller);
  f.Receive(f.CallerInDialog("ACK", call.caller_tag, 1), kCaller);
  f.Receive(f.CallerInDialog("BYE", call.caller_tag, 2), kCaller);
  CHECK(f.node.offloader.count == 3);  // the tear-down
  CHECK(f.store.calls.empty());
}

TEST_CASE("BYE from the callee - the caller gets a BYE in its dialog", "[unit]") {
  Fixture f;
  auto call = f.Connect();
  f.Receive(f.CalleeInDialog(call.desk_invite, "BYE", "desk", 1), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{200});
  auto bye = f.Next(kCaller);
  REQUIRE(bye);
  CHECK(bye->method() == sb::sip::Method::kBye);
  CHECK((*bye->To())->tag() == "caller");
  CHECK((*bye->From())->tag() == call.caller_tag);
  CHECK(bye->request_uri_text() == "sip:1001@10.1.1.1:5060");
  CHECK(f.events.seen.back() == "ended normal 200");

  // What the CDR learns of each leg: the party's dialog and where it is, the media leg, the
  // codec of the answer on it.
  const auto& legs = f.events.ended.back().legs;
  REQUIRE(legs.size() == 2);
  const std::string id = f.events.ended.back().call_id;
  CHECK(legs[0].leg_id == id + "-a");
  CHECK(legs[0].direction == sb::signaling::LegDirection::kInbound);
  CHECK(legs[0].sip_call_id == "a-call");
  CHECK(legs[0].remote_source == "10.1.1.1:5060");
  CHECK(legs[0].remote_contact == "sip:1001@10.1.1.1:5060");
  CHECK(legs[1].leg_id == id + "-b");
  CHECK(legs[1].direction == sb::signaling::LegDirection::kOutbound);
  CHECK(legs[1].sip_call_id == *call.desk_invite.CallId());
  CHECK(legs[1].remote_source == "10.2.2.2:5062");
  CHECK(legs[1].remote_contact == "sip:1002@192.168.1.20:5062");
  for (const auto& leg : legs) {
    CHECK(leg.codec == "PCMU");
    CHECK(leg.media_node_id == "media-1");
    CHECK(leg.media_leg_id == leg.leg_id);
    CHECK(leg.final_sip_code == 200);
    // As the node measured the leg to its end (its destroy_legs reply).
    REQUIRE(leg.media_stats);
    CHECK(leg.media_stats->mos == 4.3);
    CHECK(leg.media_stats->packets_received == 500);
  }
}

TEST_CASE(
    "an ended call's event waits for its legs' final statistics - meanwhile the call still "
    "counts and a BYE crossing ours meets 481, not the record",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  f.node.offloader.deferred = true;  // the node's reply comes later
  f.Receive(f.CallerInDialog("BYE", call.caller_tag, 3), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  CHECK(f.events.ended.empty());
  CHECK(f.node.b2bua.calls() == 1);
  CHECK(f.store.calls.size() == 1);
  f.Receive(f.CalleeInDialog(call.desk_invite, "BYE", "desk", 2), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{481});

  f.node.offloader.RunWaiting();
  REQUIRE(f.events.ended.size() == 1);
  CHECK(f.events.seen.back() == "ended normal 200");
  REQUIRE(f.events.ended[0].legs.size() == 2);
  CHECK(f.events.ended[0].legs[1].media_stats->jitter_ms == 2.5);
  CHECK(f.node.b2bua.calls() == 0);
  CHECK(f.store.calls.empty());
}

TEST_CASE("a busy callee - 486 relayed - media released - ended busy", "[unit]") {
  Fixture f;
  f.locator.extensions["1002"].pop_back();
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Next(kDesk);
  REQUIRE(desk);
  f.Receive(f.Answer(*desk, 486, "desk"), kDesk);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 486});
  CHECK(f.media.legs.empty());
  CHECK(f.events.seen.back() == "ended busy 486");
  // Both legs ended 486 (no media statistics: never answered).
  const auto& legs = f.events.ended.back().legs;
  REQUIRE(legs.size() == 2);
  for (const auto& leg : legs) {
    CHECK(leg.final_sip_code == 486);
    CHECK_FALSE(leg.media_stats);
  }
  CHECK(legs[0].remote_source == "10.1.1.1:5060");  // from the INVITE: no dialog was made
}

TEST_CASE("no answer within the timeout - CANCEL every contact - 480 to the caller", "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Next(kDesk);
  auto mobile = f.Next(kMobile);
  f.Receive(f.Answer(*desk, 180, "desk"), kDesk);
  f.Receive(f.Answer(*mobile, 180, "mobile"), kMobile);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 180});
  f.clock.Advance(std::chrono::seconds(19));
  f.node.endpoint.OnTimers();
  f.Pump();
  CHECK(f.Codes(kCaller).empty());
  f.clock.Advance(std::chrono::seconds(1));
  f.node.endpoint.OnTimers();
  CHECK(f.Codes(kCaller) == std::vector<int>{480});
  auto cancel_desk = f.Next(kDesk);
  auto cancel_mobile = f.Next(kMobile);
  REQUIRE(cancel_desk);
  REQUIRE(cancel_mobile);
  CHECK(cancel_desk->method() == sb::sip::Method::kCancel);
  CHECK(cancel_mobile->method() == sb::sip::Method::kCancel);
  CHECK(f.events.seen.back() == "ended no_answer 480");
  CHECK(f.media.legs.empty());
}

// The methods of everything sent to `to` so far (removed from the wire), retransmissions
// included.
std::vector<sb::sip::Method> Methods(Fixture& f, const Destination& to) {
  std::vector<sb::sip::Method> methods;
  while (auto m = f.Next(to)) {
    if (m->is_request()) methods.push_back(m->method());
  }
  return methods;
}

TEST_CASE(
    "a contact silent for 5 s is given up while the other rings on - if it rings later it is "
    "cancelled",
    "[unit]") {
  Fixture f;
  auto [desk, mobile] = f.Ring();
  f.Receive(f.Answer(mobile, 180, "mobile"), kMobile);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 180});
  for (int i = 0; i < 50; ++i) {  // 5 s in steps, so that the INVITE's retransmissions go out
    f.clock.Advance(std::chrono::milliseconds(100));
    f.node.endpoint.OnTimers();
  }
  CHECK(f.Codes(kCaller).empty());  // the mobile still rings
  (void)Methods(f, kDesk);
  // The desk wakes up and rings: cancelled, and the caller hears nothing of it.
  f.Receive(f.Answer(desk, 180, "desk"), kDesk);
  CHECK(Methods(f, kDesk) == std::vector<sb::sip::Method>{sb::sip::Method::kCancel});
  CHECK(f.Codes(kCaller).empty());
  // The mobile answers: the call is connected.
  f.Receive(f.Answer(mobile, 200, "mobile", kCallerSdp), kMobile);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
}

TEST_CASE(
    "the only contact silent for 5 s - 480 to the caller then, not at the no-answer time or "
    "Timer B",
    "[unit]") {
  Fixture f;
  f.locator.extensions["1002"].pop_back();  // the desk only
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Next(kDesk);
  REQUIRE(desk);
  CHECK(f.Codes(kCaller) == std::vector<int>{100});
  f.clock.Advance(std::chrono::milliseconds(4900));
  f.node.endpoint.OnTimers();
  CHECK(f.Codes(kCaller).empty());
  f.clock.Advance(std::chrono::milliseconds(100));
  f.node.endpoint.OnTimers();
  CHECK(f.Codes(kCaller) == std::vector<int>{480});
  CHECK(f.events.seen.back() == "ended no_answer 480");
  CHECK(f.media.legs.empty());
  // Its 200 after all that is hung up.
  (void)Methods(f, kDesk);
  f.Receive(f.Answer(*desk, 200, "desk", kCallerSdp), kDesk);
  CHECK(Methods(f, kDesk) ==
        std::vector<sb::sip::Method>{sb::sip::Method::kAck, sb::sip::Method::kBye});
}

TEST_CASE("a contact that sent only 100 Trying is not silent: it rings until the no-answer time",
          "[unit]") {
  Fixture f;
  f.locator.extensions["1002"].pop_back();
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Next(kDesk);
  REQUIRE(desk);
  f.Receive(f.Answer(*desk, 100, ""), kDesk);
  f.clock.Advance(std::chrono::seconds(10));
  f.node.endpoint.OnTimers();
  CHECK(f.Codes(kCaller) == std::vector<int>{100});
  f.clock.Advance(std::chrono::seconds(10));
  f.node.endpoint.OnTimers();
  CHECK(f.Codes(kCaller) == std::vector<int>{480});
}

TEST_CASE("unknown extension 404 - nobody registered 480", "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite("1009"), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 404});
  CHECK(f.events.seen.back() == "ended not_found 404");
  f.Receive(f.CallerInvite("1004", true, "z9hG4bKa2", 2), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 480});
  CHECK(f.events.seen.back() == "ended unavailable 480");
  CHECK(f.media.legs.empty());
}

TEST_CASE(
    "CANCEL from the caller - 487 - every ringing contact cancelled - a late 200 is "
    "hung up",
    "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Next(kDesk);
  auto mobile = f.Next(kMobile);
  f.Receive(f.Answer(*desk, 180, "desk"), kDesk);
  f.Receive(f.Answer(*mobile, 180, "mobile"), kMobile);
  (void)f.Codes(kCaller);
  std::string cancel = f.CallerInvite();
  cancel.replace(0, 6, "CANCEL");
  cancel.replace(cancel.find("1 INVITE"), 8, "1 CANCEL");
  f.Receive(cancel, kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200, 487});
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kCancel);
  CHECK(f.Next(kMobile)->method() == sb::sip::Method::kCancel);
  CHECK(f.events.seen.back() == "ended caller_cancelled 487");
  CHECK(f.media.legs.empty());

  // The mobile answered before its CANCEL arrived: ACK, then BYE.
  f.Receive(f.Answer(*mobile, 200, "mobile", kCallerSdp), kMobile);
  CHECK(f.Next(kMobile)->method() == sb::sip::Method::kAck);
  CHECK(f.Next(kMobile)->method() == sb::sip::Method::kBye);
}

TEST_CASE(
    "a party silent past the RTP timeout ends the call on both sides, media_failure - not while "
    "it is on hold or holding - not for a leg of no call here or a call not answered",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  f.node.b2bua.OnMediaSilent("no-such-leg");
  CHECK_FALSE(f.Next(kCaller));
  CHECK_FALSE(f.Next(kDesk));

  // The caller holds: it sends sendonly, the callee answers recvonly. Neither is expected to
  // send, and neither one's silence ends the call.
  std::string hold = kCallerSdp;
  hold += "a=sendonly\r\n";
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 2, hold), kCaller);
  auto reinvite = f.Next(kDesk);
  REQUIRE(reinvite);
  f.Receive(f.Answer(*reinvite, 200, "desk", std::string(kCallerSdp) + "a=recvonly\r\n"), kDesk);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kAck);
  CHECK(f.Next(kCaller)->status_code() == 100);
  CHECK(f.Next(kCaller)->status_code() == 200);
  f.node.b2bua.OnMediaSilent(id + "-a");
  f.node.b2bua.OnMediaSilent(id + "-b");
  CHECK_FALSE(f.Next(kCaller));
  CHECK_FALSE(f.Next(kDesk));
  CHECK(f.node.b2bua.calls() == 1);

  // Off hold: the caller's silence now means its phone is gone.
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 3, kCallerSdp), kCaller);
  reinvite = f.Next(kDesk);
  REQUIRE(reinvite);
  f.Receive(f.Answer(*reinvite, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kAck);
  CHECK(f.Next(kCaller)->status_code() == 100);
  CHECK(f.Next(kCaller)->status_code() == 200);
  f.node.b2bua.OnMediaSilent(id + "-a");
  CHECK(f.Next(kCaller)->method() == sb::sip::Method::kBye);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kBye);
  CHECK(f.events.seen.back() == "ended media_failure 200");
  CHECK(f.node.b2bua.calls() == 0);
  CHECK(f.store.calls.empty());
}

TEST_CASE("a callee's leg silent while the call still rings ends nothing", "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite(), kCaller);
  REQUIRE(f.Next(kDesk));
  REQUIRE(f.media.legs.size() == 2);
  for (const auto& leg : std::set<std::string>(f.media.legs)) f.node.b2bua.OnMediaSilent(leg);
  CHECK(f.node.b2bua.calls() == 1);
  CHECK(f.events.seen.back() != "ended media_failure 200");
}

TEST_CASE(
    "hold from the caller - the node re-anchors leg a - the callee gets sendonly - the "
    "caller recvonly",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  std::string hold = kCallerSdp;
  hold += "a=sendonly\r\n";
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 2, hold), kCaller);
  CHECK(f.media.log.back().ends_with("-a offer"));
  auto reinvite = f.Next(kDesk);
  REQUIRE(reinvite);
  CHECK(reinvite->method() == sb::sip::Method::kInvite);
  CHECK(reinvite->body().find("a=sendonly") != std::string_view::npos);
  CHECK(reinvite->body().find("o=node 7 2 ") != std::string_view::npos);  // a new version
  f.Receive(f.Answer(*reinvite, 200, "desk", std::string(kCallerSdp) + "a=recvonly\r\n"), kDesk);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kAck);
  auto ok = f.Next(kCaller);
  REQUIRE(ok);
  CHECK(ok->status_code() == 100);
  ok = f.Next(kCaller);
  REQUIRE(ok);
  CHECK(ok->status_code() == 200);
  CHECK(ok->body().find("a=recvonly") != std::string_view::npos);

  // The same hold offer again is a session refresh: the same recvonly answer, no new version,
  // and neither the node nor the callee hears of it.
  const size_t media_requests = f.media.log.size();
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 3, hold), kCaller);
  CHECK_FALSE(f.Next(kDesk));
  CHECK(f.Next(kCaller)->status_code() == 100);
  auto refreshed = f.Next(kCaller);
  REQUIRE(refreshed);
  CHECK(refreshed->status_code() == 200);
  CHECK(refreshed->body() == ok->body());
  CHECK(f.media.log.size() == media_requests);
  // What another replica would answer that refresh with is stored too.
  CHECK(f.store.calls.begin()->second.caller.local_sdp == ok->body());
  CHECK(f.store.calls.begin()->second.caller.peer_sdp == hold);

  // Unhold: sendrecv again, and the description's version grows again.
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 4, kCallerSdp), kCaller);
  auto unhold = f.Next(kDesk);
  REQUIRE(unhold);
  CHECK(unhold->body().find("a=sendrecv") != std::string_view::npos);
  CHECK(unhold->body().find("o=node 7 3 ") != std::string_view::npos);
}

TEST_CASE("INFO in the dialog is relayed and its answer comes back", "[unit]") {
  Fixture f;
  auto call = f.Connect();
  f.Receive(f.CallerInDialog("INFO", call.caller_tag, 2), kCaller);
  auto info = f.Next(kDesk);
  REQUIRE(info);
  CHECK(info->method() == sb::sip::Method::kInfo);
  f.Receive(f.Answer(*info, 200, "desk"), kDesk);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
}

TEST_CASE(
    "another replica ends a stored call - BYE from the caller reaches a node that never "
    "saw it",
    "[unit]") {
  Fixture f;
  const auto connected_at = f.clock.WallNow();
  auto call = f.Connect();
  REQUIRE(f.store.calls.size() == 1);
  f.clock.Advance(std::chrono::seconds(42));
  // A second node with the same store: the first one is gone.
  Node other = f.Replica(99);
  other.endpoint.OnReceived(f.CallerInDialog("BYE", call.caller_tag, 5), kCaller);
  std::vector<Out> out;
  for (auto& s : other.endpoint.TakeSends()) out.push_back({s.destination, s.bytes});
  REQUIRE(out.size() == 2);
  CHECK(out[0].to == kCaller);
  CHECK(Parse(out[0].bytes).status_code() == 200);
  CHECK(out[1].to == kDesk);
  Message bye = Parse(out[1].bytes);
  CHECK(bye.method() == sb::sip::Method::kBye);
  CHECK((*bye.To())->tag() == "desk");
  CHECK(*bye.CallId() == *call.desk_invite.CallId());
  CHECK((*bye.GetCSeq())->number > 1);
  CHECK(f.media.legs.empty());
  CHECK(f.store.calls.empty());
  CHECK(f.events.seen.back() == "ended node_failure 200");
  // What the first node kept with the call, for the duration and billing the event reports.
  const CallSummary& ended = f.events.ended.back();
  CHECK(f.store.kept_events == std::vector<std::string>{ended.call_id + ".ended"});
  CHECK(ended.start_time == connected_at);
  CHECK(ended.answer_time == connected_at);
  CHECK(ended.from_uri == "sip:1001@acme.sb.test");
  CHECK(ended.to_uri == "sip:1002@acme.sb.test");
  CHECK_FALSE(ended.answered_leg.empty());
}

TEST_CASE(
    "another replica keeps a stored call going - an OPTIONS and a refreshing UPDATE get 200 - a "
    "refreshing re-INVITE gets the description the caller had - a REFER is refused 503, rather "
    "than 481 - an INFO reaches the callee - an unknown dialog's UPDATE is 481",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  Node other = f.Replica(99);
  // What `request` from `from` gets from the other node (nothing may reach anybody else).
  auto answers_to = [&](const std::string& request, const Destination& from) {
    other.endpoint.OnReceived(request, from);
    std::vector<Message> answers;
    for (auto& sent : other.endpoint.TakeSends()) {
      CHECK(sent.destination == from);
      Message answer = Parse(sent.bytes);
      if (answer.status_code() != 100) answers.push_back(std::move(answer));
    }
    REQUIRE(answers.size() == 1);
    return std::move(answers[0]);
  };
  auto answer_of = [&](const std::string& request) {
    return answers_to(request, kCaller).status_code();
  };
  CHECK(answer_of(f.CallerInDialog("OPTIONS", call.caller_tag, 5)) == 200);
  Message refreshed = answers_to(
      WithHeader(f.CallerInDialog("UPDATE", call.caller_tag, 6), "Session-Expires: 1800"), kCaller);
  CHECK(refreshed.status_code() == 200);
  CHECK(refreshed.Header(sb::sip::HeaderId::kSessionExpires).has_value());
  CHECK(refreshed.body().empty());

  // A re-INVITE repeating the caller's offer, or offering nothing, gets the 200's description
  // again, from a node that never saw it.
  REQUIRE_FALSE(call.caller_sdp.empty());
  Message reinvited =
      answers_to(WithHeader(f.CallerInDialog("INVITE", call.caller_tag, 7, kCallerSdp),
                            "Session-Expires: 1800"),
                 kCaller);
  CHECK(reinvited.status_code() == 200);
  CHECK(reinvited.body() == call.caller_sdp);
  CHECK(reinvited.Header(sb::sip::HeaderId::kSessionExpires).has_value());
  other.endpoint.OnReceived(f.CallerInDialog("ACK", call.caller_tag, 7), kCaller);
  Message offered = answers_to(f.CallerInDialog("INVITE", call.caller_tag, 8), kCaller);
  CHECK(offered.status_code() == 200);
  CHECK(offered.body() == call.caller_sdp);
  other.endpoint.OnReceived(f.CallerInDialog("ACK", call.caller_tag, 8, kCallerSdp), kCaller);
  CHECK(answers_to(f.CallerInDialog("UPDATE", call.caller_tag, 9, kCallerSdp), kCaller).body() ==
        call.caller_sdp);
  // The callee's side likewise: its answer repeated gets the offer it was sent.
  Message callee_refresh =
      answers_to(Fixture::CalleeInDialog(call.desk_invite, "INVITE", "desk", 2, kCallerSdp), kDesk);
  CHECK(callee_refresh.status_code() == 200);
  CHECK(callee_refresh.body() == call.desk_invite.body());
  other.endpoint.OnReceived(Fixture::CalleeInDialog(call.desk_invite, "ACK", "desk", 2), kDesk);

  CHECK(answer_of(f.CallerInDialog("UPDATE", "no-such-tag", 11)) == 481);
  // What would need the dead node's state fails alone, not the call: 503, not 481. A transfer
  // needs who the parties are, which a record from before version 7 does not say.
  StoredCall& record = f.store.calls.begin()->second;
  const auto parties = record.caller_party;
  record.caller_party = {};
  CHECK(answer_of(Fixture::With(f.CallerInDialog("REFER", call.caller_tag, 12),
                                "Refer-To: <sip:1003@acme.sb.test>")) == 503);
  CHECK(other.b2bua.calls() == 0);
  record.caller_party = parties;
  CHECK(answer_of(f.CallerInDialog("INFO", "no-such-tag", 13)) == 481);

  // A DTMF INFO goes on to the callee, in its dialog past the stored CSeq, and its 200 back.
  const std::string dtmf = "Signal=5\r\nDuration=160\r\n";
  std::string dtmf_info = f.CallerInDialog("INFO", call.caller_tag, 14, dtmf);
  dtmf_info.replace(dtmf_info.find("application/sdp"), 15, "application/dtmf-relay");
  other.endpoint.OnReceived(dtmf_info, kCaller);
  auto sends = other.endpoint.TakeSends();
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].destination == kDesk);
  Message info = Parse(sends[0].bytes);
  CHECK(info.method() == sb::sip::Method::kInfo);
  CHECK(info.body() == dtmf);
  CHECK(HeaderOf(info, "Content-Type") == "application/dtmf-relay");
  CHECK((*info.To())->tag() == "desk");
  CHECK(CSeqOf(info) >= f.store.calls.begin()->second.callee.next_local_cseq);
  other.endpoint.OnReceived(sb::sip::MakeResponse(info, 200).Build(), kDesk);
  auto relayed = other.endpoint.TakeSends();
  REQUIRE(relayed.size() == 1);
  CHECK(relayed[0].destination == kCaller);
  CHECK(Parse(relayed[0].bytes).status_code() == 200);
  // The call is still stored and its media untouched: a BYE would end it as before.
  CHECK(f.store.calls.size() == 1);
  CHECK_FALSE(f.media.legs.empty());
  CHECK(f.events.seen.back() == "answered");
}

// A call a first node answered and stored, which the caller puts on hold (re-INVITE CSeq 10,
// a=sendonly) at a second node that never saw it.
struct HeldOnAnotherReplica {
  Fixture f;
  Fixture::Answered call = f.Connect();
  Node other{f.clock, f.auth, f.router, f.locator, f.media, f.events, f.store, 99};
  StoredCall before = f.store.calls.begin()->second;
  std::string hold = std::string(kCallerSdp) + "a=sendonly\r\n";

  HeldOnAnotherReplica() {
    other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 10, hold), kCaller);
  }
  // What the second node sent since, by destination, without its 100s.
  std::vector<Out> Sent() {
    std::vector<Out> out;
    for (auto& s : other.endpoint.TakeSends()) {
      if (Parse(s.bytes).status_code() != 100) out.push_back({s.destination, s.bytes});
    }
    return out;
  }
};

TEST_CASE(
    "another replica holds and unholds a stored call - the node answers the caller's offer on leg "
    "a - the callee is re-offered sendonly in its dialog - the caller gets recvonly once the "
    "callee accepts - the record keeps the new descriptions, so a refresh of the hold is answered "
    "from it",
    "[unit]") {
  HeldOnAnotherReplica held;
  auto& [f, call, other, before, hold] = held;
  auto sent = [&held] { return held.Sent(); };
  CHECK(f.media.log.back() == "update " + before.media_legs.front() + " offer");
  auto out = sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == kDesk);
  Message reinvite = Parse(out[0].bytes);
  CHECK(reinvite.method() == sb::sip::Method::kInvite);
  CHECK((*reinvite.To())->tag() == "desk");
  CHECK(*reinvite.CallId() == *call.desk_invite.CallId());
  CHECK(CSeqOf(reinvite) >= before.callee.next_local_cseq);
  CHECK(reinvite.body().find("a=sendonly") != std::string_view::npos);
  CHECK(reinvite.body().find("o=node 7 2 ") != std::string_view::npos);  // a new version
  const std::string desk_answer = std::string(kCallerSdp) + "a=recvonly\r\n";
  other.endpoint.OnReceived(Fixture::Answer(reinvite, 200, "desk", desk_answer), kDesk);
  out = sent();
  REQUIRE(out.size() == 2);
  CHECK(out[0].to == kDesk);
  CHECK(Parse(out[0].bytes).method() == sb::sip::Method::kAck);
  CHECK(out[1].to == kCaller);
  Message ok = Parse(out[1].bytes);
  CHECK(ok.status_code() == 200);
  CHECK(ok.body().find("a=recvonly") != std::string_view::npos);
  const StoredCall& after = f.store.calls.begin()->second;
  CHECK(after.caller.peer_sdp == hold);
  CHECK(after.caller.local_sdp == ok.body());
  CHECK(after.callee.local_sdp == reinvite.body());
  CHECK(after.callee.peer_sdp == desk_answer);
  CHECK(after.callee.next_local_cseq > CSeqOf(reinvite));
  CHECK(after.node_id == before.node_id);  // still the dead node's to adopt
  other.endpoint.OnReceived(f.CallerInDialog("ACK", call.caller_tag, 10), kCaller);
  CHECK(sent().empty());

  // The same hold offer again is a refresh: the same answer, and nobody else hears of it.
  const size_t media_requests = f.media.log.size();
  other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 11, hold), kCaller);
  out = sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == kCaller);
  CHECK(Parse(out[0].bytes).body() == ok.body());
  CHECK(f.media.log.size() == media_requests);

  // Unhold: sendrecv again, the callee's description one version on.
  other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 12, kCallerSdp), kCaller);
  out = sent();
  REQUIRE(out.size() == 1);
  Message unhold = Parse(out[0].bytes);
  CHECK(unhold.body().find("a=sendrecv") != std::string_view::npos);
  CHECK(unhold.body().find("o=node 7 3 ") != std::string_view::npos);
  CHECK(CSeqOf(unhold) > CSeqOf(reinvite));
  other.endpoint.OnReceived(Fixture::Answer(unhold, 200, "desk", kCallerSdp), kDesk);
  out = sent();
  REQUIRE(out.size() == 2);
  CHECK(Parse(out[1].bytes).status_code() == 200);
  CHECK(Parse(out[1].bytes).body().find("a=sendrecv") != std::string_view::npos);
  CHECK(f.store.calls.begin()->second.caller.peer_sdp == kCallerSdp);
}

TEST_CASE(
    "a stored call's session change the other party refuses - the offerer gets its code - the "
    "record keeps the descriptions it had",
    "[unit]") {
  HeldOnAnotherReplica held;
  auto& [f, call, other, before, hold] = held;
  auto out = held.Sent();
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == kDesk);
  other.endpoint.OnReceived(Fixture::Answer(Parse(out[0].bytes), 488, "desk"), kDesk);
  std::vector<int> to_caller;
  for (const Out& o : held.Sent()) {
    if (o.to == kCaller) to_caller.push_back(Parse(o.bytes).status_code());
  }
  CHECK(to_caller == std::vector<int>{488});
  const StoredCall& after = f.store.calls.begin()->second;
  CHECK(after.caller.peer_sdp == before.caller.peer_sdp);
  CHECK(after.caller.local_sdp == before.caller.local_sdp);
  CHECK(after.callee.local_sdp == before.callee.local_sdp);
}

TEST_CASE("a call stored without descriptions (an older replica's) refuses every re-INVITE 488",
          "[unit]") {
  Fixture f;
  auto call = f.Connect();
  for (auto& [id, stored] : f.store.calls) stored.caller.local_sdp.clear();
  Node other = f.Replica(99);
  other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 5, kCallerSdp), kCaller);
  std::vector<int> codes;
  for (auto& sent : other.endpoint.TakeSends()) codes.push_back(Parse(sent.bytes).status_code());
  CHECK(codes == std::vector<int>{100, 488});
}

TEST_CASE("a hangup command ends an answered call on both sides", "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  std::optional<sb::Status> other_tenant, ours;
  f.node.b2bua.Hangup(sb::TenantId("tenant-other"), id, [&](sb::Status s) { other_tenant = s; });
  REQUIRE(other_tenant);
  CHECK(other_tenant->code() == sb::StatusCode::kNotFound);
  f.Pump();
  CHECK(f.wire.empty());
  f.node.b2bua.Hangup(kTenant, id, [&](sb::Status s) { ours = s; });
  REQUIRE(ours);
  CHECK(ours->ok());
  CHECK(f.Next(kCaller)->method() == sb::sip::Method::kBye);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kBye);
  CHECK(f.events.seen.back() == "ended hangup_command 200");
}

TEST_CASE("a hangup command for a call only the store knows - BYE both legs from another node",
          "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Node other = f.Replica(77);
  std::optional<sb::Status> done;
  other.b2bua.Hangup(kTenant, id, [&](sb::Status s) { done = s; });
  REQUIRE(done);
  CHECK(done->ok());
  std::vector<Destination> to;
  for (auto& s : other.endpoint.TakeSends()) {
    CHECK(Parse(s.bytes).method() == sb::sip::Method::kBye);
    to.push_back(s.destination);
  }
  CHECK(to == std::vector<Destination>{kCaller, kDesk});
  CHECK(f.store.calls.empty());
  CHECK(f.media.legs.empty());
  // The ended event names the legs from the record, as the node that died would have.
  const auto& legs = f.events.ended.back().legs;
  REQUIRE(legs.size() == 2);
  CHECK(legs[0].leg_id == id + "-a");
  CHECK(legs[0].remote_source == "10.1.1.1:5060");
  CHECK(legs[1].leg_id == id + "-b");
  CHECK(legs[1].remote_source == "10.2.2.2:5062");
  CHECK(legs[1].codec == "PCMU");
  CHECK(legs[1].final_sip_code == 200);
  REQUIRE(legs[1].media_stats);
  CHECK(legs[1].media_stats->mos == 4.3);
  std::optional<sb::Status> again;
  other.b2bua.Hangup(kTenant, id, [&](sb::Status s) { again = s; });
  REQUIRE(again);
  CHECK(again->code() == sb::StatusCode::kNotFound);
}

TEST_CASE(
    "a media command for a call only the store knows - worked on the record's node and caller "
    "leg from another node - another tenant's call or a ringing record is NOT_FOUND",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Node other = f.Replica(77);
  auto play = [&](const sb::TenantId& tenant, const std::string& call_id) {
    std::optional<sb::Status> done;
    other.b2bua.OnCallerLeg(
        tenant, call_id,
        [](MediaAnchor& media, const std::string& node, const std::string& leg) {
          return media.Play(node, leg, {.tone = "ringback"}).status();
        },
        [&](sb::Status s) { done = s; });
    REQUIRE(done);
    return *done;
  };
  CHECK(play(kTenant, id).ok());
  CHECK(f.media.log.back() == "play " + id + "-a ringback");
  CHECK(play(sb::TenantId("tenant-other"), id).code() == sb::StatusCode::kNotFound);
  CHECK(play(kTenant, "no-such-call").code() == sb::StatusCode::kNotFound);
  f.store.calls.at(id).ringing_invite = "INVITE sip:1002@acme.sb.test SIP/2.0\r\n\r\n";
  CHECK(play(kTenant, id).code() == sb::StatusCode::kNotFound);
  CHECK(other.endpoint.TakeSends().empty());
}

TEST_CASE(
    "CallControl - hangup through the loop ends the tenant's call - an answer for it then is "
    "NOT_FOUND - a loop that never runs the command times out",
    "[unit]") {
  Fixture f;
  (void)f.Connect();
  const std::string id = f.store.calls.begin()->first;
  // The loop is this thread here: a posted task runs at once.
  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  CHECK(control.Hangup(sb::TenantId("tenant-other"), sb::CallId(id), {}).code() ==
        sb::StatusCode::kNotFound);
  CHECK(control.Hangup(kTenant, sb::CallId(id), {}).ok());
  CHECK(f.Next(kCaller)->method() == sb::sip::Method::kBye);
  CHECK(f.Next(kDesk)->method() == sb::sip::Method::kBye);
  CHECK(control.Answer(kTenant, sb::CallId(id)).code() == sb::StatusCode::kNotFound);
  // A loop that never runs the task: the command gives up at its deadline, it does not hang.
  B2buaCallControl stuck(
      f.node.b2bua, [](std::function<void()>) {}, std::chrono::milliseconds(10));
  CHECK(stuck.Hangup(kTenant, sb::CallId(id), {}).code() == sb::StatusCode::kDeadlineExceeded);
}

namespace {

std::string Sipfrag(const Message& notify) { return std::string(notify.body()); }

// The transferor's final NOTIFY (200, terminated); the BYE to it comes only once it is answered.
void NotifiedDoneThenBye(Fixture& f, const Destination& transferor) {
  Message done = f.Take(transferor);
  CHECK(done.method() == sb::sip::Method::kNotify);
  CHECK(Sipfrag(done) == "SIP/2.0 200 OK\r\n");
  CHECK(HeaderOf(done, "Subscription-State").starts_with("terminated"));
  CHECK_FALSE(f.Next(transferor).has_value());
  f.Receive(Fixture::Answer(done, 200, "transferor"), transferor);
  CHECK(f.Take(transferor).method() == sb::sip::Method::kBye);
}

// `refer` (an in-dialog REFER) arrives from `from` naming `target`: 202 and the first NOTIFY.
void Refers(Fixture& f, const std::string& refer, const Destination& from,
            std::string_view target) {
  f.Receive(Fixture::With(refer, "Refer-To: <" + std::string(target) + ">"), from);
  CHECK(f.Codes(from) == std::vector<int>{202});
  CHECK(Sipfrag(f.Take(from)) == "SIP/2.0 100 Trying\r\n");
}

// Extension 1003 answers `invite`, the target of the desk's REFER: the desk hears the 200 and is
// hung up.
void TargetAnswers(Fixture& f, const Message& invite) {
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  NotifiedDoneThenBye(f, kDesk);
}

void TargetAnswersTransfer(Fixture& f) {
  Message invite = f.Take(kTarget);
  CHECK((*invite.To())->uri.user == "1003");
  TargetAnswers(f, invite);
}

// After TargetAnswers: the node took the target's answer on its new leg b1, dropped the desk's
// leg and bridged b1 to the caller's; "answered" is published again.
void CheckDeskLegReplaced(Fixture& f, const std::string& id) {
  const std::vector<std::string> media_tail(f.media.log.end() - 3, f.media.log.end());
  CHECK(media_tail == std::vector<std::string>{"update " + id + "-b1 answer",
                                               "destroy " + id + "-b",
                                               "bridge " + id + "-b1 " + id + "-a"});
  CHECK(f.events.seen.back() == "answered");
}

}  // namespace

TEST_CASE("a party of an adopted call is gone when it answers 481, 408 or nothing at all",
          "[unit]") {
  for (int code : {0, 408, 481}) CHECK(sb::signaling::b2bua::StoredPartyGone(code));
  // A 500 is what a phone says to a CSeq it did not expect: it still has the dialog.
  for (int code : {200, 404, 405, 500}) CHECK_FALSE(sb::signaling::b2bua::StoredPartyGone(code));
}

TEST_CASE(
    "a call adopted from a dead replica - both parties answer its probes (the refresh the caller "
    "is owed, the callee's OPTIONS): it goes on - then one is silent and the other says 481: BYE "
    "to the silent one only, media released, ended "
    "node_failure",
    "[unit]") {
  Fixture f;
  (void)f.Connect();
  const std::string id = f.store.calls.begin()->first;
  const StoredCall stored = f.store.calls.begin()->second;
  Node adopter = f.Replica(55);
  // The probes the adopter sent (not the ACKs to their 2xx), by destination.
  struct Probes {
    std::vector<std::pair<Destination, Message>> sent;
    const Message& at(const Destination& to) const {
      auto it =
          std::find_if(sent.begin(), sent.end(), [&](const auto& s) { return s.first == to; });
      REQUIRE(it != sent.end());
      return it->second;
    }
  };
  auto probes = [&] {
    Probes p;
    for (auto& s : adopter.endpoint.TakeSends()) {
      Message m = Parse(s.bytes);
      if (m.method() != sb::sip::Method::kAck) p.sent.emplace_back(s.destination, std::move(m));
    }
    return p;
  };
  std::optional<bool> going_on;
  std::chrono::milliseconds again_within{0};
  adopter.b2bua.ProbeStored(id, [&](bool g, std::chrono::milliseconds within) {
    going_on = g;
    again_within = within;
  });
  auto first = probes();
  REQUIRE(first.sent.size() == 2);
  // The caller supports no timer, so the dead node refreshed it (refresher=uas): the adopter
  // does, with a re-INVITE (the caller does not allow UPDATE) repeating the caller's
  // description. The callee asked for no timer: an OPTIONS.
  REQUIRE(stored.caller.refresh_interval == 1800);
  REQUIRE(stored.callee.refresh_interval == 0);
  for (auto& [to, probe] : first.sent) {
    if (to == kCaller) {
      CHECK(probe.method() == sb::sip::Method::kInvite);
      CHECK(probe.body() == stored.caller.local_sdp);
      CHECK(HeaderOf(probe, "Session-Expires") == "1800;refresher=uac");
    } else {
      CHECK(probe.method() == sb::sip::Method::kOptions);
    }
    CHECK(HeaderOf(probe, "Call-ID") ==
          (to == kCaller ? stored.caller.id.call_id : stored.callee.id.call_id));
    adopter.endpoint.OnReceived(Fixture::Answer(probe, 200, {}), to);
  }
  REQUIRE(going_on);
  CHECK(*going_on);
  CHECK(f.store.calls.size() == 1);
  // The caller's session refreshed again at half its interval, before it would expire.
  CHECK(again_within == std::chrono::seconds(900));

  going_on.reset();
  adopter.b2bua.ProbeStored(id, [&](bool g, auto) { going_on = g; });
  auto second = probes();
  REQUIRE(second.sent.size() == 2);
  // Past the first probe in each dialog (in the same millisecond here), and past what the dead
  // node stored.
  CHECK(CSeqOf(first.at(kDesk)) >= stored.callee.next_local_cseq);
  CHECK(CSeqOf(second.at(kDesk)) == CSeqOf(first.at(kDesk)) + 1);
  CHECK(CSeqOf(second.at(kCaller)) == CSeqOf(first.at(kCaller)) + 1);
  adopter.endpoint.OnReceived(sb::sip::MakeResponse(second.at(kDesk), 481).Build(), kDesk);
  CHECK_FALSE(going_on);                      // the caller has not answered yet
  f.clock.Advance(std::chrono::seconds(33));  // Timer F
  adopter.endpoint.OnTimers();
  REQUIRE(going_on);
  CHECK_FALSE(*going_on);
  // What went out meanwhile: the OPTIONS' retransmissions to the caller (Timer E), then a BYE.
  std::vector<std::pair<Destination, Message>> byes;
  for (auto& s : adopter.endpoint.TakeSends()) {
    Message m = Parse(s.bytes);
    if (m.method() == sb::sip::Method::kBye) byes.emplace_back(s.destination, std::move(m));
  }
  REQUIRE(byes.size() == 1);
  CHECK(byes[0].first == kCaller);
  const Message& bye = byes[0].second;
  CHECK(bye.GetCSeq().ok());
  CHECK(CSeqOf(bye) > CSeqOf(second.at(kCaller)));
  CHECK(f.store.calls.empty());
  CHECK(f.media.legs.empty());
  CHECK(f.events.seen.back() == "ended node_failure 200");

  // Ended: nobody stores it any more, and nothing is sent.
  going_on.reset();
  adopter.b2bua.ProbeStored(id, [&](bool g, auto) { going_on = g; });
  REQUIRE(going_on);
  CHECK_FALSE(*going_on);
  CHECK(adopter.endpoint.TakeSends().empty());
}

TEST_CASE(
    "a call ringing for 250 ms is stored with the caller's INVITE and ours to each contact - "
    "its node dies - the adopter cancels both contacts, answers the caller 500 until its ACK, "
    "releases the media and ends the call node_failure",
    "[unit]") {
  Fixture f;
  f.store.on_loop = true;
  auto [desk, mobile] = f.Ring();
  f.Receive(f.Answer(desk, 180, "desk"), kDesk);
  f.Receive(f.Answer(mobile, 180, "mobile"), kMobile);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 180});
  f.clock.Advance(std::chrono::milliseconds(249));
  f.node.endpoint.OnTimers();
  CHECK(f.store.calls.empty());
  f.clock.Advance(std::chrono::milliseconds(1));
  f.node.endpoint.OnTimers();
  REQUIRE(f.store.calls.size() == 1);
  const std::string id = f.store.calls.begin()->first;
  const StoredCall stored = f.store.calls.begin()->second;
  REQUIRE(StoredRinging(stored));
  // As the node took it in (with the received and rport its transaction layer notes).
  const Message caller_invite = Parse(stored.ringing_invite);
  CHECK(*caller_invite.CallId() == "a-call");
  CHECK(caller_invite.body() == Parse(f.CallerInvite()).body());
  CHECK(stored.ringing_source == kCaller);
  REQUIRE(stored.ringing_forks.size() == 2);
  CHECK(stored.ringing_forks[0].invite == desk.raw());
  CHECK(stored.ringing_forks[0].peer == kDesk);
  CHECK(stored.ringing_forks[1].invite == mobile.raw());
  // No dialog of it is stored: in-dialog requests are not its business.
  CHECK(stored.caller.id.call_id.empty());
  CHECK(f.store.dialogs.empty());

  Node adopter = f.Replica(55);
  // Another replica's ringing call is not for a hangup or transfer command there (its node may
  // be alive).
  std::optional<sb::Status> hung_up, transferred;
  adopter.b2bua.Hangup(kTenant, id, [&](sb::Status s) { hung_up = s; });
  REQUIRE(hung_up);
  CHECK(hung_up->code() == sb::StatusCode::kNotFound);
  adopter.b2bua.Transfer(kTenant, id, "sip:1003@acme.sb.test",
                         [&](sb::Status s) { transferred = s; });
  REQUIRE(transferred);
  CHECK(transferred->code() == sb::StatusCode::kNotFound);
  CHECK(adopter.b2bua.calls() == 0);
  std::optional<bool> going_on;
  adopter.b2bua.ProbeStored(id, [&](bool g, auto) { going_on = g; });
  REQUIRE(going_on);
  CHECK_FALSE(*going_on);
  std::vector<Out> sent;
  for (auto& s : adopter.endpoint.TakeSends()) sent.push_back({s.destination, s.bytes});
  auto to = [&](const Destination& d) {
    std::vector<Message> out;
    for (const auto& s : sent) {
      if (s.to == d) out.push_back(Parse(s.bytes));
    }
    return out;
  };
  for (const auto& [contact, invite] : {std::pair{kDesk, &desk}, std::pair{kMobile, &mobile}}) {
    auto cancels = to(contact);
    REQUIRE(cancels.size() == 1);
    CHECK(cancels[0].method() == sb::sip::Method::kCancel);
    // §9.1: the INVITE's branch, Request-URI and CSeq number, so that the contact matches it.
    CHECK(HeaderOf(cancels[0], "Via") == HeaderOf(*invite, "Via"));
    CHECK(cancels[0].request_uri_text() == invite->request_uri_text());
    CHECK(CSeqOf(cancels[0]) == CSeqOf(*invite));
  }
  auto answers = to(kCaller);
  REQUIRE_FALSE(answers.empty());
  const Message& lost = answers.back();
  CHECK(lost.status_code() == 500);
  CHECK(HeaderOf(lost, "Via") == HeaderOf(caller_invite, "Via"));
  const std::string tag((*lost.To())->tag());
  CHECK_FALSE(tag.empty());
  CHECK(f.events.seen.back() == "ended node_failure 500");
  CHECK(f.store.calls.empty());
  CHECK(f.media.legs.empty());
  CHECK(adopter.b2bua.calls() == 0);  // the INVITE made no call on the adopter

  // The 500 is sent again until the caller's ACK, which ends that.
  f.clock.Advance(std::chrono::milliseconds(500));
  adopter.endpoint.OnTimers();
  std::vector<int> again;  // to the caller; the CANCELs are sent again too (Timer E)
  for (auto& s : adopter.endpoint.TakeSends()) {
    if (s.destination == kCaller) again.push_back(Parse(s.bytes).status_code());
  }
  CHECK(again == std::vector<int>{500});
  std::string ack = "ACK sip:1002@acme.sb.test SIP/2.0\r\n";
  ack += "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKa1\r\n";
  ack += "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n";
  ack += "To: <sip:1002@acme.sb.test>;tag=" + tag + "\r\nCall-ID: a-call\r\n";
  ack += "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
  adopter.endpoint.OnReceived(ack, kCaller);
  f.clock.Advance(std::chrono::seconds(4));
  adopter.endpoint.OnTimers();
  for (auto& s : adopter.endpoint.TakeSends()) CHECK_FALSE(s.destination == kCaller);
  CHECK(adopter.b2bua.calls() == 0);
}

TEST_CASE("a call answered within 250 ms of ringing is stored once - answered, never ringing",
          "[unit]") {
  Fixture f;
  f.store.on_loop = true;
  (void)f.Connect();
  f.clock.Advance(std::chrono::seconds(2));
  f.node.endpoint.OnTimers();
  REQUIRE(f.store.calls.size() == 1);
  CHECK(f.store.saves == 1);
  CHECK_FALSE(StoredRinging(f.store.calls.begin()->second));
  CHECK_FALSE(f.store.calls.begin()->second.caller.id.call_id.empty());
}

TEST_CASE(
    "a stored ringing call that is answered is stored answered - one its caller cancels leaves "
    "the store with its ended event kept",
    "[unit]") {
  for (bool answered : {true, false}) {
    Fixture f;
    f.store.on_loop = true;
    auto [desk, mobile] = f.Ring();
    f.Receive(f.Answer(desk, 180, "desk"), kDesk);
    f.clock.Advance(std::chrono::milliseconds(250));
    f.node.endpoint.OnTimers();
    REQUIRE(f.store.calls.size() == 1);
    REQUIRE(StoredRinging(f.store.calls.begin()->second));
    if (answered) {
      f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
      REQUIRE(f.store.calls.size() == 1);
      const StoredCall& stored = f.store.calls.begin()->second;
      CHECK_FALSE(StoredRinging(stored));
      CHECK(stored.callee.id.remote_tag == "desk");
      continue;
    }
    std::string cancel = f.CallerInvite();
    cancel = "CANCEL" + cancel.substr(6, cancel.find("CSeq:") - 6) + "CSeq: 1 CANCEL\r\n";
    cancel += "Content-Length: 0\r\n\r\n";
    f.Receive(cancel, kCaller);
    CHECK(f.store.calls.empty());
    CHECK(f.store.kept_events.size() == 1);
    CHECK(f.events.seen.back() == "ended caller_cancelled 487");
  }
}

TEST_CASE(
    "a call adopted and probed for a minute - the caller's BYE reaching a third replica gets the "
    "callee a BYE whose CSeq is past every probe",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Node adopter = f.Replica(55);
  uint32_t last_probe = 0;
  for (int i = 0; i < 3; ++i) {
    if (i > 0) f.clock.Advance(std::chrono::seconds(30));
    adopter.b2bua.ProbeStored(id, [](bool, auto) {});
    for (auto& s : adopter.endpoint.TakeSends()) {
      Message options = Parse(s.bytes);
      if (s.destination == kDesk) last_probe = CSeqOf(options);
      adopter.endpoint.OnReceived(sb::sip::MakeResponse(options, 200).Build(), s.destination);
    }
  }
  REQUIRE(f.store.calls.size() == 1);
  Node third = f.Replica(66);
  f.clock.Advance(std::chrono::seconds(1));
  third.endpoint.OnReceived(f.CallerInDialog("BYE", call.caller_tag, 9), kCaller);
  std::optional<Message> bye;
  for (auto& s : third.endpoint.TakeSends()) {
    if (s.destination == kDesk) bye = Parse(s.bytes);
  }
  REQUIRE(bye);
  CHECK(bye->method() == sb::sip::Method::kBye);
  // The desk phone saw the probes: a BYE numbered below them would get 500 and leave it talking.
  CHECK(CSeqOf(*bye) > last_probe);
  CHECK(f.store.calls.empty());
}

TEST_CASE(
    "REFER from the callee - 202 and NOTIFY 100 - the target rings with a new node leg - its "
    "answer gets NOTIFY 200 and a BYE to the transferor - the caller talks to the target",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2),
                   "Refer-To: <sip:1003@acme.sb.test>\r\nReferred-By: <sip:1002@acme.sb.test>"),
            kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{202});
  Message trying = f.Take(kDesk);
  CHECK(trying.method() == sb::sip::Method::kNotify);
  CHECK(Sipfrag(trying) == "SIP/2.0 100 Trying\r\n");
  CHECK(HeaderOf(trying, "Event") == "refer");
  CHECK(HeaderOf(trying, "Subscription-State").starts_with("active"));
  CHECK(HeaderOf(trying, "Content-Type") == "message/sipfrag;version=2.0");

  Message invite = f.Take(kTarget);
  CHECK(invite.method() == sb::sip::Method::kInvite);
  CHECK(invite.request_uri_text() == "sip:1003@192.168.1.40:5066");
  CHECK((*invite.From())->uri.user == "1001");  // the party that stays calls the target
  CHECK((*invite.To())->uri.user == "1003");
  CHECK(HeaderOf(invite, "Referred-By") == "<sip:1002@acme.sb.test>");
  CHECK(invite.body().find("x-leg:" + id + "-b1") != std::string_view::npos);
  CHECK(f.media.log.back() == "create " + id + "-b1 offer");

  f.Receive(f.Answer(invite, 180, "target"), kTarget);
  Message ringing = f.Take(kDesk);
  CHECK(Sipfrag(ringing) == "SIP/2.0 180 Ringing\r\n");
  TargetAnswers(f, invite);
  CheckDeskLegReplaced(f, id);
  CHECK(f.store.calls.at(id).callee.peer == kTarget);
  CHECK(f.Codes(kCaller).empty());  // the caller's dialog is untouched

  // The transferor's own BYE crosses ours: it ends nothing (the store still maps its dialog to
  // the call, which no longer holds it).
  f.Receive(f.CalleeInDialog(call.desk_invite, "BYE", "desk", 3), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{481});
  CHECK(f.store.calls.count(id) == 1);
  CHECK(f.Codes(kTarget).empty());
  f.Pump();
  CHECK(f.wire.empty());

  // The call is now the caller's and the target's: a BYE from the caller reaches the target.
  f.Receive(f.CallerInDialog("BYE", call.caller_tag, 2), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kBye);
  CHECK(f.media.legs.empty());
  CHECK(f.events.seen.back() == "ended normal 200");
}

TEST_CASE(
    "a REFER reaching another replica once the call's node is gone - that replica takes the call "
    "up from its record - 202, NOTIFYs, the target rung on the call's node - the call goes back "
    "to the store with the target in it",
    "[unit]") {
  Fixture f;
  auto call = f.ReferFromDesk(true);
  const std::string id = f.store.calls.begin()->first;
  Message trying = f.Take(kDesk);
  CHECK(Sipfrag(trying) == "SIP/2.0 100 Trying\r\n");
  // In the desk's dialog as the dead node left it: its tags and target, a CSeq past the stored one.
  CHECK(*trying.CallId() == *call.desk_invite.CallId());
  CHECK((*trying.To())->tag() == "desk");
  CHECK(trying.request_uri_text() == "sip:1002@192.168.1.20:5062");
  CHECK((*trying.GetCSeq())->number >= f.store.calls.at(id).callee.next_local_cseq);
  CHECK(f.survivor->b2bua.calls() == 1);

  Message invite = f.Take(kTarget);
  CHECK((*invite.From())->uri.user == "1001");  // the caller stays, and calls the target
  CHECK(HeaderOf(invite, "Referred-By") == "<sip:1002@acme.sb.test>");
  CHECK(f.media.log.back() == "create " + id + "-b1 offer");
  f.Receive(f.Answer(invite, 180, "target"), kTarget);
  CHECK(Sipfrag(f.Take(kDesk)) == "SIP/2.0 180 Ringing\r\n");
  // The adopter's probe (this replica adopted the dead node's calls) leaves a call carried here
  // alone: the live dialogs number their own requests.
  std::optional<bool> going_on;
  f.survivor->b2bua.ProbeStored(id, [&](bool on, std::chrono::milliseconds) { going_on = on; });
  CHECK(going_on == true);
  f.Pump();
  CHECK(f.wire.empty());
  TargetAnswers(f, invite);
  CheckDeskLegReplaced(f, id);

  // Back in the store, as the call now is, in the dead node's set (its adopter's probes go on).
  CHECK(f.survivor->b2bua.calls() == 0);
  const StoredCall& record = f.store.calls.at(id);
  CHECK(record.node_id == "sig-1");
  CHECK(record.callee.peer == kTarget);
  CHECK(record.callee.outbound);
  CHECK(record.media_legs == std::vector<std::string>{id + "-a", id + "-b1"});
  CHECK(record.to_uri == "sip:1003@acme.sb.test");
  CHECK(record.caller_party.extension == "1001");
  CHECK(record.caller.id.local_tag == call.caller_tag);
  CHECK(record.caller.next_local_cseq > 0);

  // The caller's BYE, at whichever replica: the target gets it, and the call ends once.
  f.Receive(f.CallerInDialog("BYE", call.caller_tag, 2), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  Message bye = f.Take(kTarget);
  CHECK(bye.method() == sb::sip::Method::kBye);
  CHECK(*bye.CallId() == *invite.CallId());
  CHECK(f.store.calls.empty());
  CHECK(f.media.legs.empty());
  REQUIRE(f.events.ended.size() == 1);
  CHECK(f.events.ended[0].legs.size() == 2);
}

TEST_CASE(
    "a stored call's transfer that fails - NOTIFY 486 to the transferor - the call goes back to "
    "the store as it was - a REFER that names nothing is refused and leaves it there too",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  const StoredCall before = f.store.calls.at(id);
  f.FailOver(99);
  f.Receive(f.CallerInDialog("REFER", call.caller_tag, 2), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{400});
  CHECK(f.survivor->b2bua.calls() == 0);

  f.Receive(
      f.With(f.CallerInDialog("REFER", call.caller_tag, 3), "Refer-To: <sip:1003@acme.sb.test>"),
      kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{202});
  CHECK(Sipfrag(f.Take(kCaller)) == "SIP/2.0 100 Trying\r\n");
  Message invite = f.Take(kTarget);
  CHECK((*invite.From())->uri.user == "1002");  // the callee stays
  f.Receive(f.Answer(invite, 486, "target"), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK(Sipfrag(f.Take(kCaller)) == "SIP/2.0 486 Busy Here\r\n");
  CHECK(f.survivor->b2bua.calls() == 0);
  CHECK(f.media.legs == std::set<std::string>{id + "-a", id + "-b"});
  const StoredCall& after = f.store.calls.at(id);
  CHECK(after.callee.id == before.callee.id);
  CHECK(after.caller.id == before.caller.id);
  CHECK(after.media_legs == before.media_legs);
  // Still the same call: the caller's INFO reaches the desk, from the store.
  f.Receive(f.CallerInDialog("INFO", call.caller_tag, 4), kCaller);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kInfo);
}

TEST_CASE(
    "the transferor of a stored call hangs up after the 202 - the target still gets the call - "
    "nobody sends the transferor a BYE",
    "[unit]") {
  Fixture f;
  auto call = f.ReferFromDesk(true);
  const std::string id = f.store.calls.begin()->first;
  (void)f.Take(kDesk);  // NOTIFY 100
  Message invite = f.Take(kTarget);
  f.Receive(f.CalleeInDialog(call.desk_invite, "BYE", "desk", 3), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{200});
  CHECK(f.store.calls.count(id) == 1);
  CHECK_FALSE(f.Next(kCaller).has_value());
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK_FALSE(f.Next(kDesk).has_value());
  CHECK(f.store.calls.at(id).callee.peer == kTarget);
  CHECK(f.survivor->b2bua.calls() == 0);
}

TEST_CASE(
    "a stored call ended at a third replica while its transfer rings - the target's answer finds "
    "no leg to bridge to and is hung up - the record is not made again, the call ends once",
    "[unit]") {
  Fixture f;
  auto call = f.ReferFromDesk(true);
  const std::string id = f.store.calls.begin()->first;
  (void)f.Take(kDesk);  // NOTIFY 100
  Message invite = f.Take(kTarget);
  // The caller's BYE reaches another replica, which ends the call from the store.
  Node third = f.Replica(7);
  third.endpoint.OnReceived(f.CallerInDialog("BYE", call.caller_tag, 2), kCaller);
  (void)third.endpoint.TakeSends();
  REQUIRE(f.store.calls.empty());
  REQUIRE(f.events.ended.size() == 1);

  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kBye);
  CHECK(f.store.calls.empty());
  CHECK(f.survivor->b2bua.calls() == 0);
  CHECK(f.events.ended.size() == 1);
  CHECK(f.media.legs.empty());
}

// The call's node gone, the transfer command to 1003 carried out by the replica it reaches, OK
// once the target rings; the target's INVITE.
Message TransferredAtSurvivor(Fixture& f, const std::string& id) {
  f.FailOver(99);
  std::optional<sb::Status> started;
  f.survivor->b2bua.Transfer(kTenant, id, "sip:1003@acme.sb.test",
                             [&](sb::Status s) { started = s; });
  f.Pump();
  REQUIRE(started.has_value());
  CHECK(started->ok());
  return f.Take(kTarget);
}

TEST_CASE(
    "the transfer command for a call whose node is gone - carried out by the replica it reaches "
    "- OK once the target rings - the callee gets the BYE once the target answers",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Message invite = TransferredAtSurvivor(f, id);
  CHECK((*invite.From())->uri.user == "1001");
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  Message bye = f.Take(kDesk);
  CHECK(bye.method() == sb::sip::Method::kBye);
  CHECK(*bye.CallId() == *call.desk_invite.CallId());
  CHECK(f.store.calls.at(id).callee.peer == kTarget);
  CHECK(f.survivor->b2bua.calls() == 0);

  // Another tenant's command, or a call nobody has, is NOT_FOUND.
  std::optional<sb::Status> other;
  f.survivor->b2bua.Transfer(sb::TenantId("someone-else"), id, "sip:1003@acme.sb.test",
                             [&](sb::Status s) { other = s; });
  REQUIRE(other.has_value());
  CHECK(other->code() == sb::StatusCode::kNotFound);
  f.survivor->b2bua.Transfer(kTenant, "no-such-call", "sip:1003@acme.sb.test",
                             [&](sb::Status s) { other = s; });
  CHECK(other->code() == sb::StatusCode::kNotFound);
}

TEST_CASE("REFER from the caller - the callee is presented to the target and stays", "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  f.Receive(f.With(f.CallerInDialog("REFER", call.caller_tag, 2),
                   "Refer-To: <sip:1003@ACME.sb.test;transport=udp>"),
            kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{202});
  CHECK(Sipfrag(f.Take(kCaller)) == "SIP/2.0 100 Trying\r\n");
  Message invite = f.Take(kTarget);
  CHECK((*invite.From())->uri.user == "1002");
  CHECK(HeaderOf(invite, "Referred-By") == "<sip:1001@acme.sb.test>");
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  NotifiedDoneThenBye(f, kCaller);
  CHECK(f.media.legs == std::set<std::string>{id + "-a1", id + "-b"});
  // The target hangs up: the callee that stayed gets the BYE.
  f.Receive(f.CalleeInDialog(invite, "BYE", "target", 1), kTarget);
  CHECK(f.Codes(kTarget) == std::vector<int>{200});
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  CHECK(f.media.legs.empty());
  // Both legs are ones we called: the target's on side a, the callee's.
  REQUIRE(f.events.ended.size() == 1);
  const auto& legs = f.events.ended[0].legs;
  REQUIRE(legs.size() == 2);
  CHECK(legs[0].media_leg_id == id + "-a1");
  CHECK(legs[0].direction == sb::signaling::LegDirection::kOutbound);
  CHECK(legs[1].direction == sb::signaling::LegDirection::kOutbound);
}

TEST_CASE(
    "a transfer target that asks a longer session interval (422) gets the INVITE again with "
    "it - its answer completes the transfer",
    "[unit][session_timer]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Refers(f, f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2), kDesk, "sip:1003@acme.sb.test");
  Message invite = f.Take(kTarget);
  f.Receive(f.With(f.Answer(invite, 422, "target"), "Min-SE: 3600"), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  Message retry = f.Take(kTarget);
  REQUIRE(retry.method() == sb::sip::Method::kInvite);
  CHECK(*retry.CallId() == *invite.CallId());
  CHECK((*retry.GetCSeq())->number == (*invite.GetCSeq())->number + 1);
  CHECK(HeaderOf(retry, "Session-Expires") == "3600");
  f.Receive(f.Answer(retry, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  NotifiedDoneThenBye(f, kDesk);
  CHECK(f.store.calls.at(id).callee.peer == kTarget);
}

TEST_CASE("a busy transfer target - NOTIFY 486 terminated - the call goes on as before", "[unit]") {
  Fixture f;
  auto call = f.ReferFromDesk();
  const std::string id = f.store.calls.begin()->first;
  (void)f.Take(kDesk);  // NOTIFY 100
  Message invite = f.Take(kTarget);
  f.Receive(f.Answer(invite, 486, "target"), kTarget);
  Message busy = f.Take(kDesk);
  CHECK(Sipfrag(busy) == "SIP/2.0 486 Busy Here\r\n");
  CHECK(HeaderOf(busy, "Subscription-State").starts_with("terminated"));
  CHECK(f.media.legs == std::set<std::string>{id + "-a", id + "-b"});
  CHECK(f.events.seen.back() == "answered");
  // Still connected: INFO from the caller reaches the desk.
  f.Receive(f.CallerInDialog("INFO", call.caller_tag, 2), kCaller);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kInfo);
}

TEST_CASE(
    "a transfer target whose only phone is silent for 5 s - NOTIFY 480 terminated - the call goes "
    "on as before",
    "[unit]") {
  Fixture f;
  auto call = f.ReferFromDesk();
  const std::string id = f.store.calls.begin()->first;
  Message trying = f.Take(kDesk);
  CHECK(Sipfrag(trying).starts_with("SIP/2.0 100 "));
  f.Receive(f.Answer(trying, 200, "desk"), kDesk);
  (void)f.Take(kTarget);
  f.clock.Advance(std::chrono::milliseconds(4900));
  f.node.endpoint.OnTimers();
  CHECK_FALSE(f.Next(kDesk).has_value());
  f.clock.Advance(std::chrono::milliseconds(100));
  f.node.endpoint.OnTimers();
  Message failed = f.Take(kDesk);
  CHECK(Sipfrag(failed).starts_with("SIP/2.0 480 "));
  CHECK(HeaderOf(failed, "Subscription-State").starts_with("terminated"));
  CHECK(f.media.legs == std::set<std::string>{id + "-a", id + "-b"});
  f.Receive(f.CallerInDialog("INFO", call.caller_tag, 2), kCaller);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kInfo);
}

TEST_CASE(
    "REFER without Refer-To 400 - outside the tenant 403 - a local tel: number 416 - unknown "
    "extension NOTIFY 404 - nobody registered NOTIFY 480",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  f.Receive(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{400});
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 3),
                   "Refer-To: <sip:1003@other.sb.test>"),
            kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{403});
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 4),
                   "Refer-To: <tel:5550100;phone-context=example.com>"),
            kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{416});
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 5),
                   "Refer-To: <sip:1009@acme.sb.test>"),
            kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{202});
  CHECK(Sipfrag(f.Take(kDesk)) == "SIP/2.0 100 Trying\r\n");
  CHECK(Sipfrag(f.Take(kDesk)) == "SIP/2.0 404 Not Found\r\n");
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 6),
                   "Refer-To: <sip:1004@acme.sb.test>"),
            kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{202});
  (void)f.Take(kDesk);
  CHECK(Sipfrag(f.Take(kDesk)) == "SIP/2.0 480 Temporarily Unavailable\r\n");
  CHECK(f.node.b2bua.calls() == 1);
  CHECK(f.media.legs.size() == 2);
}

TEST_CASE("REFER before the answer is 481 - a second REFER while one runs is 491", "[unit]") {
  Fixture f;
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Take(kDesk);
  f.Receive(f.Answer(desk, 180, "desk"), kDesk);
  std::string our_tag;
  f.Pump();
  for (auto& w : f.wire) {
    Message m = Parse(w.bytes);
    if (w.to == kCaller && m.status_code() == 180) our_tag = std::string((*m.To())->tag());
  }
  REQUIRE_FALSE(our_tag.empty());
  (void)f.Codes(kCaller);
  f.Receive(f.With(f.CallerInDialog("REFER", our_tag, 2), "Refer-To: <sip:1003@acme.sb.test>"),
            kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{481});

  Fixture g;
  auto call = g.Connect();
  g.Receive(
      g.With(g.CallerInDialog("REFER", call.caller_tag, 2), "Refer-To: <sip:1003@acme.sb.test>"),
      kCaller);
  g.Receive(
      g.With(g.CallerInDialog("REFER", call.caller_tag, 3), "Refer-To: <sip:1003@acme.sb.test>"),
      kCaller);
  CHECK(g.Codes(kCaller) == std::vector<int>{202, 491});
}

TEST_CASE(
    "the transferor hangs up after the 202 - the target's answer still connects - a failed "
    "target then ends the call",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2),
                   "Refer-To: <sip:1003@acme.sb.test>"),
            kDesk);
  f.Receive(f.CalleeInDialog(call.desk_invite, "BYE", "desk", 3), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{202, 200});
  CHECK(f.Codes(kCaller).empty());  // the caller is not hung up
  Message invite = f.Take(kTarget);
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK(f.media.legs == std::set<std::string>{id + "-a", id + "-b1"});
  f.Pump();
  for (auto& w : f.wire)
    CHECK_FALSE((w.to == kDesk && Parse(w.bytes).method() == sb::sip::Method::kBye));

  // Same again, but nobody answers: the caller, alone, is hung up.
  Fixture g;
  auto second = g.Connect();
  g.Receive(g.CallerInDialog("ACK", second.caller_tag, 1), kCaller);  // no 200 resent meanwhile
  g.Receive(g.With(g.CalleeInDialog(second.desk_invite, "REFER", "desk", 2),
                   "Refer-To: <sip:1003@acme.sb.test>"),
            kDesk);
  g.Receive(g.CalleeInDialog(second.desk_invite, "BYE", "desk", 3), kDesk);
  g.clock.Advance(std::chrono::seconds(20));
  g.node.endpoint.OnTimers();
  CHECK(g.Take(kCaller).method() == sb::sip::Method::kBye);
  CHECK(g.media.legs.empty());
  CHECK(g.events.seen.back() == "ended normal 200");
}

TEST_CASE(
    "CallControl - transfer moves the caller to an extension - other tenants NOT_FOUND - "
    "outside the domain INVALID_ARGUMENT",
    "[unit]") {
  Fixture f;
  (void)f.Connect();
  const std::string id = f.store.calls.begin()->first;
  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  CHECK(control.Transfer(sb::TenantId("tenant-other"), sb::CallId(id), "sip:1003@acme.sb.test")
            .code() == sb::StatusCode::kNotFound);
  CHECK(control.Transfer(kTenant, sb::CallId(id), "sip:1003@other.sb.test").code() ==
        sb::StatusCode::kInvalidArgument);
  CHECK(control.Transfer(kTenant, sb::CallId(id), "tel:5550103;phone-context=example.com").code() ==
        sb::StatusCode::kInvalidArgument);
  CHECK(control.Transfer(kTenant, sb::CallId(id), "tel:+15550103;ext=22").code() ==
        sb::StatusCode::kInvalidArgument);
  CHECK(control.Transfer(kTenant, sb::CallId(id), "mailto:a@b.example").code() ==
        sb::StatusCode::kInvalidArgument);
  CHECK(control.Transfer(kTenant, sb::CallId(id), "sip:1009@acme.sb.test").code() ==
        sb::StatusCode::kNotFound);
  CHECK(control.Transfer(kTenant, sb::CallId(id), "sip:1003@acme.sb.test").ok());
  Message invite = f.Take(kTarget);
  CHECK((*invite.From())->uri.user == "1001");
  CHECK(control.Transfer(kTenant, sb::CallId(id), "sip:1003@acme.sb.test").code() ==
        sb::StatusCode::kFailedPrecondition);
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  // No REFER, no NOTIFY: the callee just gets its BYE.
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  CHECK(f.store.calls.at(id).callee.peer == kTarget);
}

TEST_CASE(
    "CallControl - play stop record reach the caller's current media leg - unknown calls and "
    "other tenants NOT_FOUND",
    "[unit]") {
  Fixture f;
  (void)f.Connect();
  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  CHECK(control.Play(kTenant, sb::CallId("00000000-0000-4000-8000-000000000000"), {.tone = "busy"})
            .status()
            .code() == sb::StatusCode::kNotFound);
  const std::string id = f.store.calls.begin()->first;

  CHECK(control.Play(sb::TenantId("tenant-other"), sb::CallId(id), {.tone = "busy"})
            .status()
            .code() == sb::StatusCode::kNotFound);
  auto played = control.Play(kTenant, sb::CallId(id), {.tone = "busy"});
  REQUIRE(played.ok());
  CHECK(*played == "playback-1");
  CHECK(control.StopPlay(kTenant, sb::CallId(id)).ok());
  auto recording = control.RecordStart(kTenant, sb::CallId(id), {.mixed = true});
  REQUIRE(recording.ok());
  CHECK(recording->file == "/recordings/rec-1.wav");
  CHECK(control.RecordStop(kTenant, sb::CallId(id)).ok());
  const std::vector<std::string> tail(f.media.log.end() - 4, f.media.log.end());
  CHECK(tail == std::vector<std::string>{"play " + id + "-a busy", "stop_play " + id + "-a",
                                         "record " + id + "-a mixed", "record_stop " + id + "-a"});
}

namespace {

// Dialling 00442071234567 goes out through a trunk of the tenant's to kCarrier.
Route ThroughTrunk(std::string from_user, std::string username) {
  Route r;
  r.domain = "acme.sb.test";
  r.to_uri = "sip:442071234567@198.51.100.7";
  r.trunk = TrunkGateway{.trunk_id = "trunk-1",
                         .destination = kCarrier,
                         .alternates = {},
                         .request_uri = "sip:442071234567@198.51.100.7:5060",
                         .from_user = std::move(from_user),
                         .username = std::move(username),
                         .password = "carrier-secret"};
  return r;
}

constexpr char kCarrierChallenge[] =
    "Digest realm=\"carrier.example\", nonce=\"c4rr13r\", qop=\"auth\", algorithm=MD5";

std::string Challenge407(const Message& invite) {
  auto r = sb::sip::MakeResponse(invite, 407, {}, "carrier");
  r.AddHeader("Proxy-Authenticate", kCarrierChallenge);
  return r.Build();
}

// The trunk's Proxy-Authorization on `invite`, answering Challenge407 with nonce count `nc`: its
// response checked against the one the carrier expects, computed here from the password.
std::optional<sb::sip::DigestCredentials> TrunkCredentials(const Message& invite, uint32_t nc) {
  auto presented = invite.Header(sb::sip::HeaderId::kProxyAuthorization);
  if (!presented) return std::nullopt;
  auto credentials = sb::sip::ParseCredentials(*presented);
  if (!credentials.ok()) return std::nullopt;
  CHECK(credentials->username == "acme-out");
  CHECK(credentials->realm == "carrier.example");
  CHECK(credentials->nonce == "c4rr13r");
  auto expected = sb::sip::AnswerChallenge(
      *sb::sip::ParseChallenge(kCarrierChallenge),
      {.username = "acme-out", .password = "carrier-secret", .ha1 = {}}, "INVITE", credentials->uri,
      invite.body(), credentials->cnonce.value_or(""), nc);
  REQUIRE(expected.ok());
  CHECK(credentials->response == expected->response);
  return *credentials;
}

// The carrier's next INVITE (the ACKs of its challenges passed over).
std::optional<Message> NextInvite(Fixture& f) {
  for (auto m = f.Next(kCarrier); m; m = f.Next(kCarrier)) {
    if (m->method() == sb::sip::Method::kInvite) return m;
  }
  return std::nullopt;
}

// A call to 00442071234567 out through the trunk "acme-out", whose carrier challenges the first
// INVITE (407): that INVITE and the second one, which answers the challenge.
struct Challenged {
  std::optional<Message> first, second;
};
Challenged CarrierChallenges(Fixture& f) {
  f.router.routes["00442071234567"] = ThroughTrunk("+15551230001", "acme-out");
  f.Receive(f.CallerInvite("00442071234567"), kCaller);
  Challenged c;
  c.first = f.Next(kCarrier);
  REQUIRE(c.first);
  f.Receive(Challenge407(*c.first), kCarrier);
  c.second = NextInvite(f);
  REQUIRE(c.second);
  return c;
}

}  // namespace

TEST_CASE(
    "out through a trunk - the carrier gets the rewritten number and the caller id - its 407 "
    "is answered once with the trunk's credentials - the call connects",
    "[unit]") {
  Fixture f;
  auto [first, second] = CarrierChallenges(f);
  CHECK(first->request_uri_text() == "sip:442071234567@198.51.100.7:5060");
  CHECK((*first->From())->uri.user == "+15551230001");
  CHECK((*first->To())->uri.user == "442071234567");
  CHECK(second->method() == sb::sip::Method::kInvite);
  CHECK(*second->CallId() == *first->CallId());
  CHECK((*second->From())->tag() == (*first->From())->tag());
  CHECK((*second->GetCSeq())->number == 2);
  auto credentials = TrunkCredentials(*second, 1);
  REQUIRE(credentials);
  CHECK(credentials->uri == "sip:442071234567@198.51.100.7:5060");

  f.Receive(Fixture::Answer(*second, 200, "carrier", kCallerSdp), kCarrier);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 200});
  CHECK(f.events.seen.front() == "created sip:442071234567@198.51.100.7");
  CHECK(f.events.seen.back() == "answered");
}

namespace {

// The trunk's gateway found at three destinations (RFC 3263: SRV targets, addresses), in order.
const Destination kCarrierBackup{"198.51.100.8", 5060, Transport::kUdp};
const Destination kCarrierLast{"198.51.100.9", 5070, Transport::kUdp};
Route ThroughTrunkWithAlternates() {
  Route r = ThroughTrunk("+15551230001", "");
  r.trunk->alternates = {kCarrierBackup, kCarrierLast};
  return r;
}

// The INVITE sent to `to`, passing over the rest (CANCELs, ACKs of the attempts left).
std::optional<Message> InviteTo(Fixture& f, const Destination& to) {
  for (auto m = f.Next(to); m; m = f.Next(to)) {
    if (m->method() == sb::sip::Method::kInvite) return m;
  }
  return std::nullopt;
}

// The carrier at `at` answers `invite`, the target of the caller's REFER: the caller hears the
// final NOTIFY and is hung up, and the target's leg a1 is bridged to the callee's.
void CarrierTakesCallersTransfer(Fixture& f, const Message& invite, const Destination& at,
                                 const std::string& id) {
  f.Receive(Fixture::Answer(invite, 200, "carrier", kCallerSdp), at);
  NotifiedDoneThenBye(f, kCaller);
  CHECK(f.media.legs == std::set<std::string>{id + "-a1", id + "-b"});
  CHECK(f.events.seen.back() == "answered");
}

// The caller dials out through the trunk with alternates: the INVITE to the first destination.
Message DialsOutWithAlternates(Fixture& f) {
  f.router.routes["00442071234567"] = ThroughTrunkWithAlternates();
  f.Receive(f.CallerInvite("00442071234567"), kCaller);
  auto first = InviteTo(f, kCarrier);
  REQUIRE(first);
  return std::move(*first);
}

}  // namespace

TEST_CASE(
    "a gateway's first destination silent - after the silent-contact time the same INVITE goes "
    "to the next one as a new transaction - it answers - a late 200 from the first is hung up",
    "[unit]") {
  Fixture f;
  auto first = std::make_optional(DialsOutWithAlternates(f));
  CHECK_FALSE(InviteTo(f, kCarrierBackup));
  f.clock.Advance(std::chrono::seconds(5));
  f.node.endpoint.OnTimers();
  auto second = InviteTo(f, kCarrierBackup);
  REQUIRE(second);
  CHECK(second->request_uri_text() == first->request_uri_text());
  CHECK(*second->CallId() == *first->CallId());
  CHECK((*second->From())->tag() == (*first->From())->tag());
  CHECK((*second->GetCSeq())->number == (*first->GetCSeq())->number);
  CHECK((*second->TopVia())->branch() != (*first->TopVia())->branch());
  CHECK(f.Codes(kCaller) == std::vector<int>{100});

  f.Receive(Fixture::Answer(*second, 200, "backup", kCallerSdp), kCarrierBackup);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  CHECK(f.events.seen.back() == "answered");
  // The first destination wakes up and answers too: that dialog is not the call's.
  (void)Methods(f, kCarrier);
  f.Receive(Fixture::Answer(*first, 200, "first", kCallerSdp), kCarrier);
  CHECK(Methods(f, kCarrier) ==
        std::vector<sb::sip::Method>{sb::sip::Method::kAck, sb::sip::Method::kBye});
  CHECK(f.events.seen.back() == "answered");
}

TEST_CASE(
    "a gateway destination's 503 sends the INVITE to the next at once - a 486 does not - every "
    "destination failing fails the call",
    "[unit]") {
  Fixture f;
  auto first = std::make_optional(DialsOutWithAlternates(f));
  f.Receive(Fixture::Answer(*first, 503, "first"), kCarrier);
  auto second = InviteTo(f, kCarrierBackup);
  REQUIRE(second);
  f.Receive(Fixture::Answer(*second, 503, "backup"), kCarrierBackup);
  auto last = InviteTo(f, kCarrierLast);
  REQUIRE(last);
  CHECK(f.Codes(kCaller) == std::vector<int>{100});
  f.Receive(Fixture::Answer(*last, 503, "last"), kCarrierLast);
  CHECK(f.Codes(kCaller) == std::vector<int>{503});
  CHECK(f.events.seen.back() == "ended network_failure 503");

  // Busy is the callee's answer, wherever it comes from: no other destination is tried.
  Fixture g;
  g.Receive(Fixture::Answer(DialsOutWithAlternates(g), 486, "first"), kCarrier);
  CHECK_FALSE(InviteTo(g, kCarrierBackup));
  CHECK(g.Codes(kCaller) == std::vector<int>{100, 486});
}

TEST_CASE("a carrier that challenges again - 403 to the caller - ended rejected", "[unit]") {
  Fixture f;
  auto [first, second] = CarrierChallenges(f);
  f.Receive(Challenge407(*second), kCarrier);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 403});
  CHECK(f.events.seen.back() == "ended rejected 403");
  CHECK(f.media.legs.empty());
}

TEST_CASE("a trunk without credentials - the carrier's 401 is 403 to the caller", "[unit]") {
  Fixture f;
  f.router.routes["00442071234567"] = ThroughTrunk("+15551230001", "");
  f.Receive(f.CallerInvite("00442071234567"), kCaller);
  auto first = f.Next(kCarrier);
  REQUIRE(first);
  auto r = sb::sip::MakeResponse(*first, 401, {}, "carrier");
  r.AddHeader("WWW-Authenticate", "Digest realm=\"carrier.example\", nonce=\"n\"");
  f.Receive(r.Build(), kCarrier);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 403});
}

TEST_CASE("a blocked caller id reaches the carrier as anonymous with Privacy id", "[unit]") {
  Fixture f;
  f.router.routes["00442071234567"] = ThroughTrunk("", "");
  f.Receive(f.CallerInvite("00442071234567"), kCaller);
  auto invite = f.Next(kCarrier);
  REQUIRE(invite);
  CHECK((*invite->From())->uri.user == "anonymous");
  CHECK(invite->Header("Privacy") == std::optional<std::string_view>("id"));
  CHECK(invite->raw().find("1001") == std::string_view::npos);
}

TEST_CASE("a refused route - the router's code to the caller - created and ended events",
          "[unit]") {
  Fixture f;
  Route refused;
  refused.code = 403;
  refused.reason = "Tenant Suspended";
  refused.cause = "rejected";
  f.router.routes["5555"] = refused;
  f.Receive(f.CallerInvite("5555"), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 403});
  CHECK(f.events.seen ==
        std::vector<std::string>{"created sip:5555@acme.sb.test", "ended rejected 403"});
  CHECK(f.media.legs.empty());
}

TEST_CASE(
    "REFER to a number of the tenant - routed as if the party that stays dialled it - the "
    "extension it is routed to rings and replaces the transferor",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Route& to_1003 = f.router.routes["+15550103"];  // a number of the tenant routed to 1003
  to_1003.domain = "acme.sb.test";
  to_1003.extension = "1003";
  to_1003.to_uri = "sip:1003@acme.sb.test";
  Refers(f, f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2), kDesk,
         "sip:+15550103@acme.sb.test");
  CHECK(f.router.asked.back() == "1001 +15550103");  // the caller stays: it "dials" the number
  Message invite = f.Take(kTarget);
  CHECK((*invite.To())->uri.user == "1003");
  CHECK((*invite.From())->uri.user == "1001");
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  NotifiedDoneThenBye(f, kDesk);
  CHECK(f.store.calls.at(id).callee.peer == kTarget);
  CHECK(f.events.seen.back() == "answered");
}

TEST_CASE("REFER to a global tel: number - dialled without its visual separators, as a sip: one",
          "[unit]") {
  Fixture f;
  auto call = f.Connect();
  Route& to_1003 = f.router.routes["+15550103"];
  to_1003.domain = "acme.sb.test";
  to_1003.extension = "1003";
  to_1003.to_uri = "sip:1003@acme.sb.test";
  Refers(f, f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2), kDesk, "tel:+1-555-(010).3");
  CHECK(f.router.asked.back() == "1001 +15550103");
  TargetAnswersTransfer(f);
  CHECK(f.events.seen.back() == "answered");
}

TEST_CASE(
    "REFER to a local tel: number in the tenant's domain - the extension is dialled, as for a "
    "sip: URI - another context's local number 416",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  f.Receive(f.With(f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2),
                   "Refer-To: <tel:1003;phone-context=other.sb.test>"),
            kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{416});
  Refers(f, f.CalleeInDialog(call.desk_invite, "REFER", "desk", 3), kDesk,
         "tel:10-03;phone-context=ACME.sb.test");
  CHECK(f.router.asked.back() == "1001 1003");
  TargetAnswersTransfer(f);
}

TEST_CASE(
    "REFER to an outside number - out through the tenant's trunk with its caller id - the "
    "carrier's 407 is answered once - its answer replaces the transferor",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  f.router.routes["00442071234567"] = ThroughTrunk("+15551230002", "acme-out");
  Refers(f, f.CallerInDialog("REFER", call.caller_tag, 2), kCaller,
         "sip:00442071234567@acme.sb.test");
  CHECK(f.router.asked.back() == "1002 00442071234567");  // the callee stays
  auto first = f.Next(kCarrier);
  REQUIRE(first);
  CHECK(first->request_uri_text() == "sip:442071234567@198.51.100.7:5060");
  CHECK((*first->From())->uri.user == "+15551230002");
  CHECK((*first->To())->uri.user == "442071234567");
  CHECK(first->body().find("x-leg:" + id + "-a1") != std::string_view::npos);
  f.Receive(Challenge407(*first), kCarrier);
  auto second = NextInvite(f);
  REQUIRE(second);
  CHECK(*second->CallId() == *first->CallId());
  CHECK((*second->GetCSeq())->number == 2);
  auto presented = second->Header(sb::sip::HeaderId::kProxyAuthorization);
  REQUIRE(presented);
  CHECK(sb::sip::ParseCredentials(*presented)->username == "acme-out");
  CHECK(HeaderOf(*second, "Referred-By") == "<sip:1001@acme.sb.test>");
  CarrierTakesCallersTransfer(f, *second, kCarrier, id);
}

TEST_CASE(
    "REFER to an outside number whose gateway's first destination is silent - the next one is "
    "rung after the silent-contact time - its answer replaces the transferor",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  f.router.routes["00442071234567"] = ThroughTrunkWithAlternates();
  Refers(f, f.CallerInDialog("REFER", call.caller_tag, 2), kCaller,
         "sip:00442071234567@acme.sb.test");
  auto first = InviteTo(f, kCarrier);
  REQUIRE(first);
  f.clock.Advance(std::chrono::seconds(5));
  f.node.endpoint.OnTimers();
  // Meanwhile the transferor got only retransmissions (of its 200, of the first NOTIFY, which
  // this test leaves unanswered).
  for (auto m = f.Next(kCaller); m; m = f.Next(kCaller)) {
    CHECK((m->is_response() || Sipfrag(*m) == "SIP/2.0 100 Trying\r\n"));
  }
  auto second = InviteTo(f, kCarrierBackup);
  REQUIRE(second);
  CHECK(*second->CallId() == *first->CallId());
  CHECK((*second->TopVia())->branch() != (*first->TopVia())->branch());
  CHECK(HeaderOf(*second, "Referred-By") == "<sip:1001@acme.sb.test>");
  CarrierTakesCallersTransfer(f, *second, kCarrierBackup, id);
}

TEST_CASE(
    "a call out through a trunk - the caller REFERs the carrier to 1003 - the extension dials "
    "for the carrier party - 1003 rings",
    "[unit]") {
  Fixture f;
  f.router.routes["00442071234567"] = ThroughTrunk("+15551230001", "");
  f.Receive(f.CallerInvite("00442071234567"), kCaller);
  auto out = f.Next(kCarrier);
  REQUIRE(out);
  f.Receive(Fixture::Answer(*out, 200, "carrier", kCallerSdp), kCarrier);
  const std::string caller_tag = f.CallerTag();
  f.wire.clear();
  Refers(f, f.CallerInDialog("REFER", caller_tag, 2), kCaller, "sip:1003@acme.sb.test");
  CHECK(f.router.asked.back() == "1001 1003");
  Message invite = f.Take(kTarget);
  CHECK((*invite.To())->uri.user == "1003");
  CHECK((*invite.From())->uri.user == "442071234567");  // the carrier party is presented
}

TEST_CASE(
    "a transfer target nothing routes to - NOTIFY with the router's status - the call goes on - "
    "the command hears NOT_FOUND",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Route& refused = f.router.routes["0099"];
  refused.code = 404;
  refused.reason = "No Route";
  Refers(f, f.CalleeInDialog(call.desk_invite, "REFER", "desk", 2), kDesk, "sip:0099@acme.sb.test");
  Message failed = f.Take(kDesk);
  CHECK(Sipfrag(failed) == "SIP/2.0 404 No Route\r\n");
  CHECK(HeaderOf(failed, "Subscription-State").starts_with("terminated"));
  CHECK(f.media.legs == std::set<std::string>{id + "-a", id + "-b"});
  CHECK(f.events.seen.back() == "answered");
  f.Receive(f.CallerInDialog("INFO", call.caller_tag, 2), kCaller);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kInfo);

  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  CHECK(control.Transfer(kTenant, sb::CallId(id), "sip:0099@acme.sb.test").code() ==
        sb::StatusCode::kNotFound);
  CHECK(f.node.b2bua.calls() == 1);
}

namespace {

// The id an originate as 1001 of the tenant to `dialed` reported (empty on an error, in `error`).
std::string Originate(Fixture& f, std::string dialed, sb::Status* error = nullptr,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::string id;
  f.node.b2bua.Originate({.caller = {kTenant, "acme.sb.test", "1001", {}},
                          .dialed = std::move(dialed),
                          .from_uri = {},
                          .timeout = timeout,
                          .call_id = {}},
                         [&](sb::Result<std::string> placed) {
                           if (placed.ok()) {
                             id = *placed;
                           } else if (error != nullptr) {
                             *error = placed.status();
                           }
                         });
  return id;
}

// 1003 (one contact) is originated and answers: the call's id and the INVITE it answered.
std::pair<std::string, Message> OriginateAnswered(Fixture& f) {
  const std::string id = Originate(f, "1003");
  REQUIRE_FALSE(id.empty());
  Message invite = f.Take(kTarget);
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  return {id, std::move(invite)};
}

// Originates calls as the tenant's 1001 (B2buaCallControl's port).
struct AsExtension1001 : sb::signaling::b2bua::Originators {
  sb::Result<Caller> Resolve(const sb::TenantId& tenant, std::string_view domain,
                             std::string_view extension) override {
    if (tenant != kTenant || domain != "acme.sb.test") return sb::Status::NotFound("no domain");
    if (extension != "1001") return sb::Status::NotFound("no extension");
    return Caller{kTenant, "acme.sb.test", "1001", {}};
  }
  sb::Result<Caller> AsTenant(const sb::TenantId& tenant) override {
    if (tenant != kTenant) return sb::Status::NotFound("no tenant");
    return Caller{kTenant, "acme.sb.test", {}, {}};
  }
};

// A node with its CallControl, commands run on the caller's thread.
struct Commanded {
  Fixture f;
  AsExtension1001 originators;
  B2buaCallControl control{f.node.b2bua, [](std::function<void()> task) { task(); },
                           std::chrono::seconds(1), &originators};
};

}  // namespace

TEST_CASE(
    "originate - the node rings every contact of the extension with the node's offer - the "
    "first 200 is ACKed and completes the one leg - a BYE from the far end ends the call",
    "[unit]") {
  Fixture f;
  const std::string id = Originate(f, "1002");
  REQUIRE_FALSE(id.empty());
  Message desk = f.Take(kDesk);
  Message mobile = f.Take(kMobile);
  CHECK((*desk.From())->uri.user == "1001");
  CHECK(desk.body().find("x-leg:" + id + "-b") != std::string_view::npos);
  CHECK(f.media.log == std::vector<std::string>{"create " + id + "-b offer"});
  CHECK(f.events.seen == std::vector<std::string>{"created sip:1002@acme.sb.test"});

  // An early SDP is only "ringing": nobody is there to hear it.
  f.Receive(f.Answer(desk, 183, "desk", kCallerSdp), kDesk);
  f.Receive(f.Answer(mobile, 180, "mobile"), kMobile);
  f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kAck);
  CHECK(f.Take(kMobile).method() == sb::sip::Method::kCancel);
  CHECK(f.media.log.back() == "update " + id + "-b answer");
  CHECK(f.media.bridged.empty());
  CHECK(f.events.seen.back() == "answered");
  CHECK(f.events.seen[1] == "ringing 183");
  CHECK(f.store.calls.at(id).caller.id.call_id.empty());
  CHECK(f.store.calls.at(id).media_legs == std::vector<std::string>{id + "-b"});

  // The answered call's one party is what the media commands act on.
  std::optional<sb::Status> played;
  f.node.b2bua.OnCallerLeg(
      kTenant, id,
      [](MediaAnchor& media, const std::string& node, const std::string& leg) {
        return media.Play(node, leg, {.tone = "busy"}).status();
      },
      [&](sb::Status s) { played = s; });
  REQUIRE(played);
  CHECK(played->ok());
  CHECK(f.media.log.back() == "play " + id + "-b busy");

  f.Receive(f.CalleeInDialog(desk, "BYE", "desk", 2), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{200});
  CHECK(f.events.seen.back() == "ended normal 200");
  CHECK(f.media.legs.empty());
  CHECK(f.store.calls.empty());
  CHECK(f.node.b2bua.calls() == 0);
}

TEST_CASE(
    "originate - a busy extension ends the call busy 486 - one that does not answer in the "
    "command's timeout is cancelled and ends no_answer 480",
    "[unit]") {
  Fixture f;
  Originate(f, "1003");
  Message busy = f.Take(kTarget);
  f.Receive(f.Answer(busy, 486, "target"), kTarget);
  CHECK(f.events.seen.back() == "ended busy 486");
  CHECK(f.media.legs.empty());

  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  f.events.seen.clear();
  Originate(f, "1003", nullptr, std::chrono::seconds(5));
  Message ringing = f.Take(kTarget);
  f.Receive(f.Answer(ringing, 180, "target"), kTarget);
  f.clock.Advance(std::chrono::seconds(5));
  f.node.endpoint.OnTimers();
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kCancel);
  CHECK(f.events.seen == std::vector<std::string>{"created sip:1003@acme.sb.test", "ringing 180",
                                                  "ended no_answer 480"});
  CHECK(f.node.b2bua.calls() == 0);
}

TEST_CASE(
    "originate - a ringing originated call is stored with its INVITE only - its node dies - the "
    "adopter cancels the extension's phone and ends the call node_failure",
    "[unit]") {
  Fixture f;
  f.store.on_loop = true;
  const std::string id = Originate(f, "1003");
  Message invite = f.Take(kTarget);
  f.Receive(f.Answer(invite, 180, "target"), kTarget);
  f.clock.Advance(std::chrono::milliseconds(250));
  f.node.endpoint.OnTimers();
  REQUIRE(f.store.calls.count(id) == 1);
  const StoredCall& stored = f.store.calls[id];
  CHECK(stored.ringing_invite.empty());  // nobody called in
  REQUIRE(stored.ringing_forks.size() == 1);
  CHECK(stored.ringing_forks[0].invite == invite.raw());

  Node adopter = f.Replica(55);
  std::optional<bool> going_on;
  adopter.b2bua.ProbeStored(id, [&](bool g, auto) { going_on = g; });
  REQUIRE(going_on);
  CHECK_FALSE(*going_on);
  auto sent = adopter.endpoint.TakeSends();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kTarget);
  CHECK(Parse(sent[0].bytes).method() == sb::sip::Method::kCancel);
  CHECK(f.events.seen.back() == "ended node_failure 487");
  CHECK(f.store.calls.empty());
  CHECK(f.media.legs.empty());
}

TEST_CASE("originate - a refused route is the command's error and no call exists", "[unit]") {
  Fixture f;
  Route refused;
  refused.code = 404;
  refused.cause = "not_found";
  f.router.routes["7777"] = refused;
  refused.code = 503;
  f.router.routes["5555"] = refused;
  sb::Status error;
  CHECK(Originate(f, "7777", &error).empty());
  CHECK(error.code() == sb::StatusCode::kNotFound);
  CHECK(Originate(f, "5555", &error).empty());
  CHECK(error.code() == sb::StatusCode::kUnavailable);
  CHECK(f.events.seen.empty());
  CHECK(f.media.legs.empty());
  CHECK(f.node.b2bua.calls() == 0);
  // 1004 has nobody registered: routed (the id comes back), then ended 480 by the locator.
  CHECK_FALSE(Originate(f, "1004").empty());
  CHECK(f.events.seen.back() == "ended unavailable 480");
}

// A call originated to 1002 that its desk phone answers (its mobile's INVITE dropped): its id and
// the desk's INVITE, with the wire and the events cleared.
std::pair<std::string, Message> OriginatedToDesk(Fixture& f) {
  const std::string id = Originate(f, "1002");
  Message desk = f.Take(kDesk);
  (void)f.Take(kMobile);
  f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
  f.wire.clear();
  f.events.seen.clear();
  return {id, std::move(desk)};
}

TEST_CASE(
    "bridge two originated calls - their legs are bridged on the node - the merged call ends "
    "bridged - a BYE from either party ends the one call and BYEs the other",
    "[unit]") {
  Fixture f;
  auto [x, target_invite] = OriginateAnswered(f);
  auto [y, desk] = OriginatedToDesk(f);

  std::optional<sb::Status> bridged;
  f.node.b2bua.Bridge(kTenant, x, y, [&](sb::Status s) { bridged = s; });
  REQUIRE(bridged);
  CHECK(bridged->ok());
  CHECK(f.media.bridged.at(x + "-b") == y + "-b");
  CHECK(f.events.seen == std::vector<std::string>{"ended bridged 200"});
  CHECK(f.node.b2bua.calls() == 1);
  CHECK_FALSE(f.store.calls.count(y));
  CHECK(f.store.calls.at(x).caller.peer == kDesk);
  // Nobody was hung up by the bridge.
  CHECK_FALSE(f.Next(kDesk));
  CHECK_FALSE(f.Next(kTarget));

  f.Receive(f.CalleeInDialog(desk, "BYE", "desk", 2), kDesk);
  CHECK(f.Codes(kDesk) == std::vector<int>{200});
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kBye);
  CHECK(f.events.seen.back() == "ended normal 200");
  CHECK(f.media.legs.empty());
  CHECK(f.node.b2bua.calls() == 0);
}

// After the caller of `answered` was bridged into the call originated to 1003: the caller's BYE
// ends that call, whose party (1003) gets the BYE, and every media leg goes.
void CallerByeEndsBridged(Fixture& f, const Fixture::Answered& answered) {
  f.Receive(f.CallerInDialog("BYE", answered.caller_tag, 3), kCaller);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kBye);
  CHECK(f.events.seen.back() == "ended normal 200");
  CHECK(f.media.legs.empty());
}

TEST_CASE(
    "bridge an originated call to the caller of another call - that call's callee is hung up "
    "- the caller talks to the originated party",
    "[unit]") {
  Fixture f;
  auto answered = f.Connect();
  const std::string caller_call = f.store.calls.begin()->first;
  auto [originated, target_invite] = OriginateAnswered(f);
  f.wire.clear();
  f.events.seen.clear();

  std::optional<sb::Status> bridged;
  f.node.b2bua.Bridge(kTenant, originated, caller_call, [&](sb::Status s) { bridged = s; });
  REQUIRE(bridged);
  CHECK(bridged->ok());
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  CHECK_FALSE(f.media.legs.count(caller_call + "-b"));
  CHECK(f.media.bridged.at(originated + "-b") == caller_call + "-a");
  CHECK(f.events.seen == std::vector<std::string>{"ended bridged 200"});

  CallerByeEndsBridged(f, answered);
}

TEST_CASE(
    "bridge calls on two media nodes - the caller of the other call is moved to the first's node "
    "by a re-INVITE that continues its description - then bridged there, its old leg and its "
    "callee's released on their node, its callee hung up",
    "[unit]") {
  Fixture f;
  f.media.next_node = "media-2";
  auto answered = f.Connect();
  const std::string caller_call = f.store.calls.begin()->first;
  f.media.next_node = "media-1";
  auto [originated, target_invite] = OriginateAnswered(f);
  f.wire.clear();
  f.events.seen.clear();
  f.media.log.clear();

  std::optional<sb::Status> bridged;
  f.node.b2bua.Bridge(kTenant, originated, caller_call, [&](sb::Status s) { bridged = s; });
  CHECK_FALSE(bridged);  // until the caller takes the new leg
  CHECK(f.media.node_of.at(caller_call + "-a1") == "media-1");
  Message reinvite = f.Take(kCaller);
  CHECK(reinvite.method() == sb::sip::Method::kInvite);
  CHECK((*reinvite.From())->tag() == answered.caller_tag);  // in the caller's dialog
  const std::string offer(reinvite.body());
  // The caller had "media-2 7 1" from its first leg: the same origin, the next version.
  CHECK(offer.find("o=media-2 7 2 ") != std::string::npos);
  CHECK(offer.find("a=x-leg:" + caller_call + "-a1") != std::string::npos);
  CHECK(offer.find("a=sendrecv") != std::string::npos);
  CHECK_FALSE(f.Next(kDesk));  // nothing ends before the move

  f.Receive(f.Answer(reinvite, 200, {}, kCallerSdp), kCaller);
  CHECK(f.Take(kCaller).method() == sb::sip::Method::kAck);
  REQUIRE(bridged);
  CHECK(bridged->ok());
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  CHECK(f.media.log == std::vector<std::string>{
                           "create " + caller_call + "-a1 offer",
                           "update " + caller_call + "-a1 answer",
                           "destroy " + caller_call + "-a",
                           "destroy " + caller_call + "-b",
                           "bridge " + originated + "-b " + caller_call + "-a1",
                       });
  CHECK(f.media.legs == std::set<std::string>{originated + "-b", caller_call + "-a1"});
  CHECK(f.events.seen == std::vector<std::string>{"ended bridged 200"});

  CallerByeEndsBridged(f, answered);
}

TEST_CASE(
    "bridge calls on two media nodes - a party that refuses the move keeps its call as it was - "
    "the command FAILED_PRECONDITION - the new leg released",
    "[unit]") {
  Fixture f;
  auto [x, target_invite] = OriginateAnswered(f);
  f.media.next_node = "media-2";
  auto [y, desk] = OriginatedToDesk(f);

  std::optional<sb::Status> bridged;
  f.node.b2bua.Bridge(kTenant, x, y, [&](sb::Status s) { bridged = s; });
  Message reinvite = f.Take(kDesk);
  CHECK(reinvite.body().find("o=media-2 7 2 ") != std::string_view::npos);
  // Asked again meanwhile: refused, the first bridge goes on.
  std::optional<sb::Status> again;
  f.node.b2bua.Bridge(kTenant, x, y, [&](sb::Status s) { again = s; });
  REQUIRE(again);
  CHECK(again->code() == sb::StatusCode::kFailedPrecondition);

  f.Receive(f.Answer(reinvite, 488, "desk"), kDesk);
  REQUIRE(bridged);
  CHECK(bridged->code() == sb::StatusCode::kFailedPrecondition);
  CHECK(f.media.legs == std::set<std::string>{x + "-b", y + "-b"});
  CHECK(f.media.node_of.at(y + "-b") == "media-2");
  CHECK(f.node.b2bua.calls() == 2);
  CHECK(f.events.seen.empty());
  CHECK_FALSE(f.Next(kTarget));

  // Still answered on its own node: a play reaches its old leg.
  std::optional<sb::Status> played;
  f.node.b2bua.OnCallerLeg(
      kTenant, y,
      [](MediaAnchor& media, const std::string& node, const std::string& leg) {
        return node == "media-2" ? media.Play(node, leg, {.tone = "busy"}).status()
                                 : sb::Status::Internal("wrong node " + node);
      },
      [&](sb::Status s) { played = s; });
  REQUIRE(played);
  CHECK(played->ok());
  CHECK(f.media.log.back() == "play " + y + "-b busy");
}

TEST_CASE(
    "CallControl - originate and bridge - bad targets INVALID_ARGUMENT - unanswered calls "
    "FAILED_PRECONDITION - other tenants and unknown trunks NOT_FOUND",
    "[unit]") {
  Commanded node;
  Fixture& f = node.f;
  B2buaCallControl& control = node.control;
  OriginateParams params{.tenant = kTenant, .extension = "1001", .to_uri = "sip:1003@acme.sb.test"};
  auto placed = control.Originate(params);
  REQUIRE(placed.ok());
  Message invite = f.Take(kTarget);
  CHECK((*invite.From())->uri.user == "1001");

  auto with = [&](auto change) {
    OriginateParams p = params;
    change(p);
    return control.Originate(p).status();
  };
  CHECK(with([](auto& p) { p.to_uri = "tel:1003;phone-context=other.sb.test"; }).field() ==
        "to_uri");
  CHECK(with([](auto& p) { p.to_uri = "tel:+442071234567;ext=22"; }).field() == "to_uri");
  CHECK(with([](auto& p) { p.to_uri = "sip:acme.sb.test"; }).field() == "to_uri");
  CHECK(with([](auto& p) { p.caller_id = "a b"; }).field() == "caller_id");
  CHECK(with([](auto& p) { p.to_uri = "sip:1003@other.sb.test"; }).code() ==
        sb::StatusCode::kNotFound);
  CHECK(with([](auto& p) { p.extension = "1009"; }).code() == sb::StatusCode::kNotFound);
  CHECK(with([](auto& p) {
          p.extension.clear();
          p.trunk_id = "00000000-0000-4000-8000-000000000001";
        }).code() == sb::StatusCode::kNotFound);  // the tenant has no such trunk
  CHECK(with([](auto& p) {
          p.extension.clear();
          p.trunk_id = "00000000-0000-4000-8000-000000000001";
          p.to_uri = "sip:+442071234567@other.sb.test";
        }).code() == sb::StatusCode::kNotFound);
  // A caller id is the From of a call inside the tenant.
  CHECK(with([](auto& p) { p.caller_id = "+15550001"; }).ok());
  CHECK((*f.Take(kTarget).From())->uri.user == "+15550001");

  // The first call answers; the caller id's call still rings: nothing to bridge it to yet.
  auto ringing = control.Originate(params);
  REQUIRE(ringing.ok());
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(control.Bridge(kTenant, *placed, *ringing).code() == sb::StatusCode::kFailedPrecondition);
  CHECK(control.Bridge(sb::TenantId("tenant-other"), *placed, *ringing).code() ==
        sb::StatusCode::kNotFound);
  CHECK(
      control.Bridge(kTenant, *placed, sb::CallId("00000000-0000-4000-8000-000000000002")).code() ==
      sb::StatusCode::kNotFound);

  B2buaCallControl without(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  CHECK(without.Originate(params).status().code() == sb::StatusCode::kFailedPrecondition);
}

TEST_CASE(
    "CallControl - originate through a named trunk to a tel: number - the carrier gets the "
    "number and the command's caller id - an extension's tel: call, global or local to the "
    "tenant's domain, is routed as if it dialled it",
    "[unit]") {
  Commanded node;
  Fixture& f = node.f;
  B2buaCallControl& control = node.control;
  f.router.trunk_routes["trunk-1"] = ThroughTrunk("+15550009999", "");
  auto placed = control.Originate({.tenant = kTenant,
                                   .trunk_id = "trunk-1",
                                   .to_uri = "tel:+44-20-7123-4567",
                                   .caller_id = "+15550009999"});
  REQUIRE(placed.ok());
  CHECK(f.router.asked.back() == "trunk trunk-1 +442071234567 as +15550009999@acme.sb.test");
  auto invite = f.Next(kCarrier);
  REQUIRE(invite);
  CHECK(invite->request_uri_text() == "sip:442071234567@198.51.100.7:5060");
  CHECK((*invite->From())->uri.user == "+15550009999");
  f.Receive(Fixture::Answer(*invite, 200, "carrier", kCallerSdp), kCarrier);
  CHECK(f.events.seen.back() == "answered");

  f.router.routes["+442071234567"] = ThroughTrunk("+15551230001", "");
  REQUIRE(control.Originate({.tenant = kTenant, .extension = "1001", .to_uri = "tel:+442071234567"})
              .ok());
  CHECK(f.router.asked.back() == "1001 +442071234567");
  // A local number in the tenant's own domain (any case) is the extension's to dial too.
  REQUIRE(control
              .Originate({.tenant = kTenant,
                          .extension = "1001",
                          .to_uri = "tel:10-03;phone-context=ACME.sb.test"})
              .ok());
  CHECK(f.router.asked.back() == "1001 1003");
  CHECK((*f.Take(kTarget).To())->uri.user == "1003");
}

TEST_CASE(
    "a transfer command on an originated call rings the target for its party - the answer is "
    "bridged to it without a BYE - the party's BYE then reaches the target",
    "[unit]") {
  Fixture f;
  const std::string id = Originate(f, "1002");
  Message desk = f.Take(kDesk);
  f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
  f.wire.clear();
  std::optional<sb::Status> started;
  f.node.b2bua.Transfer(kTenant, id, "sip:1003@acme.sb.test", [&](sb::Status s) { started = s; });
  REQUIRE(started);
  CHECK(started->ok());
  Message invite = f.Take(kTarget);
  CHECK((*invite.From())->uri.user == "1002");  // the party that stays calls the target
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.media.bridged.at(id + "-a1") == id + "-b");
  CHECK(f.events.seen.back() == "answered");
  CHECK_FALSE(f.Next(kDesk));  // the party stays: no BYE
  CHECK(f.store.calls.at(id).caller.peer == kTarget);

  f.Receive(f.CalleeInDialog(desk, "BYE", "desk", 2), kDesk);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kBye);
  CHECK(f.events.seen.back() == "ended normal 200");
  CHECK(f.media.legs.empty());
}

// RFC 4028 session timers on each leg, with the default policy (1800 s asked, 90 s minimum).
namespace {

std::string HeaderValue(const Message& m, sb::sip::HeaderId id) {
  return std::string(m.Header(id).value_or(""));
}

// Advances the clock by `total` in steps of `step`, running the endpoint's timers each time.
void RunFor(Fixture& f, std::chrono::milliseconds total,
            std::chrono::milliseconds step = std::chrono::milliseconds(500)) {
  for (auto done = std::chrono::milliseconds(0); done < total; done += step) {
    f.clock.Advance(step);
    f.node.endpoint.OnTimers();
  }
  f.Pump();
}

// The next request to `to` other than an ACK (the transaction layer ACKs non-2xx answers).
Message TakeRequest(Fixture& f, const Destination& to) {
  for (auto m = f.Next(to); m; m = f.Next(to)) {
    if (m->is_request() && m->method() != sb::sip::Method::kAck) return std::move(*m);
  }
  FAIL("no request to " << to.host);
  return Parse("");
}

// The next final response to `to`.
Message TakeFinal(Fixture& f, const Destination& to) {
  for (auto m = f.Next(to); m; m = f.Next(to)) {
    if (m->is_response() && m->status_code() >= 200) return std::move(*m);
  }
  FAIL("no final response to " << to.host);
  return Parse("");
}

// The caller ACKs the B2BUA's 200 (else it is given up after 64*T1 and the call ended).
// Our tag in the caller's dialog.
std::string CallerAcks(Fixture& f) {
  for (auto m = f.Next(kCaller); m; m = f.Next(kCaller)) {
    if (m->is_response() && m->status_code() == 200) {
      std::string tag((*m->To())->tag());
      f.Receive(f.CallerInDialog("ACK", tag, 1), kCaller);
      return tag;
    }
  }
  FAIL("no 200 to the caller");
  return {};
}

struct DeskAnswered {
  Message desk;  // the desk's INVITE, whose body is the node's offer to it
  std::string caller_tag;
};

// A call ringing both contacts that the desk answers with `session_expires` (and an Allow header
// when `allow` is not empty), the caller's ACK in, the wire emptied.
DeskAnswered DeskAnswersWithTimer(Fixture& f, std::string_view session_expires,
                                  std::string_view allow = {}) {
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Take(kDesk);
  (void)f.Take(kMobile);
  std::string ok = f.With(f.Answer(desk, 200, "desk", kCallerSdp),
                          "Session-Expires: " + std::string(session_expires));
  if (!allow.empty()) ok = f.With(ok, "Allow: " + std::string(allow));
  f.Receive(ok, kDesk);
  std::string caller_tag = CallerAcks(f);
  f.wire.clear();
  return {std::move(desk), std::move(caller_tag)};
}

// The same, the desk making us its refresher (Session-Expires 120, refresher=uac).
Message DeskAnswersUsRefresher(Fixture& f, std::string_view allow = {}) {
  return DeskAnswersWithTimer(f, "120;refresher=uac", allow).desk;
}

}  // namespace

TEST_CASE("our INVITE to the callee offers timers - a 422 is retried once with its Min-SE",
          "[unit][session_timer]") {
  Fixture f;
  f.Receive(f.CallerInvite(), kCaller);
  auto desk = f.Take(kDesk);
  CHECK(desk.HasToken(sb::sip::HeaderId::kSupported, "timer"));
  CHECK(HeaderValue(desk, sb::sip::HeaderId::kSessionExpires) == "1800");
  CHECK(HeaderValue(desk, sb::sip::HeaderId::kMinSE) == "90");
  f.Receive(f.With(f.Answer(desk, 422, "desk"), "Min-SE: 3600"), kDesk);
  auto retry = TakeRequest(f, kDesk);
  CHECK(retry.method() == sb::sip::Method::kInvite);
  CHECK(*retry.CallId() == *desk.CallId());
  CHECK((*retry.From())->tag() == (*desk.From())->tag());
  CHECK((*retry.GetCSeq())->number == (*desk.GetCSeq())->number + 1);
  CHECK(HeaderValue(retry, sb::sip::HeaderId::kSessionExpires) == "3600");
  CHECK(HeaderValue(retry, sb::sip::HeaderId::kMinSE) == "3600");
  // A second 422 is that contact's failure (only its ACK follows); the mobile still rings.
  f.Receive(f.With(f.Answer(retry, 422, "desk"), "Min-SE: 7200"), kDesk);
  for (auto m = f.Next(kDesk); m; m = f.Next(kDesk)) CHECK(m->method() == sb::sip::Method::kAck);
  CHECK(f.node.b2bua.calls() == 1);
}

TEST_CASE(
    "a callee that makes us refresher without allowing UPDATE gets a re-INVITE with its node "
    "SDP at half the interval - nothing re-anchored",
    "[unit][session_timer]") {
  Fixture f;
  auto desk = DeskAnswersUsRefresher(f);
  const size_t media_calls = f.media.log.size();
  RunFor(f, std::chrono::seconds(59));
  CHECK_FALSE(f.Next(kDesk).has_value());
  RunFor(f, std::chrono::seconds(1));
  auto refresh = TakeRequest(f, kDesk);
  CHECK(refresh.method() == sb::sip::Method::kInvite);
  CHECK(refresh.body() == desk.body());  // the node's offer to this leg, version unchanged
  CHECK(HeaderValue(refresh, sb::sip::HeaderId::kSessionExpires) == "120;refresher=uac");
  CHECK(f.media.log.size() == media_calls);
  f.Receive(f.Answer(refresh, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kAck);
  CHECK_FALSE(f.Next(kCaller).has_value());  // the caller hears nothing of it
  // The 200 started the interval again: the next refresh is 60 s after it, not before.
  RunFor(f, std::chrono::seconds(59));
  CHECK_FALSE(f.Next(kDesk).has_value());
  RunFor(f, std::chrono::seconds(1));
  CHECK(TakeRequest(f, kDesk).method() == sb::sip::Method::kInvite);
}

TEST_CASE(
    "a hold passed to a callee that refreshes its own session keeps the session's terms - its "
    "200 starts the interval again - the call does not expire for want of a refresh",
    "[unit][session_timer]") {
  Fixture f;
  const std::string caller_tag = DeskAnswersWithTimer(f, "120;refresher=uas").caller_tag;
  // Without a refresh from the desk, the session would end 88 s (120 - 32) after its answer.
  RunFor(f, std::chrono::seconds(50));
  std::string hold = kCallerSdp;
  hold += "a=sendonly\r\n";
  f.Receive(f.CallerInDialog("INVITE", caller_tag, 2, hold), kCaller);
  auto reinvite = TakeRequest(f, kDesk);
  CHECK(reinvite.method() == sb::sip::Method::kInvite);
  // Without these, the desk would take the re-INVITE as turning its timer off (RFC 4028 §9).
  CHECK(HeaderValue(reinvite, sb::sip::HeaderId::kSessionExpires) == "120;refresher=uas");
  CHECK(reinvite.HasToken(sb::sip::HeaderId::kSupported, "timer"));
  f.Receive(f.With(f.Answer(reinvite, 200, "desk", std::string(kCallerSdp) + "a=recvonly\r\n"),
                   "Session-Expires: 120;refresher=uas"),
            kDesk);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kAck);
  CHECK(TakeFinal(f, kCaller).status_code() == 200);
  f.Receive(f.CallerInDialog("ACK", caller_tag, 2), kCaller);
  // 130 s after the answer, 80 s after the hold's 200: going on.
  RunFor(f, std::chrono::seconds(80));
  CHECK_FALSE(f.Next(kDesk).has_value());
  CHECK(f.node.b2bua.calls() == 1);
  // 88 s after the hold's 200 without a refresh since: over.
  RunFor(f, std::chrono::seconds(10));
  CHECK(TakeRequest(f, kDesk).method() == sb::sip::Method::kBye);
  REQUIRE(f.events.ended.size() == 1);
  CHECK(f.events.ended[0].cause == "session_expired");
}

TEST_CASE(
    "bridge - the party brought in keeps its session timer as it runs - we go on refreshing it - "
    "the hung-up callee's timer goes with it",
    "[unit][session_timer]") {
  Fixture f;
  // X: the caller and 1002's desk, which refreshes its own session every 90 s: without a
  // refresh from the desk, X would end 60 s in.
  (void)DeskAnswersWithTimer(f, "90;refresher=uas");
  const std::string x = f.store.calls.begin()->first;
  // Y: originated to 1003, whose answer makes us its refresher, due 60 s after it.
  const std::string y = Originate(f, "1003");
  Message target = f.Take(kTarget);
  f.Receive(
      f.With(f.Answer(target, 200, "target", kCallerSdp), "Session-Expires: 120;refresher=uac"),
      kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  RunFor(f, std::chrono::seconds(20));
  f.wire.clear();

  std::optional<sb::Status> bridged;
  f.node.b2bua.Bridge(kTenant, x, y, [&](sb::Status s) { bridged = s; });
  REQUIRE(bridged);
  CHECK(bridged->ok());
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  // 60 s after 1003's answer: our refresh, and X still up (the desk's 60 s are past).
  RunFor(f, std::chrono::seconds(39));
  CHECK_FALSE(f.Next(kTarget).has_value());
  RunFor(f, std::chrono::seconds(1));
  Message refresh = TakeRequest(f, kTarget);
  CHECK(refresh.method() == sb::sip::Method::kInvite);
  CHECK(HeaderValue(refresh, sb::sip::HeaderId::kSessionExpires) == "120;refresher=uac");
  f.Receive(f.Answer(refresh, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK(f.node.b2bua.calls() == 1);
  REQUIRE(f.events.ended.size() == 1);
  CHECK(f.events.ended[0].cause == "bridged");
}

namespace {

// The caller's INVITE without a body (RFC 3261 §13.2.1: the 2xx then carries the first offer)
// rings both contacts: the desk's INVITE, the mobile's taken off the wire.
Message LateOfferRings(Fixture& f) {
  std::string invite = f.CallerInvite();
  invite = invite.substr(0, invite.find("Content-Type: application/sdp"));
  f.Receive(invite + "Content-Length: 0\r\n\r\n", kCaller);
  Message desk = f.Take(kDesk);
  (void)f.Take(kMobile);
  return desk;
}

// The same, answered by the desk: the caller's 200, whose body is the node's offer.
Message LateOfferAnswered(Fixture& f) {
  Message desk = LateOfferRings(f);
  f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
  Message ok = TakeFinal(f, kCaller);
  REQUIRE(ok.status_code() == 200);
  return ok;
}

}  // namespace

TEST_CASE(
    "an INVITE without an offer (late offer) - the callee gets the node's offer - the caller's "
    "200 carries the node's offer for its leg - the answer in its ACK goes to the node, which "
    "only then bridges the legs - the legs name the answers' codecs",
    "[unit]") {
  Fixture f;
  Message desk = LateOfferRings(f);
  CHECK(desk.body().find("a=x-leg:") != std::string_view::npos);  // the node's offer to 1002
  // The callee's early media cannot reach a caller that made no offer: a plain 183.
  f.Receive(f.Answer(desk, 183, "desk", kCallerSdp), kDesk);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 183});
  f.media.log.clear();
  std::string callee_answer = kCallerSdp;
  callee_answer.replace(callee_answer.find("RTP/AVP 0"), 9, "RTP/AVP 8");
  callee_answer.replace(callee_answer.find("0 PCMU"), 6, "8 PCMA");
  f.Receive(f.Answer(desk, 200, "desk", callee_answer), kDesk);
  REQUIRE(f.store.calls.size() == 1);
  const std::string id = f.store.calls.begin()->first;
  // Leg b has the callee's answer; leg a has nothing to be bridged with yet.
  REQUIRE(f.media.log.size() == 1);
  CHECK(f.media.log[0] == "update " + id + "-b answer");
  CHECK(f.media.bridged.empty());
  Message ok = TakeFinal(f, kCaller);
  CHECK(ok.status_code() == 200);
  CHECK(ok.body().find("a=x-leg:" + id + "-a") != std::string_view::npos);  // our offer
  const std::string tag((*ok.To())->tag());

  // The caller's answer comes in its ACK.
  f.Receive(f.CallerInDialog("ACK", tag, 1, kCallerSdp), kCaller);
  REQUIRE(f.media.log.size() == 3);
  CHECK(f.media.log[1] == "update " + id + "-a answer");
  CHECK(f.media.log[2] == "bridge " + id + "-b " + id + "-a");
  CHECK(f.store.calls.at(id).caller.peer_sdp == kCallerSdp);
  CHECK(f.store.calls.at(id).caller.local_sdp == ok.body());

  f.Receive(f.CallerInDialog("BYE", tag, 2), kCaller);
  CHECK(TakeRequest(f, kDesk).method() == sb::sip::Method::kBye);
  REQUIRE(f.events.ended.size() == 1);
  CHECK(f.events.ended[0].cause == "normal");
  const auto& legs = f.events.ended[0].legs;
  REQUIRE(legs.size() == 2);
  // Each party answered an offer of ours: the codec each answer names.
  CHECK(legs[0].codec == "PCMU");
  CHECK(legs[1].codec == "PCMA");
}

TEST_CASE(
    "a late-offer caller's ACK that reaches another replica (its node died after the 200) - the "
    "answer completes leg a there and bridges it",
    "[unit]") {
  Fixture f;
  const Message ok = LateOfferAnswered(f);
  REQUIRE(f.store.calls.size() == 1);
  const std::string id = f.store.calls.begin()->first;
  f.media.log.clear();
  Node other = f.Replica(99);
  other.endpoint.OnReceived(f.CallerInDialog("ACK", (*ok.To())->tag(), 1, kCallerSdp), kCaller);
  CHECK(f.media.log ==
        std::vector<std::string>{"update " + id + "-a answer", "bridge " + id + "-b " + id + "-a"});
  CHECK(f.store.calls.at(id).caller.peer_sdp == kCallerSdp);
}

TEST_CASE("a late-offer caller whose ACK carries no answer - both sides BYEd - ended media_failure",
          "[unit]") {
  Fixture f;
  const Message ok = LateOfferAnswered(f);
  f.Receive(f.CallerInDialog("ACK", (*ok.To())->tag(), 1), kCaller);
  CHECK(TakeRequest(f, kCaller).method() == sb::sip::Method::kBye);
  CHECK(TakeRequest(f, kDesk).method() == sb::sip::Method::kBye);
  REQUIRE(f.events.ended.size() == 1);
  CHECK(f.events.ended[0].cause == "media_failure");
  CHECK(f.media.legs.empty());
}

TEST_CASE(
    "a replica adopting a call refreshes the session the dead node owed the callee - an UPDATE "
    "without an offer where the callee allows it - so the call outlives the session interval",
    "[unit][session_timer]") {
  Fixture f;
  (void)DeskAnswersUsRefresher(f, "INVITE, ACK, BYE, UPDATE");
  REQUIRE(f.store.calls.size() == 1);
  const StoredCall stored = f.store.calls.begin()->second;
  CHECK(stored.callee.refresh_interval == 120);
  CHECK(stored.callee.refresh_by_update);
  Node adopter = f.Replica(55);
  std::optional<bool> going_on;
  adopter.b2bua.ProbeStored(stored.call_id, [&](bool g, auto) { going_on = g; });
  std::optional<Message> refresh;
  for (auto& s : adopter.endpoint.TakeSends()) {
    if (s.destination == kDesk) refresh = Parse(s.bytes);
  }
  REQUIRE(refresh);
  CHECK(refresh->method() == sb::sip::Method::kUpdate);
  CHECK(refresh->body().empty());
  CHECK(HeaderValue(*refresh, sb::sip::HeaderId::kSessionExpires) == "120;refresher=uac");
  CHECK(refresh->HasToken(sb::sip::HeaderId::kSupported, "timer"));
  CHECK((*refresh->To())->tag() == "desk");
  adopter.endpoint.OnReceived(sb::sip::MakeResponse(*refresh, 200).Build(), kDesk);
  CHECK_FALSE(going_on);  // the caller's probe is still out
}

TEST_CASE(
    "a caller's re-INVITE repeating its SDP is a refresh answered by the node - no re-anchor - "
    "the callee hears nothing",
    "[unit][session_timer]") {
  Fixture f;
  auto call = f.Connect();
  const size_t media_calls = f.media.log.size();
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 2, kCallerSdp), kCaller);
  auto ok = TakeFinal(f, kCaller);
  CHECK(ok.status_code() == 200);
  CHECK(HeaderValue(ok, sb::sip::HeaderId::kSessionExpires) == "1800;refresher=uas");
  CHECK(ok.body().find("x-leg:") != std::string_view::npos);  // the node's answer, as before
  CHECK(f.media.log.size() == media_calls);
  CHECK_FALSE(f.Next(kDesk).has_value());
  // An UPDATE without SDP gets a 200 without one.
  f.Receive(f.CallerInDialog("UPDATE", call.caller_tag, 3), kCaller);
  auto updated = TakeFinal(f, kCaller);
  CHECK(updated.status_code() == 200);
  CHECK(updated.body().empty());
  CHECK_FALSE(f.Next(kDesk).has_value());
}

namespace {

// The caller's description with its media on another port (a phone whose address changed), as
// its next version (RFC 3264 §8).
std::string MovedCallerSdp() {
  std::string sdp = kCallerSdp;
  sdp.replace(sdp.find("audio 4000"), 10, "audio 4010");
  sdp.replace(sdp.find("o=- 1 1 "), 8, "o=- 1 2 ");
  return sdp;
}

}  // namespace

TEST_CASE(
    "a caller's re-INVITE without an offer gets the node's description - the answer in its ACK "
    "goes to the node when it changed, not when it is the same",
    "[unit][session_timer]") {
  Fixture f;
  auto call = f.Connect();
  const size_t media_calls = f.media.log.size();
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 2), kCaller);
  auto offered = TakeFinal(f, kCaller);
  CHECK(offered.status_code() == 200);
  CHECK(offered.body() == call.caller_sdp);
  f.Receive(f.CallerInDialog("ACK", call.caller_tag, 2, kCallerSdp), kCaller);
  CHECK(f.media.log.size() == media_calls);
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 3), kCaller);
  CHECK(TakeFinal(f, kCaller).status_code() == 200);
  f.Receive(f.CallerInDialog("ACK", call.caller_tag, 3, MovedCallerSdp()), kCaller);
  REQUIRE(f.media.log.size() == media_calls + 1);
  CHECK(f.media.log.back() == "update " + f.store.calls.begin()->first + "-a answer");
  CHECK(f.store.calls.begin()->second.caller.peer_sdp == MovedCallerSdp());
  // An ACK with a body that answers nothing (the re-INVITE had an offer) changes nothing.
  f.Receive(f.CallerInDialog("INVITE", call.caller_tag, 4, MovedCallerSdp()), kCaller);
  CHECK(TakeFinal(f, kCaller).status_code() == 200);
  f.Receive(f.CallerInDialog("ACK", call.caller_tag, 4, kCallerSdp), kCaller);
  CHECK(f.media.log.size() == media_calls + 1);
  CHECK_FALSE(f.Next(kDesk).has_value());

  // A hold given in the answer (sendonly to our sendrecv offer, RFC 3264 §6.1) passes to the
  // callee as a re-offer's does; so does its end.
  int cseq = 5;
  for (std::string direction : {"sendonly", "sendrecv"}) {
    f.Receive(f.CallerInDialog("INVITE", call.caller_tag, cseq), kCaller);
    CHECK(TakeFinal(f, kCaller).status_code() == 200);
    // Each its own version of the moved description.
    std::string answer = MovedCallerSdp() + "a=" + direction + "\r\n";
    answer.replace(answer.find("o=- 1 2 "), 8, "o=- 1 " + std::to_string(cseq) + " ");
    f.Receive(f.CallerInDialog("ACK", call.caller_tag, cseq++, answer), kCaller);
    Message reinvite = f.Take(kDesk);
    CHECK(reinvite.method() == sb::sip::Method::kInvite);
    CHECK(reinvite.body().find(direction) != std::string_view::npos);
    f.Receive(Fixture::Answer(reinvite, 200, "desk", kCallerSdp), kDesk);
    CHECK(f.Take(kDesk).method() == sb::sip::Method::kAck);
    CHECK(f.store.calls.begin()->second.caller.peer_sdp == answer);
  }
}

TEST_CASE(
    "another replica answers a stored call's re-INVITE without an offer with the description "
    "the caller had - a changed answer in the ACK goes to the node and the record",
    "[unit]") {
  Fixture f;
  auto call = f.Connect();
  const std::string id = f.store.calls.begin()->first;
  Node other = f.Replica(99);
  other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 5), kCaller);
  std::vector<Message> answers;
  for (auto& sent : other.endpoint.TakeSends()) answers.push_back(Parse(sent.bytes));
  REQUIRE_FALSE(answers.empty());
  CHECK(answers.back().status_code() == 200);
  CHECK(answers.back().body() == call.caller_sdp);
  const size_t media_calls = f.media.log.size();
  other.endpoint.OnReceived(f.CallerInDialog("ACK", call.caller_tag, 5, MovedCallerSdp()), kCaller);
  REQUIRE(f.media.log.size() == media_calls + 1);
  CHECK(f.media.log.back() == "update " + id + "-a answer");
  CHECK(f.store.calls.at(id).caller.peer_sdp == MovedCallerSdp());
  // The same answer again: nothing to change.
  other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 6), kCaller);
  (void)other.endpoint.TakeSends();
  other.endpoint.OnReceived(f.CallerInDialog("ACK", call.caller_tag, 6, MovedCallerSdp()), kCaller);
  CHECK(f.media.log.size() == media_calls + 1);
  CHECK(other.endpoint.TakeSends().empty());

  // A hold given in the answer passes to the callee from the record, as a re-offer's does.
  other.endpoint.OnReceived(f.CallerInDialog("INVITE", call.caller_tag, 7), kCaller);
  (void)other.endpoint.TakeSends();
  std::string hold = MovedCallerSdp() + "a=sendonly\r\n";
  hold.replace(hold.find("o=- 1 2 "), 8, "o=- 1 3 ");
  other.endpoint.OnReceived(f.CallerInDialog("ACK", call.caller_tag, 7, hold), kCaller);
  auto sent = other.endpoint.TakeSends();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kDesk);
  Message reinvite = Parse(sent[0].bytes);
  CHECK(reinvite.method() == sb::sip::Method::kInvite);
  CHECK(reinvite.body().find("a=sendonly") != std::string_view::npos);
  other.endpoint.OnReceived(Fixture::Answer(reinvite, 200, "desk", kCallerSdp), kDesk);
  const StoredCall& held = f.store.calls.at(id);
  CHECK(held.caller.peer_sdp == hold);
  CHECK(held.callee.local_sdp == std::string(reinvite.body()));
  CHECK(held.callee.next_local_cseq > CSeqOf(reinvite));
}

TEST_CASE(
    "a caller that does not answer our refresh is hung up - BYE both sides - ended with the "
    "session timer's cause",
    "[unit][session_timer]") {
  Fixture f;
  auto call = f.Connect();
  f.Receive(f.CallerInDialog("ACK", call.caller_tag, 1), kCaller);
  // The caller asked no timer and supports none: we refresh it, at 900 s of 1800.
  RunFor(f, std::chrono::seconds(900), std::chrono::seconds(1));
  auto refresh = TakeRequest(f, kCaller);
  CHECK(refresh.method() == sb::sip::Method::kInvite);
  RunFor(f, std::chrono::seconds(33));  // Timer B: the re-INVITE times out (408)
  std::vector<std::string> to_caller, to_desk;
  for (auto m = f.Next(kCaller); m; m = f.Next(kCaller)) {
    if (m->is_request()) to_caller.emplace_back(m->method_text());
  }
  for (auto m = f.Next(kDesk); m; m = f.Next(kDesk)) {
    if (m->is_request()) to_desk.emplace_back(m->method_text());
  }
  CHECK(std::find(to_caller.begin(), to_caller.end(), "BYE") != to_caller.end());
  CHECK(std::find(to_desk.begin(), to_desk.end(), "BYE") != to_desk.end());
  CHECK(f.events.seen.back() == "ended session_expired 200");
  CHECK(f.node.b2bua.calls() == 0);
}

TEST_CASE(
    "a carrier that challenged and then asks a longer session interval (422) gets the retry "
    "with the trunk's credentials again - the next nonce count",
    "[unit][session_timer]") {
  Fixture f;
  auto [first, second] = CarrierChallenges(f);
  REQUIRE(second->Header(sb::sip::HeaderId::kProxyAuthorization));
  f.Receive(f.With(Fixture::Answer(*second, 422, "carrier"), "Min-SE: 3600"), kCarrier);
  auto third = NextInvite(f);
  REQUIRE(third);
  CHECK((*third->GetCSeq())->number == 3);
  CHECK(HeaderValue(*third, sb::sip::HeaderId::kSessionExpires) == "3600");
  auto credentials = TrunkCredentials(*third, 2);
  REQUIRE(credentials);
  CHECK(credentials->nc == "00000002");

  f.Receive(Fixture::Answer(*third, 200, "carrier", kCallerSdp), kCarrier);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 200});
}

TEST_CASE(
    "a refresh answered with another description (a new port) gives it to the node - the same "
    "description again does not",
    "[unit][session_timer]") {
  Fixture f;
  (void)DeskAnswersUsRefresher(f);
  const size_t media_calls = f.media.log.size();
  RunFor(f, std::chrono::seconds(60));
  auto refresh = TakeRequest(f, kDesk);
  std::string moved = kCallerSdp;
  const auto port = moved.find("m=audio ");
  REQUIRE(port != std::string::npos);
  moved.replace(port, 12, "m=audio 4002");
  f.Receive(f.Answer(refresh, 200, "desk", moved), kDesk);
  f.Pump();
  REQUIRE(f.media.log.size() == media_calls + 1);
  CHECK(f.media.log.back().starts_with("update "));
  CHECK(f.media.log.back().ends_with(" answer"));

  RunFor(f, std::chrono::seconds(60));
  auto again = TakeRequest(f, kDesk);
  f.Receive(f.Answer(again, 200, "desk", moved), kDesk);
  f.Pump();
  CHECK(f.media.log.size() == media_calls + 1);
}

TEST_CASE(
    "a refresh refused with 491 is sent again after 2.1-4 s - a peer that keeps answering 500 "
    "gets three retries, no more",
    "[unit][session_timer]") {
  Fixture f;
  (void)DeskAnswersUsRefresher(f);
  // The next INVITE to the desk with a CSeq above `after` (ACKs and retransmissions skipped)
  // that is on the wire now.
  auto new_invite = [&](uint32_t after) -> std::optional<Message> {
    for (auto m = f.Next(kDesk); m; m = f.Next(kDesk)) {
      if (m->method() == sb::sip::Method::kInvite && (*m->GetCSeq())->number > after) return m;
    }
    return std::nullopt;
  };
  RunFor(f, std::chrono::seconds(60));
  auto refresh = new_invite(0);
  REQUIRE(refresh);
  const uint32_t first = (*refresh->GetCSeq())->number;
  f.Receive(f.Answer(*refresh, 491, "desk"), kDesk);
  RunFor(f, std::chrono::milliseconds(2099));
  CHECK_FALSE(new_invite(first));
  RunFor(f, std::chrono::milliseconds(1901));
  auto again = new_invite(first);
  REQUIRE(again);
  f.Receive(f.Answer(*again, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.node.b2bua.calls() == 1);

  // The next refresh meets a failing peer: three more tries, then none until the session ends.
  uint32_t last = (*again->GetCSeq())->number;
  int invites = 0;
  RunFor(f, std::chrono::seconds(60));
  for (int i = 0; i < 8; ++i) {
    if (auto m = new_invite(last)) {
      ++invites;
      last = (*m->GetCSeq())->number;
      f.Receive(f.Answer(*m, 500, "desk"), kDesk);
    }
    RunFor(f, std::chrono::seconds(4));
  }
  CHECK(invites == 4);
}

namespace {

// The call id of a ringing call: named in the media leg of the node's offer to a contact.
std::string CallIdOfOffer(const Message& invite) {
  const std::string_view body = invite.body();
  const size_t at = body.find("x-leg:");
  REQUIRE(at != std::string_view::npos);
  const size_t end = body.find("-b", at);
  return std::string(body.substr(at + 6, end - at - 6));
}

}  // namespace

TEST_CASE(
    "the answer command takes a call still ringing - the caller gets 200 with the node's "
    "description - the contacts are cancelled and their leg released - the caller is the call's "
    "one party - play acts on its leg - its BYE ends the call",
    "[unit]") {
  Fixture f;
  auto [desk, mobile] = f.Ring();
  f.Receive(f.Answer(desk, 180, "desk"), kDesk);
  f.Receive(f.Answer(mobile, 180, "mobile"), kMobile);
  const std::string id = CallIdOfOffer(desk);
  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  CHECK(control.Answer(sb::TenantId("tenant-other"), sb::CallId(id)).code() ==
        sb::StatusCode::kNotFound);
  REQUIRE(control.Answer(kTenant, sb::CallId(id)).ok());

  f.Pump();
  std::optional<Message> ok;
  for (auto it = f.wire.begin(); it != f.wire.end(); ++it) {
    if (it->to == kCaller && Parse(it->bytes).status_code() == 200) ok = Parse(it->bytes);
  }
  REQUIRE(ok);
  CHECK(ok->body().find("x-leg:" + id + "-a") != std::string_view::npos);
  CHECK(f.Codes(kCaller) == std::vector<int>{100, 180, 200});
  const std::string caller_tag((*ok->To())->tag());
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kCancel);
  CHECK(f.Take(kMobile).method() == sb::sip::Method::kCancel);
  CHECK(f.media.legs == std::set<std::string>{id + "-a"});
  CHECK(f.events.seen.back() == "answered");
  const StoredCall& record = f.store.calls.at(id);
  CHECK(record.media_legs == std::vector<std::string>{id + "-a"});
  CHECK(record.callee.id.local_tag == caller_tag);
  CHECK(record.caller.id.call_id.empty());
  CHECK(record.answered_leg == id + "-a");
  CHECK(StoredLegs(record).at(0).direction == sb::signaling::LegDirection::kInbound);
  // A contact's 200 crossing the CANCEL is hung up: the call is answered already.
  f.Receive(f.Answer(desk, 200, "desk", kCallerSdp), kDesk);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kAck);
  CHECK(f.Take(kDesk).method() == sb::sip::Method::kBye);
  CHECK(control.Answer(kTenant, sb::CallId(id)).code() == sb::StatusCode::kFailedPrecondition);

  // The platform's end of the call: a prompt played on the caller's leg.
  CHECK(control.Play(kTenant, sb::CallId(id), {.tone = "ringback"}).ok());
  CHECK(f.media.log.back() == "play " + id + "-a ringback");
  // The caller's ACK, then its BYE, which ends the call.
  f.Receive(f.CallerInDialog("ACK", caller_tag, 1), kCaller);
  f.Receive(f.CallerInDialog("BYE", caller_tag, 2), kCaller);
  CHECK(f.Codes(kCaller) == std::vector<int>{200});
  CHECK(f.media.legs.empty());
  CHECK(f.store.calls.empty());
  CHECK(f.events.seen.back() == "ended normal 200");
}

// A call from 1001 ringing 1002, whose caller the answer command took (as an IVR does), ACKed;
// its id. The wire is left empty.
std::string AnsweredByCommand(Fixture& f, B2buaCallControl& control) {
  auto [desk, mobile] = f.Ring();
  const std::string id = CallIdOfOffer(desk);
  REQUIRE(control.Answer(kTenant, sb::CallId(id)).ok());
  Message ok = TakeFinal(f, kCaller);
  REQUIRE(ok.status_code() == 200);
  f.Receive(f.CallerInDialog("ACK", std::string((*ok.To())->tag()), 1), kCaller);
  f.wire.clear();
  return id;
}

TEST_CASE(
    "a caller taken by the answer command and then transferred by command - the target sees the "
    "caller, not the extension it called - the target's answer joins them",
    "[unit]") {
  Fixture f;
  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  const std::string id = AnsweredByCommand(f, control);
  REQUIRE(control.Transfer(kTenant, sb::CallId(id), "sip:1003@acme.sb.test").ok());
  Message invite = f.Take(kTarget);
  CHECK((*invite.To())->uri.user == "1003");
  CHECK((*invite.From())->uri.user == "1001");  // the caller, who stays; not 1002
  f.Receive(f.Answer(invite, 200, "target", kCallerSdp), kTarget);
  CHECK(f.Take(kTarget).method() == sb::sip::Method::kAck);
  CHECK(f.events.seen.back() == "answered");
  CHECK(f.media.legs == std::set<std::string>{id + "-a", id + "-a1"});
}

TEST_CASE(
    "a caller taken by the answer command, its node gone - the transfer command at another "
    "replica shows the target the caller, from the record",
    "[unit]") {
  Fixture f;
  B2buaCallControl control(
      f.node.b2bua, [](std::function<void()> task) { task(); }, std::chrono::seconds(1));
  const std::string id = AnsweredByCommand(f, control);
  REQUIRE(f.store.calls.count(id) == 1);
  CHECK(f.store.calls.at(id).b_party_uri == "sip:1001@acme.sb.test");

  Message invite = TransferredAtSurvivor(f, id);
  CHECK((*invite.To())->uri.user == "1003");
  CHECK((*invite.From())->uri.user == "1001");  // the caller, who stays; not 1002
}

TEST_CASE(
    "the answer command refuses an originated call (nobody called) - a caller that made no offer "
    "gets the node's offer in the 200 and its ACK's answer goes to its leg, bridged to nothing",
    "[unit]") {
  const B2buaCallControl::PostToLoop now = [](std::function<void()> task) { task(); };
  {
    Fixture f;
    B2buaCallControl control(f.node.b2bua, now, std::chrono::seconds(1));
    const std::string id = Originate(f, "1003");
    REQUIRE_FALSE(id.empty());
    CHECK(control.Answer(kTenant, sb::CallId(id)).code() == sb::StatusCode::kFailedPrecondition);
  }
  Fixture f;
  Message desk = LateOfferRings(f);
  const std::string id = CallIdOfOffer(desk);
  B2buaCallControl control(f.node.b2bua, now, std::chrono::seconds(1));
  REQUIRE(control.Answer(kTenant, sb::CallId(id)).ok());
  Message ok = TakeFinal(f, kCaller);
  REQUIRE(ok.status_code() == 200);
  CHECK(ok.body().find("a=x-leg:" + id + "-a") != std::string_view::npos);  // our offer
  f.media.log.clear();
  const std::string caller_tag((*ok.To())->tag());
  f.Receive(f.CallerInDialog("ACK", caller_tag, 1, kCallerSdp), kCaller);
  CHECK(f.media.log == std::vector<std::string>{"update " + id + "-a answer"});
  CHECK(f.store.calls.at(id).callee.peer_sdp == kCallerSdp);
  CHECK(f.store.calls.at(id).callee.we_offered);
  f.Receive(f.CallerInDialog("BYE", caller_tag, 2), kCaller);
  CHECK(f.events.seen.back() == "ended normal 200");
}
