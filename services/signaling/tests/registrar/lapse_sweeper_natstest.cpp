// The lapse sweep against the shared Redis and a private nats-server with JetStream: a binding
// that lapses without a REGISTER is reported "expired" once and removed, two replicas sweeping
// at once report it once, a replica that died after claiming is covered after the lease, and a
// phone that registered again meanwhile keeps its binding. The same sweep sends the events that
// are still parked: a REGISTER's, a keep-alive removal's, and a call's (parked once JetStream was
// slow to ack it, store/parked_event_journal.h), once their replica's lease is over.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "registrar/lapse_sweeper.h"
#include "registrar/registrar.h"
#include "rpc/call_events_sink.h"
#include "store/parked_event_journal.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/streams.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/signaling/v1/events.pb.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/servers.h"

namespace sb::signaling {
namespace {

using namespace std::chrono_literals;
namespace v1 = switchboard::signaling::v1;

const TenantId kTenant("0190d1d2-0000-7000-8000-0000000000bb");
const std::string kAor = "sip:1001@acme.sip.test";

// One replica's view: its own Redis client (same key prefix), bus and sweeper.
struct Replica {
  redis::Client redis;
  RedisBindingStore store{redis};
  RedisBindingLapses lapses{redis};
  std::unique_ptr<bus::NatsBus> bus;
  core::UuidV7Generator ids;
  bus::EventFactory factory;
  RegistrationEvents events;
  RedisEventOutbox outbox{redis, 30s};
  LapseSweeper sweeper;

  Replica(const redis::ClientOptions& options, const std::string& nats_url,
          const core::Clock& clock, const std::string& node)
      : redis(options),
        bus(Connect(nats_url)),
        ids(clock),
        factory(clock, ids, "signaling/" + node),
        events(*bus, factory, node, 2s),
        sweeper(clock, store, lapses, events, core::Logger("signaling", core::LogLevel::kWarn),
                {.interval = 100ms, .batch = 10, .lease = 30s}, &outbox) {}

  static std::unique_ptr<bus::NatsBus> Connect(const std::string& url) {
    bus::NatsBusOptions options;
    options.url = url;
    auto connected = bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    REQUIRE((*connected)->EnsureStream(bus::EventsStream()).ok());
    return std::move(*connected);
  }
};

struct Fixture {
  testing::NatsServer nats = testing::NatsServer::Start();
  // Redis expires keys on its own clock: the fake wall time starts at the real one.
  core::FakeClock clock{
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now())};
  redis::ClientOptions options;
  Replica a, b;
  std::unique_ptr<bus::NatsBus> watcher = Replica::Connect(nats.url());
  testing::EventInbox expired{*watcher, "sb.evt.registration.expired.>"};
  testing::EventInbox registered{*watcher, "sb.evt.registration.registered.>"};

  Fixture()
      : options(Options()),
        a(options, nats.url(), clock, "sig-a"),
        b(options, nats.url(), clock, "sig-b") {}

  static redis::ClientOptions Options() {
    auto options =
        redis::OptionsFromUrl(testing::Shared().redis_url, testing::UniqueName("lapse") + ":");
    REQUIRE(options.ok());
    return *options;
  }

  Binding Phone(std::string contact, std::chrono::seconds expires_in) const {
    return {.contact = std::move(contact),
            .q_milli = 1000,
            .call_id = "c-" + contact,
            .cseq = 1,
            .expires_at = clock.WallNow() + expires_in,
            .source = "udp:203.0.113.5:40001",
            .path = {}};
  }

