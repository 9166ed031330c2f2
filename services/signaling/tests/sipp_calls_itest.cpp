// Calls between two extensions played by sipp through the real binaries (sb-admin, sb-media,
// sb-signaling on a private NATS, the shared Redis and PostgreSQL): the callee, extension 1002,
// registers with digest from its UAS address and then runs a UAS scenario; the caller, 1001,
// answers the 407 and runs a UAC scenario. Each scenario (tests/sipp/) names every message its
// side must see: sipp fails the call on a missing or unexpected one, or on its -timeout.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "sipp_call_rig.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/redis/client.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/nats_connect.h"
#include "udp_relay.h"

using namespace std::chrono_literals;
using namespace sb::signaling::test;

namespace {

// A call 1001 -> 1002 ended: its record (what CDRs are made of) names both legs, each party's
// dialog and address, the media node and leg anchoring it, the codec (both phones speak PCMA)
// and the media's quality; and both legs carried packets both ways: leg a received the
// caller's audio and sent it the callee's echo, leg b sent the caller's audio to the callee and
// received the echo (the callee's sipp runs -rtp_echo: RTP comes back only once it has arrived).
void CheckEndedWithMediaBothWays(const CallRig& rig, sb::testing::EventInbox& ended,
                                 LegStats& stats) {
  auto ends = ended.AtLeast<switchboard::call::v1::CallEnded>(1, 10s);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].cause() == switchboard::call::v1::END_CAUSE_NORMAL_CLEARING);
  const auto& call = ends[0].call();
  REQUIRE(call.legs_size() == 2);
  CHECK(call.legs(0).direction() == switchboard::call::v1::LEG_DIRECTION_INBOUND);
  CHECK(call.legs(0).remote_source().starts_with(kCallerIp + ":"));
  CHECK(call.legs(1).direction() == switchboard::call::v1::LEG_DIRECTION_OUTBOUND);
  CHECK(call.legs(1).remote_source() == kCalleeIp + ":" + std::to_string(rig.callee_port));
  for (const auto& leg : call.legs()) {
    INFO("leg " << leg.leg_id());
    CHECK(leg.codec() == "PCMA");
    CHECK_FALSE(leg.sip_call_id().empty());
    CHECK_FALSE(leg.remote_contact().empty());
    CHECK(leg.media_node_id() == call.legs(0).media_node_id());
    CHECK_FALSE(leg.media_node_id().empty());
    CHECK(leg.final_sip_code() == 200);
    // How its media went, as the node measured it to the end.
    CHECK(leg.media_stats().packets_received() > 0);
    CHECK(leg.media_stats().mos() > 0);
  }
  CHECK(call.legs(0).sip_call_id() != call.legs(1).sip_call_id());
  auto finals = stats.Finals(2);
  REQUIRE(finals.size() == 2);
  for (const auto& leg : finals) {
    INFO("leg " << leg.leg().leg_id());
    CHECK(leg.packets_received() > 0);
    CHECK(leg.packets_sent() > 0);
  }
}

}  // namespace

