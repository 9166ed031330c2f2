// CallCommandServer through a real nats-server: each command reaches CallControl with its
// arguments in plain types and the reply carries the outcome; malformed requests are answered
// INVALID_ARGUMENT naming the field and never reach CallControl. The CallControl here is a test
// implementation of our own interface that records what it was asked.
#include <catch2/catch.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rpc/call_command_server.h"
#include "rpc/call_operations.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/call/v1/commands.pb.h"
#include "switchboard/testing/servers.h"

namespace sb::signaling {
namespace {

namespace v1 = switchboard::call::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kTenant[] = "0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";
constexpr char kOtherTenant[] = "0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5c";
constexpr char kCall[] = "0190f5a4-aaaa-7e3f-8a9b-0c1d2e3f4a5b";
constexpr char kOtherCall[] = "0190f5a4-bbbb-7e3f-8a9b-0c1d2e3f4a5b";
constexpr char kTrunk[] = "0190f5a4-cccc-7e3f-8a9b-0c1d2e3f4a5b";

// Records each call as one line; answers NOT_FOUND for calls it was told do not exist.
class RecordingCallControl final : public CallControl {
 public:
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void Forget(const std::string& call_id) {
    std::lock_guard lock(mu_);
    unknown_ = call_id;
  }
  OriginateParams last_originate() {
    std::lock_guard lock(mu_);
    return originate_;
  }

  Status Answer(const TenantId& t, const CallId& c) override {
    return Record("answer " + t.str() + " " + c.str(), c);
  }
  Status Hangup(const TenantId& t, const CallId& c, const HangupParams& p) override {
    return Record(
        "hangup " + t.str() + " " + c.str() + " " + std::to_string(p.sip_code) + " " + p.reason, c);
  }
  Status Bridge(const TenantId& t, const CallId& c, const CallId& other) override {
    return Record("bridge " + t.str() + " " + c.str() + " " + other.str(), c);
  }
  Status Transfer(const TenantId& t, const CallId& c, const std::string& target) override {
    return Record("transfer " + t.str() + " " + c.str() + " " + target, c);
  }
  Result<std::string> Play(const TenantId& t, const CallId& c, const PlayParams& p) override {
    SB_RETURN_IF_ERROR(Record("play " + t.str() + " " + c.str() + " wav=" + p.wav_file +
                                  " tone=" + p.tone + " id=" + p.playback_id,
                              c));
    return p.playback_id.empty() ? std::string("pb-1") : p.playback_id;
  }
  Status StopPlay(const TenantId& t, const CallId& c) override {
    return Record("stop_play " + t.str() + " " + c.str(), c);
  }
  Result<RecordingStarted> RecordStart(const TenantId& t, const CallId& c,
                                       const RecordParams& p) override {
    SB_RETURN_IF_ERROR(Record("record_start " + t.str() + " " + c.str() + " " + p.recording_id +
                                  (p.mixed ? " mixed" : " sent"),
                              c));
    return RecordingStarted{.recording_id = p.recording_id, .file = "/rec/" + p.recording_id};
  }
  Status RecordStop(const TenantId& t, const CallId& c) override {
    return Record("record_stop " + t.str() + " " + c.str(), c);
  }
  Result<CallId> Originate(const OriginateParams& p) override {
    std::lock_guard lock(mu_);
    calls_.push_back("originate " + p.tenant.str() + " " + p.to_uri);
    originate_ = p;
    return p.call_id.empty() ? CallId(kOtherCall) : p.call_id;
  }

 private:
  Status Record(std::string line, const CallId& call) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(line));
    if (call.str() == unknown_) return Status::NotFound("no call " + call.str());
    return Status::Ok();
  }

  std::mutex mu_;
  std::vector<std::string> calls_;
  std::string unknown_;
  OriginateParams originate_;
};

struct Fixture {
  testing::NatsServer nats = testing::NatsServer::Start();
  std::unique_ptr<bus::NatsBus> bus;
  RecordingCallControl control;
  std::string node_id = testing::UniqueName("sig");
  std::unique_ptr<CallCommandServer> server;

