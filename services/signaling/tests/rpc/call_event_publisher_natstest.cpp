// CallEventPublisher against a real nats-server with JetStream: the events are stored on the
// events stream under their subjects with every field, read back by a durable consumer, and a
// repeated publish of the same event is stored once. Each publish is queued on a JsOutbox; the
// tests wait for the stream's answer the outbox hands back.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "rpc/call_event_publisher.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/streams.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/testing/servers.h"

namespace sb::signaling {
namespace {

namespace v1 = switchboard::call::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Reads what the stream holds for one subject filter through a durable consumer, acking each.
class StreamReader {
 public:
  StreamReader(bus::Bus& bus, const std::string& filter) {
    auto consumer = bus.Consume({.stream = std::string(bus::subjects::kEventsStream),
                                 .durable = testing::UniqueName("calls"),
                                 .filter_subject = filter},
                                [this](bus::JsMessage& m) {
                                  (void)m.Ack();
                                  std::lock_guard lock(mu_);
                                  messages_.push_back(m.message());
                                  cv_.notify_all();
                                });
    REQUIRE(consumer.ok());
    consumer_ = std::move(*consumer);
  }

  // Waits until a message on `subject` has arrived; every message read so far.
  std::vector<bus::Message> WaitFor(const std::string& subject, milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& m : messages_) {
        if (m.subject == subject) return true;
      }
      return false;
    });
    return messages_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bus::Message> messages_;
  std::unique_ptr<bus::Subscription> consumer_;
};

struct Fixture {
  testing::NatsServer nats = testing::NatsServer::Start();
  std::unique_ptr<bus::NatsBus> bus;
  core::FakeClock clock;
  core::UuidV7Generator ids{clock, 7};
  bus::EventFactory factory{clock, ids, "signaling/sig-1"};
  TenantId tenant{core::UuidV7Generator(clock, 1).Next()};

  Fixture() {
    bus::NatsBusOptions options;
    options.url = nats.url();
    auto connected = bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    REQUIRE(bus->EnsureStream(bus::EventsStream()).ok());
  }

  CallRecord Call(const std::string& call_id) const {
    CallRecord call{.call_id = CallId(call_id),
                    .tenant = tenant,
                    .from_uri = "sip:201@acme.sb.example",
                    .to_uri = "sip:202@acme.sb.example",
                    .signaling_node_id = "sig-1",
                    .start_time = clock.WallNow()};
    call.legs.push_back({.leg_id = "a",
                         .direction = LegDirection::kInbound,
                         .from_uri = "sip:201@acme.sb.example",
                         .to_uri = "sip:202@acme.sb.example",
                         .sip_call_id = "abc@10.0.0.5",
                         .remote_contact = "sip:201@10.0.0.5:5062",
                         .remote_source = "203.0.113.9:40112",
                         .codec = "PCMU",
                         .media_node_id = "media-1",
                         .media_leg_id = call_id + "-a"});
    return call;
  }

  std::string Subject(const std::string& type) const {
    return "sb.evt.call." + type + "." + tenant.str();
  }
};

// The stream's answer to one event the publisher queued, or why it was not queued:
// Stored(events, &CallEventPublisher::Ringing, call, "b").
template <typename Method, typename... Args>
Result<bus::PublishAck> Stored(CallEventPublisher& events, Method method, const Args&... args) {
  std::promise<Result<bus::PublishAck>> ack;
  Status queued =
      (events.*method)(args..., [&ack](const Result<bus::PublishAck>& r) { ack.set_value(r); });
  if (!queued.ok()) return queued;
  return ack.get_future().get();
}

template <typename Event>
Event Find(const std::vector<bus::Message>& messages, const std::string& subject) {
  Event event;
  for (const auto& m : messages) {
    if (m.subject == subject) {
      REQUIRE(event.ParseFromString(m.data));
      return event;
    }
  }
  FAIL("no message on " << subject);
  return event;
}