namespace {

// Extension 1003, a transfer's target, registered through `via_port` at its own address: it
// answers once and echoes the RTP it gets.
Sipp StartTarget(CallRig& rig, int via_port) {
  rig.platform.CreateExtension(rig.tenant, "1003", "pass-1003-secret");
  const int target_port = sb::testing::FreePort();
  rig.Register("1003", kTargetIp, target_port, via_port);
  return Sipp::Start("target",
                     Concat({"-sf", Sipp::Scenario("callee_answers.xml"), "-m", "1", "-rtp_echo"},
                            At(kTargetIp, target_port)));
}

// The transferor and the party that stays ran their scenarios through, and so did the target.
void CheckTransferred(Sipp& caller, Sipp& callee, Sipp& target) {
  CheckBothSucceeded(caller, callee);
  const int target_rc = target.Wait();
  INFO(target.Report());
  CHECK(target_rc == 0);
}

// The target's leg (`<id>-a1`, which replaced the transferring caller's) carried audio both ways.
void CheckTargetLegCarriedAudio(LegStats& stats) {
  bool target_leg_seen = false;
  for (const auto& leg : stats.Finals(3)) {
    if (!leg.leg().leg_id().ends_with("-a1")) continue;
    target_leg_seen = true;
    CHECK(leg.packets_sent() > 0);
    CHECK(leg.packets_received() > 0);
  }
  CHECK(target_leg_seen);
}

// 1001 calls 1002, whose UAS echoes the RTP it gets, with `caller_scenario`; the call ends with
// media both ways (CheckEndedWithMediaBothWays).
struct EchoedCall {
  CallRig rig;
  LegStats stats{rig.platform.nats_url()};
  std::unique_ptr<sb::bus::NatsBus> bus =
      sb::testing::ConnectNats(rig.platform.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox ended{*bus, "sb.evt.call.ended." + rig.tenant.id()};

  void Run(const std::string& caller_scenario) {
    rig.RegisterCallee(rig.platform.sip_port());
    auto callee = rig.StartCallee("callee_answers.xml", {"-rtp_echo"});
    auto caller = rig.StartCaller(caller_scenario, rig.platform.sip_port());
    CheckBothSucceeded(caller, callee);
    INFO(rig.platform.SignalingLog());
    CheckEndedWithMediaBothWays(rig, ended, stats);
  }
};

}  // namespace

TEST_CASE("a call with RTP both ways through the media node - the caller hangs up - both legs end",
          "[integration]") {
  EchoedCall call;
  call.Run("caller_hangs_up.xml");
  // The ended call left the store, and the node's list of the calls it carries (which another
  // replica would adopt): Redis drops a set once it is empty.
  auto carried = call.rig.platform.Redis()->Run(sb::redis::Command("KEYS").Key("node_calls:*"));
  REQUIRE(carried.ok());
  CHECK(carried->array()->empty());
}

// Behind the balancer every request reaches the replica from the balancer's address; with the
// balancer trusted (SB_SIGNALING_TRUSTED_PROXIES), the caller's leg is told by the address the
// balancer received the INVITE from, and the callee's by the address its Path entry names (where
// the balancer received its REGISTER), in the answered event (the dialogs held by the endpoint)
// and in the ended one (the record).
TEST_CASE(
    "through the Kamailio balancer - both legs in the call's events name the phones' own "
    "addresses, not the balancer's",
    "[integration]") {
  CallRig rig(std::vector<std::pair<std::string, std::string>>{
      {"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1"}});
  auto bus = sb::testing::ConnectNats(rig.platform.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox answered(*bus, "sb.evt.call.answered." + rig.tenant.id());
  sb::testing::EventInbox ended(*bus, "sb.evt.call.ended." + rig.tenant.id());
  auto balancer = StartBalancer({rig.platform.sip_port()});
  rig.RegisterCallee(balancer.port());
  auto callee = rig.StartCallee("callee_answers.xml", {"-rtp_echo"});
  auto caller = rig.StartCaller("caller_hangs_up.xml", balancer.port());
  CheckBothSucceeded(caller, callee);
  INFO(rig.platform.SignalingLog());
  auto answers = answered.AtLeast<switchboard::call::v1::CallAnswered>(1, 10s);
  REQUIRE(answers.size() == 1);
  auto ends = ended.AtLeast<switchboard::call::v1::CallEnded>(1, 10s);
  REQUIRE(ends.size() == 1);
  for (const auto* call : {&answers[0].call(), &ends[0].call()}) {
    REQUIRE(call->legs_size() == 2);
    CHECK(call->legs(0).remote_source().starts_with(kCallerIp + ":"));
    CHECK(call->legs(1).remote_source() == kCalleeIp + ":" + std::to_string(rig.callee_port));
  }
}

// RFC 3261 §13.2.1: an INVITE may carry no offer (late offer, as some PBXs and carriers send
// them); the media node then offers in our 200, and the caller's answer comes in its ACK.
TEST_CASE(
    "a caller's INVITE without SDP (late offer) - the 200 offers the media node's leg - the "
    "answer in the ACK completes it - RTP both ways",
    "[integration]") {
  EchoedCall call;
  call.Run("caller_late_offer.xml");
}

TEST_CASE("the callee hangs up - the caller gets the BYE", "[integration]") {
  CallRig rig;
  rig.Call("callee_hangs_up.xml", "caller_hung_up_on.xml");
}

TEST_CASE("the caller cancels while it rings - 487 to the caller - CANCEL at the callee",
          "[integration]") {
  CallRig rig;
  rig.Call("callee_rings_until_cancelled.xml", "caller_cancels.xml");
}

TEST_CASE("a busy callee - its 486 reaches the caller", "[integration]") {
  CallRig rig;
  rig.Call("callee_busy.xml", "caller_gets_busy.xml");
}

TEST_CASE("no answer - the callee is cancelled after the timeout - the caller gets 480",
          "[integration]") {
  CallRig rig;
  const auto start = std::chrono::steady_clock::now();
  rig.Call("callee_rings_until_cancelled.xml", "caller_gets_no_answer.xml");
  // Not before SB_SIGNALING_NO_ANSWER_SECONDS (3 s).
  CHECK(std::chrono::steady_clock::now() - start >= 3s);
}

TEST_CASE(
    "the callee's only phone is gone without un-registering - 480 once its silence is given up, "
    "before the no-answer timeout",
    "[integration]") {
  CallRig rig(
      std::vector<std::pair<std::string, std::string>>{{"SB_SIGNALING_SILENT_CONTACT_MS", "1000"}});
  // 1002 registers from callee_port, where nothing answers once that sipp has exited.
  rig.RegisterCallee(rig.platform.sip_port());
  const auto start = std::chrono::steady_clock::now();
  auto caller = rig.StartCaller("caller_gets_no_answer.xml", rig.platform.sip_port());
  const int rc = caller.Wait();
  INFO(caller.Report());
  CHECK(rc == 0);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 1s);
  CHECK(took < 3s);  // SB_SIGNALING_NO_ANSWER_SECONDS, counted from the same INVITE
}

// sipp's caller sends no RTP at all: to the media node it is a phone gone without a BYE.
TEST_CASE(
    "a caller that sends no RTP past SB_SIGNALING_RTP_TIMEOUT_SECONDS once answered - the node "
    "BYEs both sides - ended media_failure",
    "[integration]") {
  CallRig rig(
      std::vector<std::pair<std::string, std::string>>{{"SB_SIGNALING_RTP_TIMEOUT_SECONDS", "2"}});
  auto bus = sb::testing::ConnectNats(rig.platform.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox answered(*bus, "sb.evt.call.answered." + rig.tenant.id());
  sb::testing::EventInbox ended(*bus, "sb.evt.call.ended." + rig.tenant.id());
  rig.RegisterCallee(rig.platform.sip_port());
  auto callee = rig.StartCallee("callee_talks_until_bye.xml");
  auto caller = rig.StartCaller("caller_hung_up_on.xml", rig.platform.sip_port());
  REQUIRE(answered.Wait<switchboard::call::v1::CallAnswered>(
      [](const switchboard::call::v1::CallAnswered&, const sb::bus::Message&) { return true; },
      10s));
  const auto answered_at = std::chrono::steady_clock::now();
  CheckBothSucceeded(caller, callee);
  INFO(rig.platform.SignalingLog());
  auto ends = ended.AtLeast<switchboard::call::v1::CallEnded>(1, 10s);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].cause() == switchboard::call::v1::END_CAUSE_MEDIA_FAILURE);
  CHECK(ends[0].billable_seconds() >= 2);
  CHECK(std::chrono::steady_clock::now() - answered_at >= 2s);
}