  Fixture() {
    bus::NatsBusOptions options;
    options.url = nats.url();
    auto connected = bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    server = std::make_unique<CallCommandServer>(*bus, node_id, control);
    REQUIRE(server->Start().ok());
    REQUIRE(bus->Flush(seconds(2)).ok());
  }

  template <typename Reply>
  Reply Ask(std::string_view op, const google::protobuf::MessageLite& request) {
    auto subject = bus::subjects::NodeCommand(call_ops::kService, node_id, op);
    REQUIRE(subject.ok());
    auto reply = bus::RequestProto<Reply>(*bus, *subject, request, seconds(5));
    REQUIRE(reply.ok());
    return *reply;
  }
};

v1::CallRef Ref(const char* tenant = kTenant, const char* call = kCall) {
  v1::CallRef ref;
  ref.set_tenant_id(tenant);
  ref.set_call_id(call);
  return ref;
}

TEST_CASE("each call command reaches CallControl with its arguments", "[natstest][commands]") {
  Fixture f;
  const std::string t = std::string(kTenant) + " " + kCall;

  v1::AnswerRequest answer;
  *answer.mutable_call() = Ref();
  CHECK(f.Ask<v1::CommandReply>(call_ops::kAnswer, answer).error().code() == 0);

  v1::HangupRequest hangup;
  *hangup.mutable_call() = Ref();
  hangup.set_sip_code(486);
  hangup.set_reason("flow said busy");
  CHECK(f.Ask<v1::CommandReply>(call_ops::kHangup, hangup).error().code() == 0);

  v1::BridgeRequest bridge;
  *bridge.mutable_call() = Ref();
  *bridge.mutable_other_call() = Ref(kTenant, kOtherCall);
  CHECK(f.Ask<v1::CommandReply>(call_ops::kBridge, bridge).error().code() == 0);

  v1::TransferRequest transfer;
  *transfer.mutable_call() = Ref();
  transfer.set_target_uri("sip:203@acme.sb.example");
  CHECK(f.Ask<v1::CommandReply>(call_ops::kTransfer, transfer).error().code() == 0);

  v1::PlayRequest play;
  *play.mutable_call() = Ref();
  play.set_tone("ringback");
  auto played = f.Ask<v1::PlayReply>(call_ops::kPlay, play);
  CHECK(played.error().code() == 0);
  CHECK(played.playback_id() == "pb-1");
  play.set_wav_file("/prompts/welcome.wav");
  play.set_playback_id("welcome");
  CHECK(f.Ask<v1::PlayReply>(call_ops::kPlay, play).playback_id() == "welcome");

  v1::StopPlayRequest stop_play;
  *stop_play.mutable_call() = Ref();
  CHECK(f.Ask<v1::CommandReply>(call_ops::kStopPlay, stop_play).error().code() == 0);

  v1::RecordStartRequest record;
  *record.mutable_call() = Ref();
  record.set_recording_id("rec-7");
  record.set_mixed(true);
  auto recording = f.Ask<v1::RecordStartReply>(call_ops::kRecordStart, record);
  CHECK(recording.recording_id() == "rec-7");
  CHECK(recording.file() == "/rec/rec-7");

  v1::RecordStopRequest record_stop;
  *record_stop.mutable_call() = Ref();
  CHECK(f.Ask<v1::CommandReply>(call_ops::kRecordStop, record_stop).error().code() == 0);

  CHECK(f.control.calls() == std::vector<std::string>{
                                 "answer " + t,
                                 "hangup " + t + " 486 flow said busy",
                                 "bridge " + t + " " + kOtherCall,
                                 "transfer " + t + " sip:203@acme.sb.example",
                                 "play " + t + " wav= tone=ringback id=",
                                 "play " + t + " wav=/prompts/welcome.wav tone= id=welcome",
                                 "stop_play " + t,
                                 "record_start " + t + " rec-7 mixed",
                                 "record_stop " + t,
                             });
}