  // `binding` as the phone's next REGISTER writes it: the next CSeq, lapsing `expires_in` from now.
  Binding Refreshed(Binding binding, std::chrono::seconds expires_in) const {
    binding.cseq += 1;
    binding.expires_at = clock.WallNow() + expires_in;
    return binding;
  }
};

size_t Sweep(LapseSweeper& sweeper) {
  auto swept = sweeper.SweepOnce();
  REQUIRE(swept.ok());
  return *swept;
}

// Waits (bounded) until `inbox` holds `count` events; how many it holds then.
template <typename Event = v1::Unregistered>
size_t WaitForCount(testing::EventInbox& inbox, size_t count) {
  for (int i = 0; i < 50 && inbox.All<Event>().size() < count; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(200ms);  // a duplicate would have arrived by now
  return inbox.All<Event>().size();
}

// Replica `r` saves `binding` for kAor with its "registered" event parked in the same MULTI, as
// a REGISTER does, and returns that event's message (not sent).
bus::JsOutbound SaveParked(Replica& r, const Binding& binding, WallTime now) {
  RegistrationChange change =
      ChangeOf(RegistrationChange::Kind::kRegistered, kTenant, kAor, binding);
  change.expires_seconds = 300;
  change.user_agent = "parked-test";
  auto messages = r.events.Messages({change}, "call-parked");
  REQUIRE(messages.ok());
  REQUIRE(messages->size() == 1);
  REQUIRE(r.store
              .Save(kTenant, kAor, {}, {binding},
                    {.max_contacts = 0, .now = now, .parked = r.outbox.ParkingOf(*messages, now)})
              .ok());
  return messages->front();
}

// How many events are parked in the replicas' Redis.
int64_t ParkedCount(Replica& r) {
  auto count = r.redis.Run(redis::Command("HLEN").Key(RedisEventOutbox::kParkedKey));
  REQUIRE(count.ok());
  REQUIRE(count->integer());
  return *count->integer();
}

// The `ended` events JetStream stored for kTenant (waits until `count` are there, bounded, and a
// little longer for a duplicate).
std::vector<switchboard::call::v1::CallEnded> StoredEnded(const std::string& nats_url,
                                                          size_t count) {
  auto bus = Replica::Connect(nats_url);
  testing::EventInbox ended(*bus, "sb.evt.call.ended." + kTenant.str(),
                            testing::EventInbox::FromStream{"SB_EVENTS"});
  ended.AtLeast<switchboard::call::v1::CallEnded>(count, 5s);
  std::this_thread::sleep_for(200ms);
  return ended.All<switchboard::call::v1::CallEnded>();
}

// A call through a replica's event sink, as the B2BUA reports it.
b2bua::CallSummary CallOf(const std::string& call_id) {
  b2bua::CallSummary call;
  call.call_id = call_id;
  call.tenant = kTenant;
  call.from_uri = "sip:1001@acme.sip.test";
  call.to_uri = "sip:1002@acme.sip.test";
  return call;
}

}  // namespace

TEST_CASE("a binding that lapses without a REGISTER is reported expired once and removed",
          "[nats]") {
  Fixture f;
  REQUIRE(f.a.store
              .Save(kTenant, kAor, {},
                    {f.Phone("sip:1001@10.0.0.5:5060", 10s), f.Phone("sip:1001@10.0.0.6", 300s)})
              .ok());
  CHECK(Sweep(f.a.sweeper) == 0);  // nothing lapsed yet

  f.clock.Advance(11s);
  CHECK(Sweep(f.a.sweeper) == 1);
  auto event = f.expired.Wait<v1::Unregistered>(
      [](const v1::Unregistered& e, const bus::Message& m) {
        return m.subject == "sb.evt.registration.expired." + kTenant.str() &&
               e.contact() == "sip:1001@10.0.0.5:5060";
      },
      5s);
  REQUIRE(event.has_value());
  CHECK(event->aor() == kAor);
  CHECK(event->reason() == v1::UNREGISTER_REASON_EXPIRED);
  CHECK(event->node_id() == "sig-a");
  CHECK(event->meta().tenant_id() == kTenant.str());

  auto left = f.a.store.Load(kTenant, kAor);
  REQUIRE(left.ok());
  REQUIRE(left->size() == 1);
  CHECK((*left)[0].contact == "sip:1001@10.0.0.6");
  // Filed again under the live binding's expiry: not due before it.
  CHECK(Sweep(f.a.sweeper) == 0);
  f.clock.Advance(300s);
  CHECK(Sweep(f.a.sweeper) == 1);
  CHECK(f.a.store.Load(kTenant, kAor)->empty());
  CHECK(f.expired
            .Wait<v1::Unregistered>(
                [](const v1::Unregistered& e, const bus::Message&) {
                  return e.contact() == "sip:1001@10.0.0.6";
                },
                5s)
            .has_value());
  CHECK(WaitForCount(f.expired, 2) == 2);
}

TEST_CASE(
    "a binding refreshed before it lapses is not reported at its old expiry - that sweep files "
    "it under the new one - where it is reported once",
    "[nats]") {
  Fixture f;
  Binding first = f.Phone("sip:1001@10.0.0.8", 10s);
  REQUIRE(f.a.store.Save(kTenant, kAor, {}, {first}).ok());
  f.clock.Advance(5s);
  const Binding refreshed = f.Refreshed(first, 60s);
  REQUIRE(f.b.store.Save(kTenant, kAor, {first}, {refreshed}).ok());

  f.clock.Advance(6s);
  // Visited at the old time (a save never moves an AOR's time later), nothing reported.
  CHECK(Sweep(f.a.sweeper) == 1);
  CHECK(f.a.store.Load(kTenant, kAor)->size() == 1);
  CHECK(Sweep(f.a.sweeper) == 0);
  f.clock.Advance(60s);
  CHECK(Sweep(f.a.sweeper) == 1);
  CHECK(f.a.store.Load(kTenant, kAor)->empty());
  CHECK(WaitForCount(f.expired, 1) == 1);
}

TEST_CASE("two replicas sweeping at once report a lapse once", "[nats]") {
  Fixture f;
  for (int i = 0; i < 8; ++i) {
    const std::string aor = "sip:" + std::to_string(2000 + i) + "@acme.sip.test";
    REQUIRE(
        f.a.store.Save(kTenant, aor, {}, {f.Phone("sip:x@10.0.1." + std::to_string(i), 5s)}).ok());
  }
  f.clock.Advance(6s);
  auto on_a = std::async(std::launch::async, [&] { return f.a.sweeper.SweepOnce(); });
  auto on_b = std::async(std::launch::async, [&] { return f.b.sweeper.SweepOnce(); });
  auto swept_a = on_a.get();
  auto swept_b = on_b.get();
  REQUIRE(swept_a.ok());
  REQUIRE(swept_b.ok());
  CHECK(*swept_a + *swept_b == 8);
  CHECK(WaitForCount(f.expired, 8) == 8);
}

TEST_CASE("a replica that died after claiming a lapse has it reported after the lease", "[nats]") {
  Fixture f;
  REQUIRE(f.a.store.Save(kTenant, kAor, {}, {f.Phone("sip:1001@10.0.0.9", 5s)}).ok());
  f.clock.Advance(6s);
  // Replica a claims, then dies before publishing.
  auto claimed = f.a.lapses.Claim(f.clock.WallNow(), 10, 30s);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);
  CHECK(claimed->front() == AddressOfRecordKey{kTenant, kAor});
  CHECK(Sweep(f.b.sweeper) == 0);  // still a's

