// The originate and bridge commands over the node's real NATS command subjects
// (sb.cmd.signaling.originate, sb.cmd.signaling.<node>.{bridge,play,hangup}) against the real
// binaries (tests/sipp_call_rig.h): sipp plays the extensions that are called and a carrier
// behind a trunk; what happened is read back from the call events on sb.evt.call.<type>.<tenant>
// (what CDRs and billing consume) and from the media node's final leg statistics.
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "rpc/call_operations.h"
#include "sipp_call_rig.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/call/v1/commands.pb.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/nats_connect.h"

namespace {

using namespace std::chrono_literals;
using namespace sb::signaling::test;
namespace call = switchboard::call::v1;
namespace ops = sb::signaling::call_ops;
using switchboard::common::v1::ErrorCode;

const std::string kNobody = "7d0c8f0e-4a57-4f3e-9a51-2b1f0c9e6d11";  // no tenant, no call

// The command side of a test: requests on the node's subjects, the tenant's call events.
class Commands {
 public:
  explicit Commands(CallRig& rig)
      : rig_(rig),
        bus_(sb::testing::ConnectNats(rig.platform.nats_url(), "originate-itest")),
        events_(*bus_, "sb.evt.call.>") {
    REQUIRE(bus_->Flush(2s).ok());
  }

  // Placed as 1001 of the rig's tenant, to `to_uri`.
  call::OriginateRequest As1001(const std::string& to_uri) const {
    call::OriginateRequest r;
    r.set_tenant_id(rig_.tenant.id());
    r.set_extension("1001");
    r.set_to_uri(to_uri);
    return r;
  }
  // Placed by any node, or by node `node`.
  call::OriginateReply Originate(const call::OriginateRequest& request,
                                 const std::string& node = {}) {
    auto subject = node.empty()
                       ? sb::bus::subjects::Command(ops::kService, ops::kOriginate)
                       : sb::bus::subjects::NodeCommand(ops::kService, node, ops::kOriginate);
    REQUIRE(subject.ok());
    auto reply = sb::bus::RequestProto<call::OriginateReply>(*bus_, *subject, request, 10s);
    REQUIRE(reply.ok());
    return *reply;
  }
  // A call placed: its id (the reply carried no error).
  std::string Placed(const call::OriginateRequest& request, const std::string& node = {}) {
    auto reply = Originate(request, node);
    INFO(reply.error().message());
    REQUIRE(reply.error().code() == switchboard::common::v1::ERROR_CODE_OK);
    REQUIRE_FALSE(reply.call_id().empty());
    return reply.call_id();
  }

  // A command for the calls of the node that carries `call_id` (named in its created event).
  template <typename Reply, typename Request>
  Reply OnNode(const std::string& call_id, std::string_view operation, const Request& request) {
    auto created = Await<call::CallCreated>("created", call_id);
    REQUIRE(created);
    auto subject = sb::bus::subjects::NodeCommand(ops::kService,
                                                  created->call().signaling_node_id(), operation);
    REQUIRE(subject.ok());
    auto reply = sb::bus::RequestProto<Reply>(*bus_, *subject, request, 10s);
    REQUIRE(reply.ok());
    return *reply;
  }
  // A command sent to any node (sb.cmd.signaling.<operation>).
  template <typename Reply, typename Request>
  Reply OnAnyNode(std::string_view operation, const Request& request) {
    auto subject = sb::bus::subjects::Command(ops::kService, operation);
    REQUIRE(subject.ok());
    auto reply = sb::bus::RequestProto<Reply>(*bus_, *subject, request, 10s);
    REQUIRE(reply.ok());
    return *reply;
  }
  // Once the called party's sipp has played its scenario through: the call's ended event.
  std::optional<call::CallEnded> EndedAfter(Sipp& party, const std::string& call_id) {
    const int rc = party.Wait();
    INFO(party.Report());
    CHECK(rc == 0);
    return Await<call::CallEnded>("ended", call_id);
  }
  call::CallRef Ref(const std::string& call_id) const {
    call::CallRef ref;
    ref.set_tenant_id(rig_.tenant.id());
    ref.set_call_id(call_id);
    return ref;
  }

