#include "switchboard/bus/envelope.h"

#include <catch2/catch.hpp>

#include "switchboard/bus/idempotency.h"

using namespace std::chrono_literals;

TEST_CASE("a new event meta has a UUIDv7 id, the tenant, the clock's time and its type", "[unit]") {
  sb::core::FakeClock clock;  // 2026-01-01T00:00:00Z
  clock.Advance(1500ms);
  sb::core::UuidV7Generator ids(clock, 7);
  sb::bus::EventFactory events(clock, ids, "billing/node-1");
  auto meta = events.NewMeta(sb::TenantId("t-1"), "call", "answered", "call-42");
  REQUIRE(meta.ok());
  CHECK(sb::core::IsUuid(meta->event_id()));
  CHECK(meta->event_id()[14] == '7');
  CHECK(meta->tenant_id() == "t-1");
  CHECK(meta->type() == "call.answered");
  CHECK(meta->correlation_id() == "call-42");
  CHECK(meta->source() == "billing/node-1");
  CHECK(meta->occurred_at().seconds() == 1767225601);
  CHECK(meta->occurred_at().nanos() == 500'000'000);
  CHECK(*sb::bus::EventSubjectFor(*meta) == "sb.evt.call.answered.t-1");
  CHECK(sb::bus::ValidateMeta(*meta).ok());
}

TEST_CASE("event ids are unique and ordered by time", "[unit]") {
  sb::core::FakeClock clock;
  sb::core::UuidV7Generator ids(clock, 1);
  sb::bus::EventFactory events(clock, ids, "test");
  std::string last;
  for (int i = 0; i < 100; ++i) {
    auto meta = events.NewMeta(sb::TenantId("t"), "call", "created");
    REQUIRE(meta.ok());
    CHECK(meta->event_id() > last);
    last = meta->event_id();
  }
}

TEST_CASE("an event meta for a bad tenant or type is refused", "[unit]") {
  sb::core::FakeClock clock;
  sb::core::UuidV7Generator ids(clock, 1);
  sb::bus::EventFactory events(clock, ids, "test");
  CHECK(events.NewMeta(sb::TenantId("a.b"), "call", "created").status().field() == "tenant_id");
  CHECK(events.NewMeta(sb::TenantId("t"), "call.x", "created").status().field() == "domain");
  CHECK(events.NewMeta(sb::TenantId(""), "call", "created").status().code() ==
        sb::StatusCode::kInvalidArgument);
}

TEST_CASE("a received meta is validated before it is trusted", "[unit]") {
  switchboard::common::v1::EventMeta meta;
  meta.set_event_id("not-a-uuid");
  meta.set_tenant_id("t");
  meta.set_type("call.answered");
  CHECK(sb::bus::ValidateMeta(meta).field() == "event_id");
  meta.set_event_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  CHECK(sb::bus::ValidateMeta(meta).ok());
  meta.set_type("answered");
  CHECK(sb::bus::ValidateMeta(meta).field() == "type");
  CHECK(!sb::bus::EventSubjectFor(meta).ok());
}

TEST_CASE("processed events: the first mark wins, duplicates are reported, per consumer",
          "[unit]") {
  sb::bus::InMemoryProcessedEvents processed;
  const sb::EventId id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  CHECK(*processed.MarkProcessed("billing", id));
  CHECK_FALSE(*processed.MarkProcessed("billing", id));
  CHECK(*processed.IsProcessed("billing", id));
  CHECK_FALSE(*processed.IsProcessed("webhook", id));
  CHECK(*processed.MarkProcessed("webhook", id));
  CHECK(!processed.MarkProcessed("billing", sb::EventId("")).ok());
}

TEST_CASE("processed events forget the oldest beyond their capacity", "[unit]") {
  sb::bus::InMemoryProcessedEvents processed(2);
  CHECK(*processed.MarkProcessed("c", sb::EventId("1")));
  CHECK(*processed.MarkProcessed("c", sb::EventId("2")));
  CHECK(*processed.MarkProcessed("c", sb::EventId("3")));
  CHECK(processed.size() == 2);
  CHECK_FALSE(*processed.IsProcessed("c", sb::EventId("1")));
  CHECK(*processed.IsProcessed("c", sb::EventId("3")));
}