TEST_CASE(
    "hold and unhold - the caller's sendonly re-INVITE reaches the callee as sendonly - "
    "sendrecv takes it off hold",
    "[integration]") {
  CallRig rig;
  rig.Call("callee_held.xml", "caller_holds.xml");
}

TEST_CASE(
    "100rel both ways - the callee's reliable 183 with SDP is PRACKed - the caller requiring "
    "100rel gets a reliable 183 with the node's SDP - its 200 only after its PRACK",
    "[integration]") {
  CallRig rig;
  rig.Call("callee_reliable_183.xml", "caller_requires_100rel.xml");
}

TEST_CASE(
    "lost packets - the first INVITE to the callee and the first 200 to the caller are lost - "
    "retransmissions complete the call",
    "[integration]") {
  CallRig rig;
  using Direction = UdpRelay::Direction;
  UdpRelay to_callee(rig.platform.sip_port(), {[](Direction d, std::string_view m) {
                       return d == Direction::kToPhone && m.starts_with("INVITE ");
                     }});
  UdpRelay to_caller(rig.platform.sip_port(), {[](Direction d, std::string_view m) {
                       return d == Direction::kToPhone && m.starts_with("SIP/2.0 200 ") &&
                              m.find(" INVITE\r\n") != std::string_view::npos;
                     }});
  rig.RegisterCallee(to_callee.port());
  auto callee = rig.StartCallee("callee_answers.xml");
  auto caller = rig.StartCaller("caller_hangs_up.xml", to_caller.port());
  CheckBothSucceeded(caller, callee);
  CHECK(to_callee.Dropped().size() == 1);
  CHECK(to_caller.Dropped().size() == 1);
}

TEST_CASE(
    "blind transfer - the caller REFERs the callee to 1003 or to the tenant's number admin routes "
    "to 1003 - NOTIFY 100 180 200 and a BYE reach it - the callee's audio reaches 1003 through "
    "the node and comes back",
    "[integration]") {
  const std::string refer_to = GENERATE(as<std::string>{}, "1003", "+15557770003");
  INFO("Refer-To user " << refer_to);
  CallRig rig;
  LegStats stats(rig.platform.nats_url());
  auto target = StartTarget(rig, rig.platform.sip_port());
  rig.platform.AddNumber(rig.tenant, "+15557770003", "ext:1003");
  rig.RegisterCallee(rig.platform.sip_port());
  auto callee = rig.StartCallee("callee_stays_through_transfer.xml");
  auto caller =
      rig.StartCaller("caller_transfers.xml", rig.platform.sip_port(), refer_to, {"-d", "500"});
  CheckTransferred(caller, callee, target);

  // Legs a (the caller's, destroyed at the transfer), b (the callee's) and a1 (the target's,
  // which replaced a): a1 carried the callee's audio to 1003 and its echo back.
  CheckTargetLegCarriedAudio(stats);
}

// RFC 4028 session timers, each leg negotiated on its own, with a 6 s interval and a 4 s
// minimum (the defaults are 1800 s and 90 s).
namespace {
const std::vector<std::pair<std::string, std::string>> kShortSessions{
    {"SB_SIGNALING_SESSION_EXPIRES", "6"}, {"SB_SIGNALING_MIN_SE", "4"}};
}  // namespace

TEST_CASE(
    "a caller with Session-Expires is made the refresher - its UPDATE refreshes keep the call up "
    "past the interval",
    "[integration][session_timer]") {
  CallRig rig(kShortSessions);
  rig.Call("callee_answers.xml", "caller_refreshes_by_update.xml");
}

TEST_CASE(
    "a callee that leaves the refreshes to us gets an UPDATE at half the interval - twice - and "
    "the call stays up",
    "[integration][session_timer]") {
  CallRig rig(kShortSessions);
  rig.Call("callee_leaves_refreshes_to_us.xml", "caller_refreshes_by_update.xml");
}