  // The call's event of `type` (sb.evt.call.<type>.<tenant>), waiting at most `timeout`; any
  // call's when `call_id` is empty.
  template <typename Event>
  std::optional<Event> Await(const std::string& type, const std::string& call_id,
                             std::chrono::milliseconds timeout = 15s) {
    const std::string subject = "sb.evt.call." + type + "." + rig_.tenant.id();
    return events_.Wait<Event>(
        [&](const Event& e, const sb::bus::Message& m) {
          return m.subject == subject && (call_id.empty() || e.call().call_id() == call_id);
        },
        timeout);
  }

 private:
  CallRig& rig_;
  std::unique_ptr<sb::bus::NatsBus> bus_;
  sb::testing::EventInbox events_;
};

// The final statistics of media leg `leg_id` among `finals`.
std::optional<switchboard::media::v1::LegStatisticsEvent> LegOf(
    const std::vector<switchboard::media::v1::LegStatisticsEvent>& finals,
    const std::string& leg_id) {
  for (const auto& leg : finals) {
    if (leg.leg().leg_id() == leg_id) return leg;
  }
  return std::nullopt;
}

// The two originated calls a bridge test joins: 1002 talks (a PCMA recording) until the BYE,
// 1003 runs `echo_scenario` with -rtp_echo (what it hears goes back where it came from).
struct TalkerAndEcho {
  // Where 1002 and 1003 register: at the node, or through a Kamailio balancer in front of it
  // (which the node then trusts), so that every request to them follows their Path.
  enum class Phones { kAtTheNode, kBehindTheBalancer };

  CallRig rig;
  std::optional<sb::testing::Kamailio> balancer;
  Commands commands{rig};
  LegStats stats{rig.platform.nats_url()};
  const int target_port = sb::testing::FreePort();  // 1003's sipp (before the sipps start)
  Sipp talker;
  Sipp echo;

  explicit TalkerAndEcho(const std::string& echo_scenario, Phones phones = Phones::kAtTheNode)
      : rig(NodeSettings(phones)),
        balancer(phones == Phones::kAtTheNode
                     ? std::nullopt
                     : std::optional(StartBalancer({rig.platform.sip_port()}))),
        talker(Registered(rig).StartCallee("callee_talks_until_bye.xml")),
        echo(Sipp::Start("echo",
                         Concat({"-sf", Sipp::Scenario(echo_scenario), "-m", "1", "-rtp_echo"},
                                At(kTargetIp, target_port)))) {}

  // 1001 calls `extension` (1002 or 1003): its answered event.
  call::CallAnswered Answered(const std::string& extension) {
    const std::string id = commands.Placed(commands.As1001("sip:" + extension + "@" + rig.domain));
    auto answered = commands.Await<call::CallAnswered>("answered", id);
    REQUIRE(answered);
    return *answered;
  }
  // The bridge command on x's node: y ends bridged, 200.
  void Bridge(const std::string& x, const std::string& y) {
    call::BridgeRequest bridge;
    *bridge.mutable_call() = commands.Ref(x);
    *bridge.mutable_other_call() = commands.Ref(y);
    auto bridged = commands.OnNode<call::CommandReply>(x, ops::kBridge, bridge);
    INFO(bridged.error().message());
    REQUIRE(bridged.error().code() == switchboard::common::v1::ERROR_CODE_OK);
    auto merged = commands.Await<call::CallEnded>("ended", y);
    REQUIRE(merged);
    CHECK(merged->cause() == call::END_CAUSE_BRIDGED);
    CHECK(merged->final_sip_code() == 200);
  }
  // 2 s of 1002's audio to 1003 and back, then a hangup command for x BYEs both: ended
  // hangup_command.
  void TalkThenHangUp(const std::string& x) {
    std::this_thread::sleep_for(2s);
    call::HangupRequest hangup;
    *hangup.mutable_call() = commands.Ref(x);
    CHECK(commands.OnNode<call::CommandReply>(x, ops::kHangup, hangup).error().code() ==
          switchboard::common::v1::ERROR_CODE_OK);
    CheckBothSucceeded(talker, echo);
    auto ended = commands.Await<call::CallEnded>("ended", x);
    REQUIRE(ended);
    CHECK(ended->cause() == call::END_CAUSE_HANGUP_COMMAND);
  }
  // Once both ended: 1002's leg (x-b) sent 1003's echo of what it received; 1003's leg (y-b)
  // carried 1002's audio to 1003 and received its echo.
  void CheckAudioBothWays(const std::string& x, const std::string& y) {
    const auto finals = stats.Finals(2);
    auto talker_leg = LegOf(finals, x + "-b");
    auto echo_leg = LegOf(finals, y + "-b");
    REQUIRE(talker_leg);
    REQUIRE(echo_leg);
    CHECK(talker_leg->packets_received() > 0);
    CHECK(talker_leg->packets_sent() > 0);
    CHECK(echo_leg->packets_sent() > 0);
    CHECK(echo_leg->packets_received() > 0);
  }