  f.clock.Advance(31s);
  CHECK(Sweep(f.b.sweeper) == 1);
  auto event = f.expired.Wait<v1::Unregistered>(
      [](const v1::Unregistered& e, const bus::Message&) {
        return e.contact() == "sip:1001@10.0.0.9";
      },
      5s);
  REQUIRE(event.has_value());
  CHECK(event->node_id() == "sig-b");
  CHECK(f.b.store.Load(kTenant, kAor)->empty());
}

TEST_CASE("a phone that registered again meanwhile keeps its new binding", "[nats]") {
  Fixture f;
  Binding old = f.Phone("sip:1001@10.0.0.7", 5s);
  REQUIRE(f.a.store.Save(kTenant, kAor, {}, {old}).ok());
  f.clock.Advance(6s);
  const Binding again = f.Refreshed(old, 60s);
  REQUIRE(f.b.store.Save(kTenant, kAor, {old}, {again}).ok());
  auto removed = f.a.lapses.RemoveIfUnchanged(kTenant, kAor, {old});
  REQUIRE(removed.ok());
  CHECK(*removed == 0);
  auto left = f.a.store.Load(kTenant, kAor);
  REQUIRE(left.ok());
  REQUIRE(left->size() == 1);
  CHECK((*left)[0] == again);
  CHECK(Sweep(f.a.sweeper) == 0);  // due in 60 s, not now
}

TEST_CASE("the sweep and the next REGISTER name one lapse with the same de-duplication id",
          "[unit]") {
  core::FakeClock clock;
  Binding lapsed{.contact = "sip:1001@10.0.0.5:5060",
                 .q_milli = 1000,
                 .call_id = "c1",
                 .cseq = 1,
                 .expires_at = clock.WallNow() - 1s,
                 .source = "udp:203.0.113.5:40001",
                 .path = {}};
  Binding live = lapsed;
  live.contact = "sip:1001@10.0.0.6:5060";
  live.expires_at = clock.WallNow() + 60s;
  auto swept = LapseChanges(kTenant, kAor, {lapsed, live}, clock.WallNow());
  REQUIRE(swept.size() == 1);
  CHECK(swept[0].kind == RegistrationChange::Kind::kExpired);
  // The registrar, seeing the same binding expired when the AOR registers again.
  auto seen = RegistrationChanges({lapsed}, {live}, clock.WallNow());
  auto expired = std::find_if(seen.begin(), seen.end(), [](const RegistrationChange& c) {
    return c.kind == RegistrationChange::Kind::kExpired;
  });
  REQUIRE(expired != seen.end());
  expired->tenant = kTenant;
  expired->aor = kAor;
  CHECK(LapseEventId(*expired) == LapseEventId(swept[0]));
  // Another lapse of the same contact (registered and lapsed again) is another event.
  lapsed.expires_at -= 3600s;
  CHECK(LapseEventId(LapseChanges(kTenant, kAor, {lapsed}, clock.WallNow())[0]) !=
        LapseEventId(swept[0]));
}