TEST_CASE(
    "a caller that stops refreshing gets a BYE as does the callee - the ended event says the "
    "session expired",
    "[integration][session_timer]") {
  CallRig rig(kShortSessions);
  auto bus = sb::testing::ConnectNats(rig.platform.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox ended(*bus, "sb.evt.call.ended." + rig.tenant.id());
  const auto start = std::chrono::steady_clock::now();
  rig.Call("callee_answers.xml", "caller_stops_refreshing.xml");
  // RFC 4028 §10: not before 6 s - min(32 s, 2 s) after the answer.
  CHECK(std::chrono::steady_clock::now() - start >= 4s);
  auto end = ended.Wait<switchboard::call::v1::CallEnded>(
      [](const switchboard::call::v1::CallEnded&, const sb::bus::Message&) { return true; }, 10s);
  REQUIRE(end.has_value());
  CHECK(end->cause() == switchboard::call::v1::END_CAUSE_SESSION_EXPIRED);
}

TEST_CASE("a Session-Expires below the node's Min-SE gets 422 with Min-SE",
          "[integration][session_timer]") {
  CallRig rig(kShortSessions);
  auto caller = rig.StartCaller("caller_asks_too_short_interval.xml", rig.platform.sip_port());
  const int rc = caller.Wait();
  INFO(caller.Report());
  CHECK(rc == 0);
}

namespace {
// Whether the node parked an event on `subject` in Redis (RedisEventOutbox keeps each as
// "<subject>\n<msg_id>\n<body>" in the hash evt-parked) - polled, bounded.
bool Parked(const Platform& p, const std::string& subject, std::chrono::seconds timeout) {
  auto redis = p.Redis();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    auto values = redis->Run(sb::redis::Command("HVALS").Key("evt-parked"));
    REQUIRE(values.ok());
    REQUIRE(values->array());
    for (const auto& value : *values->array()) {
      if (value.str() && value.str()->starts_with(subject + "\n")) return true;
    }
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

// Whether `key` is in Redis (`present`) or gone - polled every millisecond, bounded.
bool KeyBecomes(const Platform& p, const std::string& key, bool present,
                std::chrono::seconds timeout) {
  auto redis = p.Redis();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    auto exists = redis->Run(sb::redis::Command("EXISTS").Key(key));
    REQUIRE(exists.ok());
    if ((exists->integer() == 1) == present) return true;
    std::this_thread::sleep_for(1ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}
}  // namespace

TEST_CASE(
    "a call that ends while JetStream is away, on a node killed as soon as the call left the store "
    "- another replica stores its ended event once, with its billable seconds",
    "[integration]") {
  // A short lease and sweep so that the survivor sends it within seconds; admin's answers kept,
  // so that the call needs no NATS to end.
  CallRig rig({{"SB_SIGNALING_SWEEP_LEASE_MS", "3000"},
               {"SB_SIGNALING_LAPSE_SWEEP_MS", "500"},
               {"SB_SIGNALING_ADMIN_CACHE_MS", "600000"}});
  auto& p = rig.platform;
  const std::string ended_subject = "sb.evt.call.ended." + rig.tenant.id();
  {
    auto bus = sb::testing::ConnectNats(p.nats_url(), "sipp-calls-itest");
    sb::testing::EventInbox answered(*bus, "sb.evt.call.answered." + rig.tenant.id());
    rig.RegisterCallee(p.sip_port());
    auto callee = rig.StartCallee("callee_answers.xml");
    auto caller = rig.StartCaller("caller_hangs_up.xml", p.sip_port());
    auto answer = answered.Wait<switchboard::call::v1::CallAnswered>(
        [](const switchboard::call::v1::CallAnswered&, const sb::bus::Message&) { return true; },
        10s);
    REQUIRE(answer.has_value());
    // The caller hangs up 2 s after its ACK: JetStream is away by then. The node dies within
    // milliseconds of the call's removal, long before its outbox would park an unacked event on
    // its own (250 ms): the event must have been parked in the removal's own step.
    const std::string stored = "call:" + answer->call().call_id();
    REQUIRE(KeyBecomes(p, stored, true, 5s));
    p.nats().Stop();
    const bool removed = KeyBecomes(p, stored, false, 10s);
    p.KillSignaling(p.sip_port());
    INFO(p.SignalingLog());
    REQUIRE(removed);
    CheckBothSucceeded(caller, callee);
  }
  REQUIRE(Parked(p, ended_subject, 0s));
  p.nats().Restart();
  p.AddSignalingReplica();

  auto bus = sb::testing::ConnectNats(p.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox ended(*bus, ended_subject,
                                sb::testing::EventInbox::FromStream{"SB_EVENTS"});
  auto stored = ended.AtLeast<switchboard::call::v1::CallEnded>(1, 20s);
  INFO(p.SignalingLog());
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].cause() == switchboard::call::v1::END_CAUSE_NORMAL_CLEARING);
  CHECK(stored[0].answered_ms() >= 1'500);
  CHECK(stored[0].billable_seconds() >= 2);
  // Built by the node that died, sent by the survivor's sweep: once.
  std::this_thread::sleep_for(2s);
  CHECK(ended.All<switchboard::call::v1::CallEnded>().size() == 1);
  CHECK_FALSE(Parked(p, ended_subject, 0s));
}

namespace {

// The port of the replica the balancer `lb` sent the call's INVITE to: the Call-ID's hash chose
// it, and both of the caller's INVITEs went there.
int ChosenReplica(const sb::testing::Kamailio& lb) {
  const int node = DestinationPort(lb.ReadLog(), "sb-lb route INVITE");
  INFO(lb.ReadLog());
  REQUIRE(node > 0);
  return node;
}

// A call rig with a second replica that adopts the first one's calls: replicas are dead after
// 1.5 s without a heartbeat (unless a test says otherwise), so the survivor takes over within
// seconds.
struct AdoptionRig {
  // A replica silent for `node_dead_ms` is found dead.
  explicit AdoptionRig(const std::string& node_dead_ms = "1500")
      : rig(std::vector<std::pair<std::string, std::string>>{
            {"SB_SIGNALING_NODE_DEAD_MS", node_dead_ms},
            {"SB_SIGNALING_ADOPTED_PROBE_MS", "1000"}}) {}
  CallRig rig;
  std::unique_ptr<sb::bus::NatsBus> bus =
      sb::testing::ConnectNats(rig.platform.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox ended{*bus, "sb.evt.call.ended." + rig.tenant.id()};
  const int survivor = rig.platform.AddSignalingReplica();

  // Waits for the call's event of `type` (ringing, answered).
  template <typename Event>
  void Saw(const std::string& type) {
    // From the stream: the event may be stored before this listens.
    sb::testing::EventInbox seen(*bus, "sb.evt.call." + type + "." + rig.tenant.id(),
                                 sb::testing::EventInbox::FromStream{"SB_EVENTS"});
    REQUIRE(seen.Wait<Event>([](const Event&, const sb::bus::Message&) { return true; }, 10s));
  }
  // `delay` after the call's event of `type`, the call's node (the first one) dies.
  template <typename Event>
  void KillAfter(const std::string& type, std::chrono::milliseconds delay = 0ms) {
    Saw<Event>(type);
    std::this_thread::sleep_for(delay);
    rig.platform.KillSignaling(rig.platform.sip_port());
  }
  // The same behind the balancer `lb`: the replica it sent the call's INVITE to dies.
  template <typename Event>
  void KillChosenAfter(const sb::testing::Kamailio& lb, const std::string& type,
                       std::chrono::milliseconds delay = 0ms) {
    Saw<Event>(type);
    const int node = ChosenReplica(lb);
    std::this_thread::sleep_for(delay);
    rig.platform.KillSignaling(node);
  }
  // The call's one ended event, node_failure, sent by the survivor (and no second one after).
  switchboard::call::v1::CallEnded EndedOnce() {
    auto ends = ended.AtLeast<switchboard::call::v1::CallEnded>(1, 10s);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0].cause() == switchboard::call::v1::END_CAUSE_NODE_FAILURE);
    std::this_thread::sleep_for(1500ms);
    CHECK(ended.All<switchboard::call::v1::CallEnded>().size() == 1);
    return ends[0];
  }
};

}  // namespace

TEST_CASE(
    "a call whose node dies and whose caller lost it is taken over by another replica - the "
    "callee still there gets a BYE - one ended event, node_failure",
    "[integration]") {
  AdoptionRig a;
  a.rig.RegisterCallee(a.rig.platform.sip_port());
  auto callee = a.rig.StartCallee("callee_answers_probe_until_bye.xml");
  auto caller = a.rig.StartCaller("caller_loses_call.xml", a.rig.platform.sip_port());
  // Neither phone sends anything after this: only the survivor's probes can end the call.
  a.KillAfter<switchboard::call::v1::CallAnswered>("answered");
  CheckBothSucceeded(caller, callee);
  INFO(a.rig.platform.SignalingLog());
  a.EndedOnce();
}

TEST_CASE(
    "a call still ringing when its node dies is ended by another replica - the callee's INVITE "
    "is cancelled, the caller's answered 500 and ACKed - one ended event, node_failure 500",
    "[integration]") {
  AdoptionRig a;
  auto& p = a.rig.platform;
  // Both phones behind paths the balancer turns to the survivor: each sipp sends its answers
  // to the address its call came from.
  UdpRelay caller_path(p.sip_port(), {}), callee_path(p.sip_port(), {});
  a.rig.RegisterCallee(callee_path.port());
  auto callee = a.rig.StartCallee("callee_rings_until_node_dies.xml");
  auto caller = a.rig.StartCaller("caller_loses_ringing_call.xml", caller_path.port());
  // Past the 250 ms (SB_SIGNALING_STORE_RINGING_MS) after which the ringing call is stored.
  a.KillAfter<switchboard::call::v1::CallRinging>("ringing", 700ms);
  for (UdpRelay* path : {&caller_path, &callee_path}) {
    path->Retarget(static_cast<uint16_t>(a.survivor));
  }
  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  const auto ended = a.EndedOnce();
  CHECK(ended.final_sip_code() == 500);
  CHECK(ended.billable_seconds() == 0);
}

// Kubernetes stops a pod with SIGTERM; its drain (SB_SIGNALING_DRAIN_SECONDS, 1 s here) runs out
// with the call still up. The node leaves its calls to the others as it exits: they are adopted
// at the survivor's next pass, where its 60 s would otherwise pass first (and the caller's
// scenario would time out waiting for the probe).
TEST_CASE(
    "a node stopped with an answered call still up past its drain hands the call over as it "
    "exits - the survivor probes it within seconds - the caller that lost it ends it, "
    "node_failure",
    "[integration]") {
  AdoptionRig a("60000");
  a.rig.RegisterCallee(a.rig.platform.sip_port());
  auto callee = a.rig.StartCallee("callee_answers_probe_until_bye.xml");
  auto caller = a.rig.StartCaller("caller_loses_call.xml", a.rig.platform.sip_port());
  a.Saw<switchboard::call::v1::CallAnswered>("answered");
  const auto stopped = std::chrono::steady_clock::now();
  a.rig.platform.TerminateSignaling(a.rig.platform.sip_port());
  CheckBothSucceeded(caller, callee);
  INFO(a.rig.platform.SignalingLog());
  a.EndedOnce();
  CHECK(std::chrono::steady_clock::now() - stopped < 20s);
}

// The phones' dialogs are record-routed through the balancer: the survivor's probe of the caller
// and its BYE to the callee go there, as the dead node's own requests did.
TEST_CASE(
    "through the Kamailio balancer, a call whose node dies and whose caller lost it is taken over "
    "by the other replica - its probe and BYE go through the balancer - one ended event, "
    "node_failure",
    "[integration]") {
  AdoptionRig a;
  auto& p = a.rig.platform;
  auto balancer = StartBalancer({p.sip_port(), a.survivor});
  a.rig.RegisterCallee(balancer.port());
  auto callee = a.rig.StartCallee("callee_answers_probe_until_bye.xml");
  auto caller = a.rig.StartCaller("caller_loses_call.xml", balancer.port());
  a.KillChosenAfter<switchboard::call::v1::CallAnswered>(balancer, "answered");
  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  a.EndedOnce();
  const std::string log = balancer.ReadLog();
  INFO(log);
  CHECK(log.find("sb-lb from-replica BYE") != std::string::npos);
}

// Behind the balancer the dead node's Via heads the caller's INVITE and the callee's: the balancer
// matches the survivor's 500 and CANCEL to the transactions it relayed for the dead node. Its
// configuration retries another replica only after a timeout or a 503, so the 500 reaches the
// caller and the call is placed nowhere else.
TEST_CASE(
    "through the Kamailio balancer, a call still ringing when its node dies is ended by the "
    "other replica - the balancer relays its CANCEL to the callee and its 500 to the caller, and "
    "places the call nowhere else - one ended event, node_failure 500",
    "[integration]") {
  AdoptionRig a;
  auto& p = a.rig.platform;
  auto balancer = StartBalancer({p.sip_port(), a.survivor});
  a.rig.RegisterCallee(balancer.port());
  auto callee = a.rig.StartCallee("callee_rings_until_node_dies.xml");
  auto caller = a.rig.StartCaller("caller_loses_ringing_call.xml", balancer.port());
  // Past the 250 ms (SB_SIGNALING_STORE_RINGING_MS) after which the ringing call is stored.
  a.KillChosenAfter<switchboard::call::v1::CallRinging>(balancer, "ringing", 700ms);
  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  const auto ended = a.EndedOnce();
  CHECK(ended.final_sip_code() == 500);
  const std::string log = balancer.ReadLog();
  INFO(log);
  CHECK(log.find("sb-lb failover INVITE") == std::string::npos);
}

namespace {

// Waits (bounded, 15 s) until the balancer logs that it took the replica on `port` out of its set
// ("down") or put it back ("up"), and returns where in its log that line is (npos: never).
size_t BalancerSaw(const sb::testing::Kamailio& lb, const std::string& state, int port) {
  const std::string line = "sb-lb replica " + state + " sip:127.0.0.1:" + std::to_string(port);
  for (int i = 0; i < 150; ++i) {
    if (size_t at = lb.ReadLog().find(line); at != std::string::npos) return at;
    std::this_thread::sleep_for(100ms);
  }
  return std::string::npos;
}

}  // namespace

// A replica back on its address after a crash gets the Call-IDs that hash to it again (as the
// kamailio_lb e2e test shows), but a call another replica took while it was away is that one's:
// the balancer's Record-Route entry names the replica holding the caller's dialog, so the
// caller's BYE goes there. By Call-ID hash, each BYE would have had even odds of reaching the
// restarted node, which would have ended that call from the store (node_failure) while the
// other still carried it.
TEST_CASE(
    "through the Kamailio balancer, calls placed while a replica was down stay with the replica "
    "that took them once it is back - their callers' BYEs reach that one - normal clearing",
    "[integration]") {
  CallRig rig;
  auto& p = rig.platform;
  auto bus = sb::testing::ConnectNats(p.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox answered(*bus, "sb.evt.call.answered." + rig.tenant.id());
  sb::testing::EventInbox ended(*bus, "sb.evt.call.ended." + rig.tenant.id());
  const int survivor = p.AddSignalingReplica();
  auto balancer = StartBalancer({p.sip_port(), survivor});
  p.KillSignaling(p.sip_port());
  REQUIRE(BalancerSaw(balancer, "down", p.sip_port()) != std::string::npos);

  constexpr int kCalls = 6;
  const std::string calls = std::to_string(kCalls);
  rig.RegisterCallee(balancer.port());
  auto callee = rig.StartCallee("callee_talks_until_bye.xml", {"-m", calls});
  // Each caller talks 8 s: long enough for the node to come back in between.
  auto caller =
      rig.StartCaller("caller_hangs_up.xml", balancer.port(), "1003", {"-m", calls, "-d", "8000"});
  REQUIRE(answered.AtLeast<switchboard::call::v1::CallAnswered>(kCalls, 15s).size() == kCalls);
  p.RestartSignaling();
  const size_t back = BalancerSaw(balancer, "up", p.sip_port());
  REQUIRE(back != std::string::npos);

  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  auto ends = ended.AtLeast<switchboard::call::v1::CallEnded>(kCalls, 10s);
  REQUIRE(ends.size() == kCalls);
  for (const auto& end : ends)
    CHECK(end.cause() == switchboard::call::v1::END_CAUSE_NORMAL_CLEARING);
  const std::string log = balancer.ReadLog();
  INFO(log);
  std::istringstream lines(log);
  int byes = 0;
  size_t at = 0;
  for (std::string line; std::getline(lines, line); at += line.size() + 1) {
    if (line.find("sb-lb route BYE") == std::string::npos) continue;
    ++byes;
    CHECK(at > back);
    CHECK(line.ends_with(" dst=sip:127.0.0.1:" + std::to_string(survivor)));
  }
  CHECK(byes == kCalls);
}

namespace {

// The body of the 200 among `datagrams` that answers the INVITE with CSeq `cseq`.
std::string InviteAnswer(const std::vector<std::string>& datagrams, int cseq) {
  const std::string wanted = "\r\nCSeq: " + std::to_string(cseq) + " INVITE\r\n";
  for (const auto& d : datagrams) {
    if (!d.starts_with("SIP/2.0 200 ") || d.find(wanted) == std::string::npos) continue;
    const size_t body = d.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : d.substr(body + 4);
  }
  return {};
}

}  // namespace

namespace {

// A call rig with a second replica, watching the call's answered and ended events. Adoption is
// off within a test, so only the phones' own requests reach the survivor.
struct FailoverRig {
  CallRig rig{
      std::vector<std::pair<std::string, std::string>>{{"SB_SIGNALING_NODE_DEAD_MS", "600000"}}};
  std::unique_ptr<sb::bus::NatsBus> bus =
      sb::testing::ConnectNats(rig.platform.nats_url(), "sipp-calls-itest");
  sb::testing::EventInbox answered{*bus, "sb.evt.call.answered." + rig.tenant.id()};
  sb::testing::EventInbox ended{*bus, "sb.evt.call.ended." + rig.tenant.id()};
  const int survivor = rig.platform.AddSignalingReplica();

  // Once the call is answered, its node dies, and `paths` turn to the survivor (as the balancer
  // would).
  void FailOver(std::initializer_list<UdpRelay*> paths) {
    WaitAnswered();
    rig.platform.KillSignaling(rig.platform.sip_port());
    for (UdpRelay* path : paths) path->Retarget(static_cast<uint16_t>(survivor));
  }
  // Behind `lb`: once the call is answered, the replica the balancer chose for it dies. Returns
  // the other one's port.
  int KillChosen(const sb::testing::Kamailio& lb) {
    WaitAnswered();
    const int node = ChosenReplica(lb);
    rig.platform.KillSignaling(node);
    return node == rig.platform.sip_port() ? survivor : rig.platform.sip_port();
  }
  void WaitAnswered() {
    REQUIRE(answered.Wait<switchboard::call::v1::CallAnswered>(
        [](const switchboard::call::v1::CallAnswered&, const sb::bus::Message&) { return true; },
        10s));
  }
  // A transferred call: answered by the callee, then by the target; ended once, by the survivor.
  void AnsweredTwiceEndedOnce() {
    CHECK(answered.AtLeast<switchboard::call::v1::CallAnswered>(2, 5s).size() == 2);
    EndedByNodeFailure();
  }
  // The call's one ended event, ended by the survivor.
  switchboard::call::v1::CallEnded EndedByNodeFailure() {
    auto ends = ended.AtLeast<switchboard::call::v1::CallEnded>(1, 10s);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0].cause() == switchboard::call::v1::END_CAUSE_NODE_FAILURE);
    return ends[0];
  }
};

}  // namespace

TEST_CASE(
    "a call whose node dies is held and taken off hold at another replica - the callee is "
    "re-offered sendonly, then sendrecv - the caller's refresh of the hold is answered from the "
    "store - its BYE there ends the call on both sides",
    "[integration]") {
  FailoverRig f;
  auto& p = f.rig.platform;
  // The callee needs a path too: sipp answers a request at the address its call began from.
  UdpRelay caller_path(p.sip_port(), {}), callee_path(p.sip_port(), {});
  f.rig.RegisterCallee(callee_path.port());
  auto callee = f.rig.StartCallee("callee_held.xml");
  // The caller holds 3 s after its ACK.
  auto caller = f.rig.StartCaller("caller_holds.xml", caller_path.port(), "1003", {"-d", "3000"});
  f.FailOver({&caller_path, &callee_path});
  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  f.EndedByNodeFailure();
}

// Behind the balancer, the requests of a dead node's dialogs go to it first (the balancer's Route
// entry names it): the caller's re-INVITE waits there for SB_LB_FR_TIMER_MS and fails over. Once
// a request has timed out there and its probes find it silent too, the balancer knows it is
// gone, and the caller's INFO and BYE go straight to the other replica.
TEST_CASE(
    "through the Kamailio balancer, a dead node's dialogs wait for it once - after its first "
    "timeout, its call's INFO and BYE go straight to the other replica",
    "[integration]") {
  FailoverRig f;
  auto& p = f.rig.platform;
  auto balancer = StartBalancer({p.sip_port(), f.survivor});
  f.rig.RegisterCallee(balancer.port());
  auto callee = f.rig.StartCallee("callee_takes_info_until_bye.xml");
  // The caller waits 3 s after its ACK before it refreshes.
  auto caller = f.rig.StartCaller("caller_refreshes_after_failover.xml", balancer.port());
  const int other = f.KillChosen(balancer);
  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  f.EndedByNodeFailure();
  const std::string log = balancer.ReadLog();
  INFO(log);
  const std::string to_other = "sip:127.0.0.1:" + std::to_string(other);
  CHECK(DestinationOf(log, "sb-lb failover INVITE") == to_other);
  CHECK(DestinationOf(log, "sb-lb route INFO") == to_other);
  CHECK(DestinationOf(log, "sb-lb route BYE") == to_other);
  CHECK(log.find("sb-lb failover INFO") == std::string::npos);
  CHECK(log.find("sb-lb failover BYE") == std::string::npos);
}

TEST_CASE(
    "a call whose node dies goes on at another replica - the caller's refreshing re-INVITE gets "
    "the description its 200 had - its DTMF INFO reaches the callee - its BYE there ends the call "
    "on both sides",
    "[integration]") {
  FailoverRig f;
  auto& p = f.rig.platform;
  UdpRelay path(p.sip_port(), {});
  f.rig.RegisterCallee(p.sip_port());
  auto callee = f.rig.StartCallee("callee_takes_info_until_bye.xml");
  // The caller waits 3 s after its ACK before it refreshes.
  auto caller = f.rig.StartCaller("caller_refreshes_after_failover.xml", path.port());
  f.FailOver({&path});
  CheckBothSucceeded(caller, callee);
  INFO(p.SignalingLog());
  const auto to_caller = path.ToPhone();
  const std::string first = InviteAnswer(to_caller, 2), refreshed = InviteAnswer(to_caller, 3);
  CHECK(first.find("m=audio ") != std::string::npos);
  CHECK(refreshed == first);
  CHECK(f.EndedByNodeFailure().billable_seconds() >= 3);
}

// A transfer needs the whole call at once (the target rung, a party's dialog and media leg
// swapped, the transferor told): the replica the REFER reaches after the call's node died takes
// the call up from its record, transfers it, and leaves it in the store again, where the callee's
// BYE ends it.
TEST_CASE(
    "a call whose node dies is transferred by its caller's REFER at another replica - NOTIFY 100 "
    "180 200 and a BYE reach the caller - the callee's audio reaches 1003 and comes back - the "
    "callee's BYE there ends the call with 1003",
    "[integration]") {
  FailoverRig f;
  auto& p = f.rig.platform;
  LegStats stats(p.nats_url());
  auto target = StartTarget(f.rig, p.sip_port());
  UdpRelay caller_path(p.sip_port(), {}), callee_path(p.sip_port(), {});
  f.rig.RegisterCallee(callee_path.port());
  auto callee = f.rig.StartCallee("callee_stays_through_transfer.xml");
  // The REFER 1.5 s after the ACK: the node is dead by then.
  auto caller =
      f.rig.StartCaller("caller_transfers.xml", caller_path.port(), "1003", {"-d", "1500"});
  f.FailOver({&caller_path, &callee_path});
  CheckTransferred(caller, callee, target);
  INFO(p.SignalingLog());
  f.AnsweredTwiceEndedOnce();
  CheckTargetLegCarriedAudio(stats);
}

// The same behind the balancer: the caller's REFER goes to the dead node its Route names, waits
// there SB_LB_FR_TIMER_MS (2 s) and fails over to the other replica, which transfers the call;
// the callee's BYE then goes straight to that one (the balancer knows the node is gone).
TEST_CASE(
    "through the Kamailio balancer, a call whose node dies is transferred by its caller's REFER - "
    "the balancer fails the REFER over to the other replica - the callee's BYE there ends the call "
    "with 1003",
    "[integration]") {
  FailoverRig f;
  auto& p = f.rig.platform;
  // One UDP worker: with two, the survivor's 202 and its first NOTIFY, sent in that order, were
  // relayed by different workers and the NOTIFY came first twice in CI (RFC 6665 allows it), which
  // sipp cannot take (a response arriving while it is about to answer a request aborts the call).
  auto balancer = StartBalancer({p.sip_port(), f.survivor}, 1);
  auto target = StartTarget(f.rig, balancer.port());
  f.rig.RegisterCallee(balancer.port());
  auto callee = f.rig.StartCallee("callee_stays_through_transfer.xml");
  auto caller = f.rig.StartCaller("caller_transfers.xml", balancer.port(), "1003", {"-d", "1000"});
  const int other = f.KillChosen(balancer);
  CheckTransferred(caller, callee, target);
  INFO(p.SignalingLog());
  f.AnsweredTwiceEndedOnce();
  const std::string log = balancer.ReadLog();
  INFO(log);
  const std::string to_other = "sip:127.0.0.1:" + std::to_string(other);
  CHECK(DestinationOf(log, "sb-lb failover REFER") == to_other);
  CHECK(DestinationOf(log, "sb-lb route BYE") == to_other);
}