 private:
  // Behind the balancer the node trusts it (the phones' addresses are its Via stamps).
  static std::vector<std::pair<std::string, std::string>> NodeSettings(Phones phones) {
    if (phones == Phones::kAtTheNode) return {};
    return {{"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1"}};
  }
  // 1003 (and 1002) registered at their sipps' addresses, before those start.
  CallRig& Registered(CallRig& r) {
    const int registrar = balancer ? balancer->port() : r.platform.sip_port();
    r.platform.CreateExtension(r.tenant, "1003", "pass-1003-secret");
    r.Register("1003", kTargetIp, target_port, registrar);
    r.RegisterCallee(registrar);
    return r;
  }
};

}  // namespace

TEST_CASE(
    "originate to a registered extension that answers - created ringing answered - a played "
    "tone reaches it and its audio reaches the node - its BYE ends the call normally",
    "[integration]") {
  CallRig rig;
  Commands commands(rig);
  LegStats stats(rig.platform.nats_url());
  rig.RegisterCallee(rig.platform.sip_port());
  auto callee = rig.StartCallee("callee_talks_and_hangs_up.xml");

  const std::string id = commands.Placed(commands.As1001("sip:1002@" + rig.domain));
  auto created = commands.Await<call::CallCreated>("created", id);
  REQUIRE(created);
  CHECK(created->call().to_uri() == "sip:1002@" + rig.domain);
  CHECK(created->call().from_uri() == "sip:1001@" + rig.domain);
  auto ringing = commands.Await<call::CallRinging>("ringing", id);
  REQUIRE(ringing);
  CHECK(ringing->sip_code() == 180);
  REQUIRE(commands.Await<call::CallAnswered>("answered", id));

  call::PlayRequest play;
  *play.mutable_call() = commands.Ref(id);
  play.set_tone("ringback");
  auto played = commands.OnNode<call::PlayReply>(id, ops::kPlay, play);
  INFO(played.error().message());
  CHECK(played.error().code() == switchboard::common::v1::ERROR_CODE_OK);

  auto ended = commands.EndedAfter(callee, id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_NORMAL_CLEARING);
  CHECK(ended->final_sip_code() == 200);
  CHECK(ended->billable_seconds() >= 1);

  // The one leg: the callee's audio reached the node, the tone reached the callee.
  auto leg = LegOf(stats.Finals(1), id + "-b");
  REQUIRE(leg);
  CHECK(leg->packets_received() > 0);
  CHECK(leg->packets_sent() > 0);
}

// Behind the balancer the node reaches the extension through the Path it registered with, so
// the packets of its leg come from the balancer; the leg still names the phone.
TEST_CASE(
    "through the Kamailio balancer - originate to an extension registered through it rings it "
    "through the balancer - its leg in the answered and ended events names the phone's own "
    "address, not the balancer's",
    "[integration]") {
  CallRig rig(std::vector<std::pair<std::string, std::string>>{
      {"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1"}});
  Commands commands(rig);
  auto balancer = StartBalancer({rig.platform.sip_port()});
  rig.RegisterCallee(balancer.port());
  auto callee = rig.StartCallee("callee_talks_and_hangs_up.xml");

  const std::string id = commands.Placed(commands.As1001("sip:1002@" + rig.domain));
  auto answered = commands.Await<call::CallAnswered>("answered", id);
  REQUIRE(answered);
  auto ended = commands.EndedAfter(callee, id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_NORMAL_CLEARING);
  const std::string phone = kCalleeIp + ":" + std::to_string(rig.callee_port);
  for (const auto* placed : {&answered->call(), &ended->call()}) {
    REQUIRE(placed->legs_size() == 1);
    CHECK(placed->legs(0).remote_source() == phone);
  }
}

