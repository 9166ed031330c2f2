// Per-source token buckets on a FakeClock: burst, refill, independence of sources, bounded
// memory.
#include "protection/source_rate_limiter.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sb::signaling::SourceLimits;
using sb::signaling::SourceRateLimiter;

TEST_CASE("a source gets its burst / then its rate -- other sources are untouched", "[unit]") {
  sb::core::FakeClock clock;
  SourceLimits limits;
  limits.per_second = 2;
  limits.burst = 3;
  SourceRateLimiter limiter(clock, limits);
  CHECK(limiter.Allow("127.0.0.10"));
  CHECK(limiter.Allow("127.0.0.10"));
  CHECK(limiter.Allow("127.0.0.10"));
  CHECK_FALSE(limiter.Allow("127.0.0.10"));
  CHECK(limiter.Allow("127.0.0.11"));  // its own bucket

  clock.Advance(250ms);  // half a token
  CHECK_FALSE(limiter.Allow("127.0.0.10"));
  clock.Advance(250ms);  // the second half: one token
  CHECK(limiter.Allow("127.0.0.10"));
  CHECK_FALSE(limiter.Allow("127.0.0.10"));

  clock.Advance(10s);  // refills to the burst, never beyond
  for (int i = 0; i < 3; ++i) CHECK(limiter.Allow("127.0.0.10"));
  CHECK_FALSE(limiter.Allow("127.0.0.10"));
}

TEST_CASE("without a rate every message is allowed", "[unit]") {
  sb::core::FakeClock clock;
  SourceRateLimiter limiter(clock, SourceLimits{});
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.Allow("127.0.0.10"));
  CHECK(limiter.tracked() == 0);
}

TEST_CASE("memory is bounded: idle sources are forgotten / busy ones are kept", "[unit]") {
  sb::core::FakeClock clock;
  SourceLimits limits;
  limits.per_second = 1;
  limits.burst = 1;
  limits.max_sources = 2;
  SourceRateLimiter limiter(clock, limits);
  CHECK(limiter.Allow("a"));
  CHECK(limiter.Allow("b"));
  // Both buckets are empty: a third source waits rather than erase a live limit.
  CHECK_FALSE(limiter.Allow("c"));
  CHECK(limiter.tracked() == 2);
  clock.Advance(1s);  // both refilled: idle, so they may go
  CHECK(limiter.Allow("c"));
  CHECK(limiter.tracked() == 1);
}