TEST_CASE("originate from an extension or a trunk returns the new call id",
          "[natstest][commands]") {
  Fixture f;
  v1::OriginateRequest originate;
  originate.set_tenant_id(kTenant);
  originate.set_extension("201");
  originate.set_to_uri("sip:202@acme.sb.example");
  originate.set_caller_id("Reception");
  originate.set_timeout_seconds(25);
  auto reply = f.Ask<v1::OriginateReply>(call_ops::kOriginate, originate);
  CHECK(reply.error().code() == 0);
  CHECK(reply.call_id() == kOtherCall);
  auto params = f.control.last_originate();
  CHECK(params.tenant.str() == kTenant);
  CHECK(params.extension == "201");
  CHECK(params.trunk_id.empty());
  CHECK(params.caller_id == "Reception");
  CHECK(params.timeout == seconds(25));
  CHECK(params.call_id.empty());

  originate.set_trunk_id(kTrunk);
  originate.set_to_uri("tel:+15551234567");
  originate.set_timeout_seconds(0);
  originate.set_call_id(kCall);
  reply = f.Ask<v1::OriginateReply>(call_ops::kOriginate, originate);
  CHECK(reply.call_id() == kCall);
  params = f.control.last_originate();
  CHECK(params.trunk_id == kTrunk);
  CHECK(params.extension.empty());
  CHECK(params.timeout == seconds(60));  // 0 means the default
}

TEST_CASE("originate on the service subject is taken by exactly one node", "[natstest][commands]") {
  Fixture f;
  RecordingCallControl second_control;
  CallCommandServer second(*f.bus, testing::UniqueName("sig"), second_control);
  REQUIRE(second.Start().ok());
  REQUIRE(f.bus->Flush(seconds(2)).ok());

  v1::OriginateRequest originate;
  originate.set_tenant_id(kTenant);
  originate.set_extension("201");
  originate.set_to_uri("sip:202@acme.sb.example");
  for (int i = 0; i < 6; ++i) {
    auto reply = bus::RequestProto<v1::OriginateReply>(*f.bus, "sb.cmd.signaling.originate",
                                                       originate, seconds(5));
    REQUIRE(reply.ok());
    CHECK(reply->error().code() == 0);
  }
  CHECK(f.control.calls().size() + second_control.calls().size() == 6);
}