// A StatefulSet restarts a pod under its name: the commands for the calls of the run that died
// reach the new run, which carries none of them and acts on their records.
TEST_CASE(
    "a node restarted under its node id takes the commands for its predecessor's answered call "
    "- a played tone reaches the callee from the stored leg - a hangup BYEs it, ended "
    "hangup_command",
    "[integration]") {
  // No adoption within the test: only the commands reach the call.
  CallRig rig(
      std::vector<std::pair<std::string, std::string>>{{"SB_SIGNALING_NODE_DEAD_MS", "600000"}});
  Commands commands(rig);
  LegStats stats(rig.platform.nats_url());
  rig.RegisterCallee(rig.platform.sip_port());
  auto callee = rig.StartCallee("callee_talks_until_bye.xml");
  const std::string id = commands.Placed(commands.As1001("sip:1002@" + rig.domain));
  REQUIRE(commands.Await<call::CallAnswered>("answered", id));

  rig.platform.RestartSignaling();
  call::PlayRequest play;
  *play.mutable_call() = commands.Ref(id);
  play.set_tone("ringback");
  auto played = commands.OnNode<call::PlayReply>(id, ops::kPlay, play);
  INFO(played.error().message());
  CHECK(played.error().code() == switchboard::common::v1::ERROR_CODE_OK);
  std::this_thread::sleep_for(500ms);  // some of the tone, before the hangup
  call::HangupRequest hangup;
  *hangup.mutable_call() = commands.Ref(id);
  auto hung_up = commands.OnNode<call::CommandReply>(id, ops::kHangup, hangup);
  INFO(hung_up.error().message());
  CHECK(hung_up.error().code() == switchboard::common::v1::ERROR_CODE_OK);

  const int callee_rc = callee.Wait();
  INFO(callee.Report());
  INFO(rig.platform.SignalingLog());
  CHECK(callee_rc == 0);
  auto ended = commands.Await<call::CallEnded>("ended", id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_HANGUP_COMMAND);
  auto leg = LegOf(stats.Finals(1), id + "-b");
  REQUIRE(leg);
  CHECK(leg->packets_sent() > 0);
}

// A Deployment replaces a pod under a new name: nobody takes the commands sent to the dead node's
// subjects any more. Sent to any node, they reach the call: passed on to its node while that
// node lives, acted on from the call's record by the node that took them once it is dead.
TEST_CASE(
    "the commands for a call whose node is gone for good, sent to any node, are served from its "
    "record - before, they reached it on its live node - a hangup BYEs the callee, ended "
    "hangup_command",
    "[integration]") {
  // Dead after 1.5 s without a heartbeat; one adoption probe (the callee answers it).
  CallRig rig(std::vector<std::pair<std::string, std::string>>{
      {"SB_SIGNALING_NODE_DEAD_MS", "1500"}, {"SB_SIGNALING_ADOPTED_PROBE_MS", "60000"}});
  Commands commands(rig);
  auto& p = rig.platform;
  const int doomed = p.AddSignalingReplica();
  rig.RegisterCallee(p.sip_port());
  auto callee = rig.StartCallee("callee_answers_probe_until_bye.xml");
  const std::string id =
      commands.Placed(commands.As1001("sip:1002@" + rig.domain), p.NodeId(doomed));
  REQUIRE(commands.Await<call::CallAnswered>("answered", id));

  call::PlayRequest play;
  *play.mutable_call() = commands.Ref(id);
  play.set_tone("ringback");
  for (int i = 0; i < 4; ++i) {  // whichever node takes it
    auto played = commands.OnAnyNode<call::PlayReply>(ops::kPlay, play);
    INFO(played.error().message());
    CHECK(played.error().code() == switchboard::common::v1::ERROR_CODE_OK);
  }

  p.KillSignaling(doomed);
  // Once the survivor finds the node dead (and adopts the call, probing the callee), the
  // commands are its own to serve.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (p.Metric("sb_signaling_calls_adopted_total") < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(p.Metric("sb_signaling_calls_adopted_total") == 1);
  play.set_tone("busy");
  auto played = commands.OnAnyNode<call::PlayReply>(ops::kPlay, play);
  INFO(played.error().message());
  CHECK(played.error().code() == switchboard::common::v1::ERROR_CODE_OK);
  call::HangupRequest hangup;
  *hangup.mutable_call() = commands.Ref(id);
  auto hung_up = commands.OnAnyNode<call::CommandReply>(ops::kHangup, hangup);
  INFO(hung_up.error().message());
  CHECK(hung_up.error().code() == switchboard::common::v1::ERROR_CODE_OK);

  const int callee_rc = callee.Wait();
  INFO(callee.Report());
  INFO(p.SignalingLog());
  CHECK(callee_rc == 0);
  auto ended = commands.Await<call::CallEnded>("ended", id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_HANGUP_COMMAND);
  // Gone: the call's commands are NOT_FOUND wherever they land.
  CHECK(commands.OnAnyNode<call::CommandReply>(ops::kHangup, hangup).error().code() ==
        switchboard::common::v1::ERROR_CODE_NOT_FOUND);
}