TEST_CASE("a call's four events are stored on their subjects with the call's fields",
          "[natstest][call]") {
  Fixture f;
  StreamReader reader(*f.bus, "sb.evt.call.*." + f.tenant.str());
  const std::string call_id = core::UuidV7Generator(f.clock, 2).Next();
  CallRecord call = f.Call(call_id);
  const WallTime start = call.start_time;

  bus::JsOutbox outbox(*f.bus);
  CallEventPublisher events(outbox, f.factory);
  REQUIRE(Stored(events, &CallEventPublisher::Created, call).ok());

  f.clock.Advance(milliseconds(300));
  call.legs.push_back({.leg_id = "b",
                       .direction = LegDirection::kOutbound,
                       .to_uri = "sip:202@10.0.0.7:5060",
                       .codec = "PCMA",
                       .media_node_id = "media-1"});
  call.ringing_sip_code = 180;
  REQUIRE(Stored(events, &CallEventPublisher::Ringing, call, "b").ok());

  f.clock.Advance(milliseconds(4700));
  call.answer_time = f.clock.WallNow();
  call.answered_leg_id = "b";
  call.FindLeg("b")->final_sip_code = 200;
  REQUIRE(Stored(events, &CallEventPublisher::Answered, call).ok());

  f.clock.Advance(milliseconds(61200));
  call.end_time = f.clock.WallNow();
  call.cause = EndCause::kNormalClearing;
  call.final_sip_code = 200;
  call.FindLeg("a")->media_stats = MediaStats{.jitter_ms = 3.5,
                                              .loss_fraction = 0.01,
                                              .packets_lost = 31,
                                              .packets_received = 3069,
                                              .mos = 4.2};
  auto ended_ack = Stored(events, &CallEventPublisher::Ended, call);
  REQUIRE(ended_ack.ok());
  CHECK_FALSE(ended_ack->duplicate);
  CHECK(ended_ack->stream == "SB_EVENTS");

  auto messages = reader.WaitFor(f.Subject("ended"), seconds(10));
  REQUIRE(messages.size() == 4);
  CHECK(messages[0].subject == f.Subject("created"));
  CHECK(messages[1].subject == f.Subject("ringing"));
  CHECK(messages[2].subject == f.Subject("answered"));
  CHECK(messages[3].subject == f.Subject("ended"));

  auto created = Find<v1::CallCreated>(messages, f.Subject("created"));
  CHECK(created.meta().type() == "call.created");
  CHECK(created.meta().tenant_id() == f.tenant.str());
  CHECK(created.meta().correlation_id() == call_id);
  CHECK(created.meta().source() == "signaling/sig-1");
  CHECK(core::IsUuid(created.meta().event_id()));
  CHECK(created.call().call_id() == call_id);
  CHECK(created.call().signaling_node_id() == "sig-1");
  CHECK(created.call().start_time().seconds() ==
        std::chrono::duration_cast<seconds>(start.time_since_epoch()).count());
  CHECK_FALSE(created.call().has_answer_time());
  REQUIRE(created.call().legs_size() == 1);
  const auto& leg_a = created.call().legs(0);
  CHECK(leg_a.direction() == v1::LEG_DIRECTION_INBOUND);
  CHECK(leg_a.sip_call_id() == "abc@10.0.0.5");
  CHECK(leg_a.remote_contact() == "sip:201@10.0.0.5:5062");
  CHECK(leg_a.remote_source() == "203.0.113.9:40112");
  CHECK(leg_a.codec() == "PCMU");
  CHECK(leg_a.media_node_id() == "media-1");
  CHECK(leg_a.media_leg_id() == call_id + "-a");

  auto ringing = Find<v1::CallRinging>(messages, f.Subject("ringing"));
  CHECK(ringing.sip_code() == 180);
  CHECK(ringing.call().legs_size() == 2);
  CHECK(ringing.meta().event_id() != created.meta().event_id());

  auto answered = Find<v1::CallAnswered>(messages, f.Subject("answered"));
  CHECK(answered.answered_leg_id() == "b");
  CHECK(answered.call().answer_time().seconds() - answered.call().start_time().seconds() == 5);

  auto ended = Find<v1::CallEnded>(messages, f.Subject("ended"));
  CHECK(ended.cause() == v1::END_CAUSE_NORMAL_CLEARING);
  CHECK(ended.cause_text() == "normal clearing");
  CHECK(ended.final_sip_code() == 200);
  CHECK(ended.duration_ms() == 66200);
  CHECK(ended.answered_ms() == 61200);
  CHECK(ended.billable_seconds() == 62);
  CHECK(ended.call().has_end_time());
  REQUIRE(ended.call().legs_size() == 2);
  CHECK(ended.call().legs(0).media_stats().mos() == Approx(4.2));
  CHECK(ended.call().legs(0).media_stats().jitter_ms() == Approx(3.5));
  CHECK(ended.call().legs(0).media_stats().loss_fraction() == Approx(0.01));
  CHECK(ended.call().legs(0).media_stats().packets_lost() == 31);
  CHECK(ended.call().legs(1).final_sip_code() == 200);
  CHECK(ended.call().legs(1).codec() == "PCMA");
  CHECK(ended.call().legs(1).direction() == v1::LEG_DIRECTION_OUTBOUND);
}

