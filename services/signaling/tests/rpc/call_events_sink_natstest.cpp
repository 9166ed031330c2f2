// CallEventSink (the B2BUA's CallEvents port) on a real JetStream: the B2BUA's summaries become
// created/ringing/answered/ended events with times from the clock, so the ended event has the
// duration and billable seconds; an unknown cause name keeps its text; an end this node never
// saw start is still published; a publish that fails is counted, not thrown.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <vector>

#include "rpc/call_events_sink.h"
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

struct Fixture {
  testing::NatsServer nats = testing::NatsServer::Start();
  std::unique_ptr<bus::NatsBus> bus;
  core::FakeClock clock;
  core::UuidV7Generator ids{clock, 11};
  bus::EventFactory factory{clock, ids, "signaling/sig-1"};
  core::MetricsRegistry metrics;
  std::ostringstream log_lines;
  core::Logger log{"signaling", log_lines, core::LogLevel::kInfo, clock};
  TenantId tenant{core::UuidV7Generator(clock, 12).Next()};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<bus::Message> stored;
  std::unique_ptr<bus::Subscription> consumer;

  Fixture() {
    bus::NatsBusOptions options;
    options.url = nats.url();
    auto connected = bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    REQUIRE(bus->EnsureStream(bus::EventsStream()).ok());
    auto sub = bus->Consume({.stream = std::string(bus::subjects::kEventsStream),
                             .durable = testing::UniqueName("sink"),
                             .filter_subject = "sb.evt.call.*." + tenant.str()},
                            [this](bus::JsMessage& m) {
                              (void)m.Ack();
                              std::lock_guard lock(mu);
                              stored.push_back(m.message());
                              cv.notify_all();
                            });
    REQUIRE(sub.ok());
    consumer = std::move(*sub);
  }

  b2bua::CallSummary Summary(const std::string& call_id) const {
    b2bua::CallSummary call;
    call.call_id = call_id;
    call.tenant = tenant;
    call.from_uri = "sip:201@acme.sb.example";
    call.to_uri = "sip:202@acme.sb.example";
    return call;
  }