TEST_CASE(
    "originate to a busy extension ends busy 486 - to one that does not answer ends no_answer "
    "480 after timeout_seconds with the extension cancelled",
    "[integration]") {
  CallRig rig;
  Commands commands(rig);
  rig.RegisterCallee(rig.platform.sip_port());
  {
    auto callee = rig.StartCallee("callee_busy.xml");
    const std::string id = commands.Placed(commands.As1001("sip:1002@" + rig.domain));
    auto ended = commands.Await<call::CallEnded>("ended", id);
    REQUIRE(ended);
    CHECK(ended->cause() == call::END_CAUSE_BUSY);
    CHECK(ended->final_sip_code() == 486);
    CHECK(ended->billable_seconds() == 0);
    const int rc = callee.Wait();
    INFO(callee.Report());
    CHECK(rc == 0);
  }
  auto callee = rig.StartCallee("callee_rings_until_cancelled.xml");
  auto request = commands.As1001("sip:1002@" + rig.domain);
  request.set_timeout_seconds(2);
  const auto start = std::chrono::steady_clock::now();
  const std::string id = commands.Placed(request);
  auto ended = commands.Await<call::CallEnded>("ended", id);
  REQUIRE(ended);
  CHECK(std::chrono::steady_clock::now() - start >= 2s);
  CHECK(ended->cause() == call::END_CAUSE_NO_ANSWER);
  CHECK(ended->final_sip_code() == 480);
  const int rc = callee.Wait();
  INFO(callee.Report());
  CHECK(rc == 0);
}

TEST_CASE(
    "originate out through the tenant's trunk - the carrier gets the rewritten number and the "
    "extension's caller id - its challenge is answered - a transfer command connects it to 1002 "
    "- 1002's BYE ends the call and reaches the carrier",
    "[integration]") {
  CallRig rig;
  Commands commands(rig);
  rig.platform.CreateExtension(rig.tenant, "1005", "pass-1005-secret", "+15557770001");
  const int carrier_port = sb::testing::FreePort();
  rig.platform.CreateTrunk(rig.tenant, CarrierTrunk("127.0.0.5", carrier_port, "127.0.0.6"));
  auto carrier = Sipp::Start(
      "carrier",
      Concat({"-sf", Sipp::Scenario("carrier_uas.xml"), "-m", "1"}, At("127.0.0.5", carrier_port)));
  rig.RegisterCallee(rig.platform.sip_port());
  auto agent = rig.StartCallee("callee_hangs_up.xml");

  auto request = commands.As1001("sip:00442071234567@" + rig.domain);
  request.set_extension("1005");
  const std::string id = commands.Placed(request);
  auto answered = commands.Await<call::CallAnswered>("answered", id);
  INFO(rig.platform.SignalingLog());
  REQUIRE(answered);

  // Click to call: the carrier's party, answered, is given to extension 1002.
  call::TransferRequest transfer;
  *transfer.mutable_call() = commands.Ref(id);
  transfer.set_target_uri("sip:1002@" + rig.domain);
  auto transferred = commands.OnNode<call::CommandReply>(id, ops::kTransfer, transfer);
  INFO(transferred.error().message());
  CHECK(transferred.error().code() == switchboard::common::v1::ERROR_CODE_OK);
  CheckBothSucceeded(agent, carrier);
  auto ended = commands.Await<call::CallEnded>("ended", id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_NORMAL_CLEARING);
}