TEST_CASE("binding keys parse back into tenant and address of record", "[unit]") {
  auto key = ParseBindingKey(RedisBindingStore::Key(kTenant, kAor));
  REQUIRE(key.has_value());
  CHECK(key->tenant == kTenant);
  CHECK(key->aor == kAor);
  CHECK_FALSE(ParseBindingKey("reg:" + kTenant.str()).has_value());
  CHECK_FALSE(ParseBindingKey("nonce:abc").has_value());
  CHECK_FALSE(ParseBindingKey("reg::sip:a@b").has_value());
}

TEST_CASE("a registration event parked by a replica that died after its save is sent by another",
          "[nats]") {
  Fixture f;
  const bus::JsOutbound parked =
      SaveParked(f.a, f.Phone("sip:1001@10.0.0.11", 300s), f.clock.WallNow());
  // Replica a dies here, before publishing. Within a's lease the event is a's.
  CHECK(Sweep(f.b.sweeper) == 0);
  f.clock.Advance(31s);
  CHECK(Sweep(f.b.sweeper) == 1);
  auto event = f.registered.Wait<v1::Registered>(
      [](const v1::Registered& e, const bus::Message&) {
        return e.contact() == "sip:1001@10.0.0.11";
      },
      5s);
  REQUIRE(event.has_value());
  CHECK(event->meta().event_id() == parked.msg_id);  // a's event, under a's id: stored once
  CHECK(event->node_id() == "sig-a");
  CHECK(event->user_agent() == "parked-test");
  // Sent and unparked: no later sweep sends it again.
  f.clock.Advance(31s);
  CHECK(Sweep(f.a.sweeper) == 0);
  CHECK(WaitForCount<v1::Registered>(f.registered, 1) == 1);
}

TEST_CASE("a registration event its replica published is unparked and never sent again", "[nats]") {
  Fixture f;
  const bus::JsOutbound parked =
      SaveParked(f.a, f.Phone("sip:1001@10.0.0.12", 300s), f.clock.WallNow());
  std::vector<std::string> acked;
  REQUIRE(f.a.events.Send({parked}, &acked).ok());
  CHECK(acked == std::vector<std::string>{parked.msg_id});
  REQUIRE(f.a.outbox.Done(acked).ok());
  f.clock.Advance(31s);
  CHECK(Sweep(f.b.sweeper) == 0);
  CHECK(WaitForCount<v1::Registered>(f.registered, 1) == 1);
}

TEST_CASE("a keep-alive removal parks its event in the same step, and only when it removed",
          "[nats]") {
  Fixture f;
  const Binding live = f.Phone("sip:1001@10.0.0.13", 300s);
  REQUIRE(f.a.store.Save(kTenant, kAor, {}, {live}).ok());
  auto event = f.a.events.Messages(
      {ChangeOf(RegistrationChange::Kind::kKeepaliveFailed, kTenant, kAor, live)}, "");
  REQUIRE(event.ok());
  const auto report = f.a.outbox.ParkingOf(*event, f.clock.WallNow());

  // The phone registered again meanwhile (a new CSeq): nothing removed, nothing parked.
  Binding stale = live;
  stale.cseq = 0;
  auto kept = f.a.lapses.RemoveIfUnchanged(kTenant, kAor, {stale}, &report);
  REQUIRE(kept.ok());
  CHECK(*kept == 0);
  CHECK(f.a.store.Load(kTenant, kAor)->size() == 1);
  f.clock.Advance(31s);
  CHECK(f.b.outbox.Claim(f.clock.WallNow(), 10)->empty());

  // Removed, and replica a dies before publishing: b's sweep sends the parked event.
  auto removed = f.a.lapses.RemoveIfUnchanged(kTenant, kAor, {live}, &report);
  REQUIRE(removed.ok());
  CHECK(*removed == 1);
  CHECK(f.a.store.Load(kTenant, kAor)->empty());
  f.clock.Advance(31s);
  CHECK(Sweep(f.b.sweeper) == 1);
  auto sent = f.expired.Wait<v1::Unregistered>(
      [&](const v1::Unregistered& e, const bus::Message&) { return e.contact() == live.contact; },
      5s);
  REQUIRE(sent.has_value());
  CHECK(sent->reason() == v1::UNREGISTER_REASON_KEEPALIVE_FAILED);
  CHECK(sent->meta().event_id() == event->front().msg_id);
}

