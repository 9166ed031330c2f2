#include "switchboard/core/ids.h"

#include <catch2/catch.hpp>
#include <set>

TEST_CASE("UUIDv7 ids are canonical, version 7, variant 10", "[unit]") {
  sb::core::FakeClock clock;
  sb::core::UuidV7Generator ids(clock, 42);
  const std::string id = ids.Next();
  CHECK(sb::core::IsUuid(id));
  CHECK(id[14] == '7');
  CHECK(std::string("89ab").find(id[19]) != std::string::npos);
}

TEST_CASE("UUIDv7 ids sort by creation time, even many within one millisecond", "[unit]") {
  sb::core::FakeClock clock;
  sb::core::UuidV7Generator ids(clock, 1);
  std::string last;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    if (i % 1000 == 0) clock.Advance(std::chrono::milliseconds(1));
    std::string id = ids.Next();
    CHECK(id > last);
    seen.insert(id);
    last = id;
  }
  CHECK(seen.size() == 10000);
}

TEST_CASE("the first 48 bits are the wall clock in milliseconds", "[unit]") {
  sb::core::FakeClock clock;  // starts at 2026-01-01T00:00:00Z
  sb::core::UuidV7Generator ids(clock, 7);
  const std::string id = ids.Next();
  const uint64_t ms = std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
  CHECK(ms == 1767225600000ULL);
}

TEST_CASE("strong ids of different kinds are different types", "[unit]") {
  sb::TenantId t{"a"};
  sb::CallId c{"a"};
  STATIC_REQUIRE(!std::is_convertible_v<sb::TenantId, sb::CallId>);
  CHECK(t.str() == c.str());
  CHECK(sb::TenantId{"a"} < sb::TenantId{"b"});
}

TEST_CASE("IsUuid accepts only the canonical form", "[unit]") {
  CHECK(sb::core::IsUuid("0190f1a2-7b3c-7def-8123-456789abcdef"));
  CHECK_FALSE(sb::core::IsUuid("0190f1a27b3c7def8123456789abcdef"));
  CHECK_FALSE(sb::core::IsUuid("0190f1a2-7b3c-7def-8123-456789abcdeg"));
  CHECK_FALSE(sb::core::IsUuid(""));
}