TEST_CASE("CallControl's refusal comes back with its code and message", "[natstest][commands]") {
  Fixture f;
  f.control.Forget(kCall);
  v1::HangupRequest hangup;
  *hangup.mutable_call() = Ref();
  auto reply = f.Ask<v1::CommandReply>(call_ops::kHangup, hangup);
  CHECK(reply.error().code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  CHECK(reply.error().message() == std::string("no call ") + kCall);
  v1::PlayRequest play;
  *play.mutable_call() = Ref();
  play.set_tone("busy");
  auto played = f.Ask<v1::PlayReply>(call_ops::kPlay, play);
  CHECK(played.error().code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  CHECK(played.playback_id().empty());
}

struct BadCase {
  std::string name;
  std::string op;
  std::function<std::string()> body;  // the serialized request
  std::string field;
};

template <typename Request>
std::function<std::string()> Body(std::function<void(Request&)> fill) {
  return [fill] {
    Request r;
    fill(r);
    return r.SerializeAsString();
  };
}

TEST_CASE("malformed commands are INVALID_ARGUMENT naming the field and reach nobody",
          "[natstest][commands]") {
  Fixture f;
  const std::vector<BadCase> cases = {
      {"answer without call", "answer", Body<v1::AnswerRequest>([](auto&) {}), "call"},
      {"answer without tenant", "answer",
       Body<v1::AnswerRequest>([](auto& r) { *r.mutable_call() = Ref("", kCall); }),
       "call.tenant_id"},
      {"answer with a tenant that is not a UUID", "answer",
       Body<v1::AnswerRequest>([](auto& r) { *r.mutable_call() = Ref("acme", kCall); }),
       "call.tenant_id"},
      {"hangup without call id", "hangup",
       Body<v1::HangupRequest>([](auto& r) { *r.mutable_call() = Ref(kTenant, ""); }),
       "call.call_id"},
      {"hangup with 200", "hangup", Body<v1::HangupRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         r.set_sip_code(200);
       }),
       "sip_code"},
      {"bridge without the other call", "bridge",
       Body<v1::BridgeRequest>([](auto& r) { *r.mutable_call() = Ref(); }), "other_call"},
      {"bridge across tenants", "bridge", Body<v1::BridgeRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         *r.mutable_other_call() = Ref(kOtherTenant, kOtherCall);
       }),
       "other_call.tenant_id"},
      {"bridge to itself", "bridge", Body<v1::BridgeRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         *r.mutable_other_call() = Ref();
       }),
       "other_call.call_id"},
      {"transfer without target", "transfer",
       Body<v1::TransferRequest>([](auto& r) { *r.mutable_call() = Ref(); }), "target_uri"},
      {"transfer to an http URI", "transfer", Body<v1::TransferRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         r.set_target_uri("http://example.com");
       }),
       "target_uri"},
      {"transfer to a URI with a line break", "transfer", Body<v1::TransferRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         r.set_target_uri("sip:a@b\r\nVia: x");
       }),
       "target_uri"},
      {"play without source", "play",
       Body<v1::PlayRequest>([](auto& r) { *r.mutable_call() = Ref(); }), "source"},
      {"play an unknown tone", "play", Body<v1::PlayRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         r.set_tone("siren");
       }),
       "tone"},
      {"play an empty file name", "play", Body<v1::PlayRequest>([](auto& r) {
         *r.mutable_call() = Ref();
         r.set_wav_file("");
       }),
       "wav_file"},
      {"stop_play without call", "stop_play", Body<v1::StopPlayRequest>([](auto&) {}), "call"},
      {"record_start without call id", "record_start",
       Body<v1::RecordStartRequest>([](auto& r) { *r.mutable_call() = Ref(kTenant, "x"); }),
       "call.call_id"},
      {"record_stop without call", "record_stop", Body<v1::RecordStopRequest>([](auto&) {}),
       "call"},
      {"originate without tenant", "originate", Body<v1::OriginateRequest>([](auto& r) {
         r.set_extension("201");
         r.set_to_uri("sip:202@acme");
       }),
       "tenant_id"},
      {"originate from nobody", "originate", Body<v1::OriginateRequest>([](auto& r) {
         r.set_tenant_id(kTenant);
         r.set_to_uri("sip:202@acme");
       }),
       "from"},
      {"originate through a trunk that is not a UUID", "originate",
       Body<v1::OriginateRequest>([](auto& r) {
         r.set_tenant_id(kTenant);
         r.set_trunk_id("trunk-1");
         r.set_to_uri("sip:202@acme");
       }),
       "trunk_id"},
      {"originate to nowhere", "originate", Body<v1::OriginateRequest>([](auto& r) {
         r.set_tenant_id(kTenant);
         r.set_extension("201");
         r.set_to_uri("sip:");
       }),
       "to_uri"},
      {"originate ringing for an hour", "originate", Body<v1::OriginateRequest>([](auto& r) {
         r.set_tenant_id(kTenant);
         r.set_extension("201");
         r.set_to_uri("sip:202@acme");
         r.set_timeout_seconds(3600);
       }),
       "timeout_seconds"},
      {"originate with a caller id that breaks a header", "originate",
       Body<v1::OriginateRequest>([](auto& r) {
         r.set_tenant_id(kTenant);
         r.set_extension("201");
         r.set_to_uri("sip:202@acme");
         r.set_caller_id("Eve\r\nX: y");
       }),
       "caller_id"},
      {"originate with a call id that is not a UUID", "originate",
       Body<v1::OriginateRequest>([](auto& r) {
         r.set_tenant_id(kTenant);
         r.set_extension("201");
         r.set_to_uri("sip:202@acme");
         r.set_call_id("mine");
       }),
       "call_id"},
  };
  // One server for all the cases (a section per case would start a server per case).
  for (const auto& c : cases) {
    INFO(c.name);
    auto subject = bus::subjects::NodeCommand(call_ops::kService, f.node_id, c.op);
    REQUIRE(subject.ok());
    auto reply = f.bus->Request({.subject = *subject, .data = c.body()}, seconds(5));
    REQUIRE(reply.ok());
    REQUIRE(bus::StatusFromReply(*reply).ok());
    // Every reply message of commands.proto has the Error as field 1.
    v1::CommandReply parsed;
    REQUIRE(parsed.ParseFromString(reply->data));
    CHECK(parsed.error().code() == switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT);
    CHECK(parsed.error().field() == c.field);
    CHECK_FALSE(parsed.error().message().empty());
  }
  CHECK(f.control.calls().empty());
}