TEST_CASE(
    "originate through a named trunk to a tel: number - the carrier gets the number and the "
    "command's caller id - its challenge is answered - a hangup command BYEs it - the ended "
    "event bills the answered time",
    "[integration]") {
  CallRig rig;
  Commands commands(rig);
  const int carrier_port = sb::testing::FreePort();
  // Two trunks carry E.164 as it is; without the name the older one, to a port where nobody
  // answers, would win.
  auto with_plus_rule = [](switchboard::admin::v1::CreateTrunkRequest trunk, std::string name) {
    trunk.set_name(std::move(name));
    auto* plus = trunk.add_prefix_rules();
    plus->set_match("+");
    return trunk;
  };
  rig.platform.CreateTrunk(
      rig.tenant,
      with_plus_rule(CarrierTrunk("127.0.0.5", sb::testing::FreePort(), "127.0.0.6"), "older"));
  const auto named = rig.platform.CreateTrunk(
      rig.tenant, with_plus_rule(CarrierTrunk("127.0.0.5", carrier_port, "127.0.0.7"), "named"));
  auto carrier = Sipp::Start(
      "carrier",
      Concat({"-sf", Sipp::Scenario("carrier_uas.xml"), "-m", "1"}, At("127.0.0.5", carrier_port)));

  call::OriginateRequest request;
  request.set_tenant_id(rig.tenant.id());
  request.set_trunk_id(named.id());
  request.set_to_uri("tel:+44-20-7123-4567");
  request.set_caller_id("+15557770001");
  const std::string id = commands.Placed(request);
  auto created = commands.Await<call::CallCreated>("created", id);
  REQUIRE(created);
  CHECK(created->call().from_uri() == "sip:+15557770001@" + rig.domain);
  auto answered = commands.Await<call::CallAnswered>("answered", id);
  INFO(rig.platform.SignalingLog());
  REQUIRE(answered);

  std::this_thread::sleep_for(1s);
  call::HangupRequest hangup;
  *hangup.mutable_call() = commands.Ref(id);
  CHECK(commands.OnNode<call::CommandReply>(id, ops::kHangup, hangup).error().code() ==
        switchboard::common::v1::ERROR_CODE_OK);
  const int rc = carrier.Wait();
  INFO(carrier.Report());
  CHECK(rc == 0);
  auto ended = commands.Await<call::CallEnded>("ended", id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_HANGUP_COMMAND);
  CHECK(ended->billable_seconds() >= 1);
}