TEST_CASE("a parked message keeps its subject, id and binary body", "[nats]") {
  const bus::JsOutbound message{.message = {.subject = "sb.evt.registration.registered.t1",
                                            .data = std::string("\x08\n\x00\xff\n\n", 6)},
                                .msg_id = "0190d1d2-0000-7000-8000-0000000000cc"};
  auto back = DecodeParked(EncodeParked(message));
  REQUIRE(back.has_value());
  CHECK(back->message.subject == message.message.subject);
  CHECK(back->msg_id == message.msg_id);
  CHECK(back->message.data == message.message.data);
  CHECK_FALSE(DecodeParked("no newline at all").has_value());
  CHECK_FALSE(DecodeParked("\nid\nbody").has_value());
}

TEST_CASE("a call's events JetStream stores promptly are never parked", "[nats]") {
  Fixture f;
  core::MetricsRegistry metrics;
  ParkedEventJournal journal(f.a.outbox, f.clock, metrics,
                             core::Logger("signaling", core::LogLevel::kWarn));
  {
    CallEventSink sink(*f.a.bus, f.a.factory, f.clock, "sig-a", metrics,
                       core::Logger("signaling", core::LogLevel::kWarn), {}, &journal);
    auto call = CallOf("0190d1d2-0000-7000-8000-00000000c001");
    sink.Created(call);
    sink.Answered(call);
    f.clock.Advance(30s);
    call.cause = "normal";
    sink.Ended(call);
    sink.Flush();
  }
  CHECK(StoredEnded(f.nats.url(), 1).size() == 1);
  CHECK(ParkedCount(f.a) == 0);
  CHECK(metrics.Counter("sb_signaling_parked_event_failures_total", "").value() == 0);
  f.clock.Advance(31s);
  CHECK(Sweep(f.b.sweeper) == 0);
}

TEST_CASE(
    "a call's ended event JetStream never acknowledged outlives its replica - another replica's "
    "sweep stores it once, with its billable seconds",
    "[nats]") {
  Fixture f;
  core::MetricsRegistry metrics;
  ParkedEventJournal journal(f.a.outbox, f.clock, metrics,
                             core::Logger("signaling", core::LogLevel::kWarn));
  const std::string id = "0190d1d2-0000-7000-8000-00000000c002";
  {
    CallEventSink sink(*f.a.bus, f.a.factory, f.clock, "sig-a", metrics,
                       core::Logger("signaling", core::LogLevel::kWarn),
                       {.timeout = std::chrono::milliseconds(300)}, &journal);
    auto call = CallOf(id);
    sink.Created(call);
    f.clock.Advance(2s);
    sink.Answered(call);
    sink.Flush();
    CHECK(ParkedCount(f.a) == 0);

    // JetStream away when the call ends: the publish times out, the event stays parked, and
    // the replica dies (its outbox and memory gone).
    f.nats.Stop();
    f.clock.Advance(95s);
    call.cause = "normal";
    sink.Ended(call);
    sink.Flush();
    CHECK(metrics.Counter("sb_signaling_call_events_failed_total", "").value() == 1);
  }
  CHECK(ParkedCount(f.a) == 1);
  CHECK(metrics.Counter("sb_signaling_parked_event_failures_total", "").value() == 0);
  f.nats.Restart();

  // Within a's lease the event is a's; after it, b's sweep sends it.
  CHECK(Sweep(f.b.sweeper) == 0);
  f.clock.Advance(31s);
  CHECK(Sweep(f.b.sweeper) == 1);
  auto ended = StoredEnded(f.nats.url(), 1);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].call().call_id() == id);
  CHECK(ended[0].duration_ms() == 97'000);
  CHECK(ended[0].billable_seconds() == 95);
  CHECK(ended[0].call().from_uri() == "sip:1001@acme.sip.test");
  CHECK(ParkedCount(f.a) == 0);
  f.clock.Advance(31s);
  CHECK(Sweep(f.a.sweeper) == 0);
}

}  // namespace sb::signaling