TEST_CASE("a body that is not the request is refused and counted", "[natstest][commands]") {
  Fixture f;
  auto subject = bus::subjects::NodeCommand(call_ops::kService, f.node_id, call_ops::kHangup);
  REQUIRE(subject.ok());
  auto reply =
      f.bus->Request({.subject = *subject, .data = std::string("\xff\xff\xff", 3)}, seconds(5));
  REQUIRE(reply.ok());
  CHECK(bus::StatusFromReply(*reply).code() == StatusCode::kInvalidArgument);
  CHECK(f.server->bad_bodies() == 1);
  CHECK(f.control.calls().empty());
}

TEST_CASE("a stopped server takes no more commands", "[natstest][commands]") {
  Fixture f;
  f.server->Stop();
  v1::AnswerRequest answer;
  *answer.mutable_call() = Ref();
  auto subject = bus::subjects::NodeCommand(call_ops::kService, f.node_id, call_ops::kAnswer);
  REQUIRE(subject.ok());
  auto reply = bus::RequestProto<v1::CommandReply>(*f.bus, *subject, answer, milliseconds(500));
  CHECK(reply.status().code() == StatusCode::kUnavailable);
  CHECK(f.control.calls().empty());
}

// Where a test says a call is: nullopt (here), another node's id, or an error; counts asks.
class ToldWhereabouts final : public CallWhereabouts {
 public:
  void Say(Result<std::optional<std::string>> answer) {
    std::lock_guard lock(mu_);
    answer_ = std::move(answer);
  }
  int asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }
  Result<std::optional<std::string>> ServingNode(const CallId& call) override {
    std::lock_guard lock(mu_);
    ++asked_;
    CHECK(call.str() == kCall);
    return answer_;
  }

 private:
  std::mutex mu_;
  Result<std::optional<std::string>> answer_ = std::optional<std::string>();
  int asked_ = 0;
};

// Two nodes on one bus: `any` takes the service subjects and asks its whereabouts; `carrier`
// serves only its own node's subjects, so every command on a service subject lands on `any`.
struct TwoNodes {
  Fixture f;  // its server: the carrier
  ToldWhereabouts whereabouts;
  RecordingCallControl any_control;
  CallCommandServer any{*f.bus, testing::UniqueName("sig"), any_control, &whereabouts,
                        milliseconds(500)};

  TwoNodes() {
    REQUIRE(any.Start().ok());
    REQUIRE(f.bus->Flush(seconds(2)).ok());
  }
  template <typename Reply>
  Reply AskAnyNode(std::string_view op, const google::protobuf::MessageLite& request) {
    auto subject = bus::subjects::Command(call_ops::kService, op);
    REQUIRE(subject.ok());
    auto reply = bus::RequestProto<Reply>(*f.bus, *subject, request, seconds(5));
    REQUIRE(reply.ok());
    return *reply;
  }
};