  // The stored event on sb.evt.call.<type>.<tenant> of this call, waiting for it.
  template <typename Event>
  std::optional<Event> Stored(const std::string& type, const std::string& call_id) {
    const std::string subject = "sb.evt.call." + type + "." + tenant.str();
    std::unique_lock lock(mu);
    std::optional<Event> found;
    cv.wait_for(lock, seconds(10), [&] {
      for (const auto& m : stored) {
        Event e;
        if (m.subject == subject && e.ParseFromString(m.data) && e.call().call_id() == call_id) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }
};

TEST_CASE("a B2BUA call becomes four events with its times and billable seconds",
          "[natstest][call]") {
  Fixture f;
  CallEventSink sink(*f.bus, f.factory, f.clock, "sig-1", f.metrics, f.log);
  const std::string id = core::UuidV7Generator(f.clock, 13).Next();
  auto call = f.Summary(id);

  call.legs = {{.leg_id = "a", .sip_call_id = "c-1", .codec = "PCMA", .media_node_id = "m-1"}};
  sink.Created(call);
  CHECK(sink.open_calls() == 1);
  f.clock.Advance(milliseconds(800));
  call.sip_code = 180;
  call.legs.clear();  // nothing new: the legs as the call's last event said
  sink.Ringing(call);
  f.clock.Advance(milliseconds(4200));
  call.answered_leg = "b";
  call.sip_code = 200;
  call.legs = {{.leg_id = "a", .sip_call_id = "c-1", .codec = "PCMA", .media_node_id = "m-1"},
               {.leg_id = "b",
                .direction = LegDirection::kOutbound,
                .sip_call_id = "c-2",
                .codec = "opus",
                .media_node_id = "m-1",
                .final_sip_code = 200}};
  sink.Answered(call);
  f.clock.Advance(milliseconds(61200));
  call.cause = "normal";
  call.legs.clear();
  sink.Ended(call);
  CHECK(sink.open_calls() == 0);

  auto ringing = f.Stored<v1::CallRinging>("ringing", id);
  REQUIRE(ringing.has_value());
  CHECK(ringing->sip_code() == 180);
  REQUIRE(ringing->call().legs_size() == 1);
  CHECK(ringing->call().legs(0).codec() == "PCMA");
  auto answered = f.Stored<v1::CallAnswered>("answered", id);
  REQUIRE(answered.has_value());
  CHECK(answered->answered_leg_id() == "b");
  auto ended = f.Stored<v1::CallEnded>("ended", id);
  REQUIRE(ended.has_value());
  CHECK(ended->cause() == v1::END_CAUSE_NORMAL_CLEARING);
  CHECK(ended->final_sip_code() == 200);
  CHECK(ended->duration_ms() == 66200);
  CHECK(ended->answered_ms() == 61200);
  CHECK(ended->billable_seconds() == 62);
  CHECK(ended->call().signaling_node_id() == "sig-1");
  CHECK(ended->call().from_uri() == "sip:201@acme.sb.example");
  REQUIRE(ended->call().legs_size() == 2);
  CHECK(ended->call().legs(1).sip_call_id() == "c-2");
  CHECK(ended->call().legs(1).codec() == "opus");
  CHECK(ended->call().legs(1).direction() == v1::LEG_DIRECTION_OUTBOUND);
  CHECK(ended->call().legs(1).final_sip_code() == 200);
  sink.Flush();
  CHECK(f.metrics.Counter("sb_signaling_call_events_total", "").value() == 4);
}

TEST_CASE("an end never seen starting and an unknown cause are still published",
          "[natstest][call]") {
  Fixture f;
  CallEventSink sink(*f.bus, f.factory, f.clock, "sig-2", f.metrics, f.log);

  const std::string orphan = core::UuidV7Generator(f.clock, 14).Next();
  auto call = f.Summary(orphan);
  call.cause = "node_failure";
  call.answered_leg = "b";
  sink.Ended(call);
  auto ended = f.Stored<v1::CallEnded>("ended", orphan);
  REQUIRE(ended.has_value());
  CHECK(ended->cause() == v1::END_CAUSE_NODE_FAILURE);
  CHECK(ended->duration_ms() == 0);
  CHECK(ended->billable_seconds() == 0);

  // The B2BUA kept the call's times with it in the store: the replica that ends it reports them.
  const std::string stored = core::UuidV7Generator(f.clock, 17).Next();
  auto carried = f.Summary(stored);
  carried.cause = "node_failure";
  carried.sip_code = 200;
  carried.answered_leg = "b";
  carried.start_time = f.clock.WallNow() - milliseconds(95'000);
  carried.answer_time = f.clock.WallNow() - milliseconds(90'400);
  sink.Ended(carried);
  auto survived = f.Stored<v1::CallEnded>("ended", stored);
  REQUIRE(survived.has_value());
  CHECK(survived->duration_ms() == 95'000);
  CHECK(survived->answered_ms() == 90'400);
  CHECK(survived->billable_seconds() == 91);
  CHECK(survived->call().from_uri() == carried.from_uri);

  const std::string odd = core::UuidV7Generator(f.clock, 15).Next();
  auto failed = f.Summary(odd);
  sink.Created(failed);
  f.clock.Advance(milliseconds(2500));
  failed.cause = "carrier_said_no";
  failed.sip_code = 503;
  sink.Ended(failed);
  auto odd_end = f.Stored<v1::CallEnded>("ended", odd);
  REQUIRE(odd_end.has_value());
  CHECK(odd_end->cause() == v1::END_CAUSE_NETWORK_FAILURE);
  CHECK(odd_end->cause_text() == "carrier_said_no");
  CHECK(odd_end->duration_ms() == 2500);
  CHECK(sink.open_calls() == 0);
}

TEST_CASE("a call event JetStream does not store is counted and logged", "[natstest][call]") {
  Fixture f;
  CallEventSink sink(*f.bus, f.factory, f.clock, "sig-3", f.metrics, f.log,
                     {.timeout = milliseconds(300)});
  f.consumer.reset();
  f.nats.Stop();
  sink.Created(f.Summary(core::UuidV7Generator(f.clock, 16).Next()));
  sink.Flush();
  CHECK(f.metrics.Counter("sb_signaling_call_events_failed_total", "").value() == 1);
  CHECK(f.log_lines.str().find("call event not stored") != std::string::npos);
  CHECK(f.log_lines.str().find(f.tenant.str()) != std::string::npos);
}

}  // namespace
}  // namespace sb::signaling