TEST_CASE(
    "bridge two originated calls - 1002's audio reaches 1003 through the node and its echo "
    "comes back - the merged call ends bridged - a hangup command BYEs both parties",
    "[integration]") {
  TalkerAndEcho t("callee_answers.xml");
  auto& commands = t.commands;
  const std::string x = t.Answered("1002").call().call_id();
  const std::string y = t.Answered("1003").call().call_id();
  t.Bridge(x, y);
  // The merged call is gone: its commands are NOT_FOUND, the other call's go on.
  call::HangupRequest hangup;
  *hangup.mutable_call() = commands.Ref(y);
  CHECK(commands.OnNode<call::CommandReply>(x, ops::kHangup, hangup).error().code() ==
        switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  t.TalkThenHangUp(x);

  t.CheckAudioBothWays(x, y);
}

TEST_CASE(
    "through the Kamailio balancer - bridge two originated calls to phones registered through it "
    "- 1002's audio reaches 1003 through the node and its echo comes back - a hangup command "
    "BYEs both parties through the balancer",
    "[integration]") {
  TalkerAndEcho t("callee_answers.xml", TalkerAndEcho::Phones::kBehindTheBalancer);
  const std::string x = t.Answered("1002").call().call_id();
  const std::string y = t.Answered("1003").call().call_id();
  t.Bridge(x, y);
  t.TalkThenHangUp(x);  // both sipps must get their BYE, 1003's on the leg taken from y

  t.CheckAudioBothWays(x, y);
  // Both BYEs went to the phones through the balancer: it logs each request a replica sends,
  // with the phone's contact as its Request-URI.
  std::string byes;
  std::istringstream log(t.balancer->ReadLog());
  for (std::string line; std::getline(log, line);) {
    if (line.find("from-replica BYE") != std::string::npos) byes += line + "\n";
  }
  INFO(byes);
  const std::string talker = kCalleeIp + ":" + std::to_string(t.rig.callee_port);
  const std::string echo = kTargetIp + ":" + std::to_string(t.target_port);
  CHECK(byes.find(" ruri=sip:" + talker + " ") != std::string::npos);
  CHECK(byes.find(" ruri=sip:" + echo + " ") != std::string::npos);
}

// Each call takes the least-loaded media node when it starts, so the two calls a bridge joins
// (a queue's caller and its agent) are often on two nodes: the second call's party moves to the
// first's node.
TEST_CASE(
    "bridge two originated calls anchored on two media nodes - 1003 is moved to the first call's "
    "node by a re-INVITE - 1002's audio reaches 1003 there and its echo comes back - a hangup "
    "BYEs both",
    "[integration]") {
  TalkerAndEcho t("callee_echoes_through_a_move.xml");
  const auto x_answered = t.Answered("1002");
  // The second node carries nothing: with its load reports heard, the next call goes there
  // (the first node's reports count x's leg within 200 ms).
  t.rig.platform.AddMediaNode();
  std::this_thread::sleep_for(500ms);
  const auto y_answered = t.Answered("1003");
  const std::string x = x_answered.call().call_id(), y = y_answered.call().call_id();
  const std::string x_node = x_answered.call().legs(0).media_node_id();
  REQUIRE(y_answered.call().legs(0).media_node_id() != x_node);
  t.Bridge(x, y);
  t.TalkThenHangUp(x);

  // 1003's first leg (on the second node) went with the move; its new one (y-b1, on x's node)
  // carried 1002's audio to 1003 and its echo back to 1002's leg.
  const auto finals = t.stats.Finals(3);
  auto talker_leg = LegOf(finals, x + "-b");
  auto moved_leg = LegOf(finals, y + "-b1");
  REQUIRE(talker_leg);
  REQUIRE(moved_leg);
  CHECK(moved_leg->leg().node_id() == x_node);
  CHECK(moved_leg->packets_sent() > 0);
  CHECK(moved_leg->packets_received() > 0);
  CHECK(talker_leg->packets_received() > 0);
  REQUIRE(LegOf(finals, y + "-b"));
}

TEST_CASE(
    "originate and bridge with bad input - INVALID_ARGUMENT names the field - unknown tenant "
    "another tenant's extension and unknown calls NOT_FOUND - a suspended tenant "
    "FAILED_PRECONDITION",
    "[integration]") {
  CallRig rig;
  Commands commands(rig);
  auto other = rig.platform.CreateTenant();
  rig.platform.CreateExtension(other, "2001", "pass-2001-secret");
  const std::string to_1002 = "sip:1002@" + rig.domain;

  auto error_of = [&](const call::OriginateRequest& r) { return commands.Originate(r).error(); };
  auto r = commands.As1001("");
  CHECK(error_of(r).field() == "to_uri");
  r = commands.As1001("tel:7123;phone-context=example.com");  // local to another domain
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(error_of(r).field() == "to_uri");
  r = commands.As1001(to_1002);
  r.clear_tenant_id();
  CHECK(error_of(r).field() == "tenant_id");
  r = commands.As1001(to_1002);
  r.clear_extension();
  CHECK(error_of(r).field() == "from");
  r = commands.As1001(to_1002);
  r.set_caller_id("Bob <x>");
  CHECK(error_of(r).field() == "caller_id");

  r = commands.As1001(to_1002);
  r.set_tenant_id(kNobody);
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  r = commands.As1001("sip:2001@" + other.sip_domain());
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  r = commands.As1001(to_1002);
  r.set_extension("1099");
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  r = commands.As1001("sip:7777@" + rig.domain);  // no extension, no number, no trunk
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  r = commands.As1001("tel:+442071234567");  // no trunk of the tenant carries it
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  r = commands.As1001("tel:+442071234567");
  r.set_trunk_id(kNobody);
  CHECK(error_of(r).code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);

  // A bridge needs two calls of the tenant that this node carries.
  // Nobody registered: placed, then ended 480 (the node is named in its created event).
  const std::string ringing = commands.Placed(commands.As1001(to_1002));
  call::BridgeRequest bridge;
  *bridge.mutable_call() = commands.Ref(ringing);
  auto reply = commands.OnNode<call::CommandReply>(ringing, ops::kBridge, bridge);
  CHECK(reply.error().field() == "other_call");
  *bridge.mutable_call() = commands.Ref(kNobody);
  *bridge.mutable_other_call() = commands.Ref(ringing);
  reply = commands.OnNode<call::CommandReply>(ringing, ops::kBridge, bridge);
  CHECK(reply.error().code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);

  // Suspension reaches the node through admin's tenant event (bounded wait).
  rig.platform.Suspend(other);
  call::OriginateRequest as_other;
  as_other.set_tenant_id(other.id());
  as_other.set_extension("2001");
  as_other.set_to_uri("sip:2001@" + other.sip_domain());
  ErrorCode code = switchboard::common::v1::ERROR_CODE_OK;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       code != switchboard::common::v1::ERROR_CODE_FAILED_PRECONDITION &&
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(200ms)) {
    code = error_of(as_other).code();
  }
  CHECK(code == switchboard::common::v1::ERROR_CODE_FAILED_PRECONDITION);
}