TEST_CASE(
    "a call command sent to any node is passed on to the live node carrying the call - its reply "
    "comes back as that node gave it",
    "[natstest][commands]") {
  TwoNodes nodes;
  nodes.whereabouts.Say(std::optional<std::string>(nodes.f.node_id));
  const std::string t = std::string(kTenant) + " " + kCall;

  v1::HangupRequest hangup;
  *hangup.mutable_call() = Ref();
  hangup.set_sip_code(486);
  CHECK(nodes.AskAnyNode<v1::CommandReply>(call_ops::kHangup, hangup).error().code() == 0);
  v1::PlayRequest play;
  *play.mutable_call() = Ref();
  play.set_tone("ringback");
  play.set_playback_id("hold-music");
  CHECK(nodes.AskAnyNode<v1::PlayReply>(call_ops::kPlay, play).playback_id() == "hold-music");
  v1::RecordStartRequest record;
  *record.mutable_call() = Ref();
  record.set_recording_id("rec-9");
  CHECK(nodes.AskAnyNode<v1::RecordStartReply>(call_ops::kRecordStart, record).file() ==
        "/rec/rec-9");
  nodes.f.control.Forget(kCall);
  v1::StopPlayRequest stop_play;
  *stop_play.mutable_call() = Ref();
  auto refused = nodes.AskAnyNode<v1::CommandReply>(call_ops::kStopPlay, stop_play);
  CHECK(refused.error().code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);
  CHECK(refused.error().message() == std::string("no call ") + kCall);

  CHECK(nodes.f.control.calls() == std::vector<std::string>{
                                       "hangup " + t + " 486 ",
                                       "play " + t + " wav= tone=ringback id=hold-music",
                                       "record_start " + t + " rec-9 sent",
                                       "stop_play " + t,
                                   });
  CHECK(nodes.any_control.calls().empty());
  CHECK(nodes.any.passed_on() == 4);
  CHECK(nodes.f.server->passed_on() == 0);
}

TEST_CASE(
    "a call command sent to any node is served there when the call is its own or its node is "
    "gone - where the call is cannot be told: that error - the node named does not answer: "
    "UNAVAILABLE",
    "[natstest][commands]") {
  TwoNodes nodes;
  v1::TransferRequest transfer;
  *transfer.mutable_call() = Ref();
  transfer.set_target_uri("sip:203@acme.sb.example");
  CHECK(nodes.AskAnyNode<v1::CommandReply>(call_ops::kTransfer, transfer).error().code() == 0);
  CHECK(nodes.any_control.calls() ==
        std::vector<std::string>{"transfer " + std::string(kTenant) + " " + kCall +
                                 " sip:203@acme.sb.example"});

  nodes.whereabouts.Say(Status::Unavailable("redis is away"));
  auto unknown = nodes.AskAnyNode<v1::CommandReply>(call_ops::kTransfer, transfer);
  CHECK(unknown.error().code() == switchboard::common::v1::ERROR_CODE_UNAVAILABLE);
  CHECK(unknown.error().message() == "redis is away");

  nodes.whereabouts.Say(std::optional<std::string>("sig-nobody"));
  auto silent = nodes.AskAnyNode<v1::CommandReply>(call_ops::kTransfer, transfer);
  CHECK(silent.error().code() == switchboard::common::v1::ERROR_CODE_UNAVAILABLE);
  CHECK(nodes.any_control.calls().size() == 1);
  CHECK(nodes.f.control.calls().empty());
}

TEST_CASE(
    "a malformed call command sent to any node is INVALID_ARGUMENT without asking where the "
    "call is",
    "[natstest][commands]") {
  TwoNodes nodes;
  nodes.whereabouts.Say(std::optional<std::string>(nodes.f.node_id));
  v1::HangupRequest hangup;
  *hangup.mutable_call() = Ref(kTenant, "not-a-uuid");
  auto reply = nodes.AskAnyNode<v1::CommandReply>(call_ops::kHangup, hangup);
  CHECK(reply.error().field() == "call.call_id");
  // Well-formed reference, bad argument: the carrying node refuses it.
  *hangup.mutable_call() = Ref();
  hangup.set_sip_code(99);
  CHECK(nodes.AskAnyNode<v1::CommandReply>(call_ops::kHangup, hangup).error().field() ==
        "sip_code");
  CHECK(nodes.whereabouts.asked() == 1);
  CHECK(nodes.f.control.calls().empty());
  CHECK(nodes.any_control.calls().empty());
}

TEST_CASE("a node id that is not a subject token is refused at start", "[natstest][commands]") {
  Fixture f;
  CallCommandServer bad(*f.bus, "sig.1", f.control);
  CHECK(bad.Start().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sb::signaling