TEST_CASE("publishing the same event again stores it once", "[natstest][call]") {
  Fixture f;
  StreamReader reader(*f.bus, "sb.evt.call.*." + f.tenant.str());
  bus::JsOutbox outbox(*f.bus);
  CallEventPublisher events(outbox, f.factory);
  CallRecord call = f.Call(core::UuidV7Generator(f.clock, 3).Next());
  call.end_time = call.start_time + seconds(3);
  call.cause = CauseForFinalResponse(486);
  call.final_sip_code = 486;

  auto first = Stored(events, &CallEventPublisher::Ended, call);
  REQUIRE(first.ok());
  CHECK_FALSE(first->duplicate);
  auto retry =
      Stored(events, &CallEventPublisher::Ended, call);  // as after a timeout whose ack was lost
  REQUIRE(retry.ok());
  CHECK(retry->duplicate);
  CHECK(retry->sequence == first->sequence);

  // Two ringing legs of one call are two events, each stored once.
  call.ringing_sip_code = 180;
  REQUIRE_FALSE(Stored(events, &CallEventPublisher::Ringing, call, "b1")->duplicate);
  REQUIRE_FALSE(Stored(events, &CallEventPublisher::Ringing, call, "b2")->duplicate);
  REQUIRE(Stored(events, &CallEventPublisher::Ringing, call, "b1")->duplicate);

  // Another call's event marks the end of what this test wrote.
  CallRecord marker = f.Call(core::UuidV7Generator(f.clock, 4).Next());
  REQUIRE(Stored(events, &CallEventPublisher::Created, marker).ok());
  auto messages = reader.WaitFor(f.Subject("created"), seconds(10));
  REQUIRE(messages.size() == 4);  // ended, ringing b1, ringing b2, created
  auto ended = Find<v1::CallEnded>(messages, f.Subject("ended"));
  CHECK(ended.cause() == v1::END_CAUSE_BUSY);
  CHECK(ended.cause_text() == "busy");
  CHECK(ended.final_sip_code() == 486);
  CHECK(ended.billable_seconds() == 0);
  CHECK(ended.duration_ms() == 3000);
}

TEST_CASE("a record that cannot be an event is refused naming the field", "[natstest][call]") {
  Fixture f;
  bus::JsOutbox outbox(*f.bus, {.timeout = milliseconds(500)});
  CallEventPublisher events(outbox, f.factory);
  CallRecord call = f.Call(core::UuidV7Generator(f.clock, 5).Next());

  CallRecord no_id = call;
  no_id.call_id = CallId();
  CHECK(Stored(events, &CallEventPublisher::Created, no_id).status().field() == "call_id");

  CallRecord no_tenant = call;
  no_tenant.tenant = TenantId();
  CHECK(Stored(events, &CallEventPublisher::Created, no_tenant).status().field() == "tenant_id");

  CallRecord bad_tenant = call;
  bad_tenant.tenant = TenantId("acme.*");  // would leak into other tenants' subjects
  CHECK(Stored(events, &CallEventPublisher::Created, bad_tenant).status().code() ==
        StatusCode::kInvalidArgument);

  CHECK(Stored(events, &CallEventPublisher::Answered, call).status().field() == "answer_time");
  CHECK(Stored(events, &CallEventPublisher::Ended, call).status().field() == "end_time");
}

TEST_CASE("a publish that JetStream never acks ends at its deadline", "[natstest][call]") {
  Fixture f;
  bus::JsOutbox outbox(*f.bus, {.timeout = milliseconds(300)});
  CallEventPublisher events(outbox, f.factory);
  f.nats.Stop();
  const auto started = std::chrono::steady_clock::now();
  auto ack = Stored(events, &CallEventPublisher::Created,
                    f.Call(core::UuidV7Generator(f.clock, 6).Next()));
  CHECK(ack.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - started < seconds(3));
}

}  // namespace
}  // namespace sb::signaling