// The answer command (what a voicemail or IVR flow does once nobody picks up): the platform
// answers the caller of a call still ringing, 1002's phone stops ringing, and the caller is the
// call's one party, which a play command reaches.
TEST_CASE(
    "the answer command answers a caller while 1002 rings - 1002 gets a CANCEL - a play command "
    "reaches the caller's leg - the caller's BYE ends the call",
    "[integration]") {
  CallRig rig;
  Commands commands(rig);
  rig.RegisterCallee(rig.platform.sip_port());
  auto callee = rig.StartCallee("callee_rings_until_cancelled.xml");
  auto caller = rig.StartCaller("caller_hangs_up.xml", rig.platform.sip_port());
  auto ringing = commands.Await<call::CallRinging>("ringing", {});
  REQUIRE(ringing);
  const std::string id = ringing->call().call_id();

  call::AnswerRequest answer;
  *answer.mutable_call() = commands.Ref(id);
  auto answered_reply = commands.OnNode<call::CommandReply>(id, ops::kAnswer, answer);
  INFO(answered_reply.error().message());
  CHECK(answered_reply.error().code() == switchboard::common::v1::ERROR_CODE_OK);
  auto answered = commands.Await<call::CallAnswered>("answered", id);
  REQUIRE(answered);
  REQUIRE(answered->call().legs_size() == 1);
  CHECK(answered->call().legs(0).media_leg_id() == id + "-a");

  call::PlayRequest play;
  *play.mutable_call() = commands.Ref(id);
  play.set_tone("ringback");
  auto played = commands.OnNode<call::PlayReply>(id, ops::kPlay, play);
  INFO(played.error().message());
  CHECK(played.error().code() == switchboard::common::v1::ERROR_CODE_OK);

  CheckBothSucceeded(caller, callee);
  INFO(rig.platform.SignalingLog());
  auto ended = commands.Await<call::CallEnded>("ended", id);
  REQUIRE(ended);
  CHECK(ended->cause() == call::END_CAUSE_NORMAL_CLEARING);
  CHECK(ended->billable_seconds() >= 1);
}
