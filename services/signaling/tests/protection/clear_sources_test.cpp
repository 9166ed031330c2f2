// ClearSources on a FakeClock: a source is known clear for the TTL after it was marked, never
// after a failure or a ban forgot it, and the table stays within its bound.
#include "protection/clear_sources.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "switchboard/core/clock.h"

using namespace std::chrono_literals;
using sb::signaling::ClearSources;

TEST_CASE("a source marked clear is known clear for the TTL only", "[unit]") {
  sb::core::FakeClock clock;
  ClearSources clear(clock, 2s);
  CHECK_FALSE(clear.IsKnownClear("192.0.2.7"));
  clear.MarkClear("192.0.2.7");
  CHECK(clear.IsKnownClear("192.0.2.7"));
  CHECK_FALSE(clear.IsKnownClear("192.0.2.8"));
  clock.Advance(1999ms);
  CHECK(clear.IsKnownClear("192.0.2.7"));
  clock.Advance(1ms);
  CHECK_FALSE(clear.IsKnownClear("192.0.2.7"));
  // Marked again by the next check that went to Redis.
  clear.MarkClear("192.0.2.7");
  CHECK(clear.IsKnownClear("192.0.2.7"));
}

TEST_CASE("a forgotten source is not known clear until Redis is asked again", "[unit]") {
  sb::core::FakeClock clock;
  ClearSources clear(clock, 2s);
  clear.MarkClear("192.0.2.7");
  clear.Forget("192.0.2.7");  // a failed authentication, or a ban seen
  CHECK_FALSE(clear.IsKnownClear("192.0.2.7"));
  clear.Forget("198.51.100.1");  // unknown: nothing happens
  CHECK(clear.size() == 0);
}

TEST_CASE("the table stays within its bound and a zero TTL keeps nothing", "[unit]") {
  sb::core::FakeClock clock;
  ClearSources clear(clock, 2s, 3);
  clear.MarkClear("10.0.0.1");
  clear.MarkClear("10.0.0.2");
  clear.MarkClear("10.0.0.3");
  clear.MarkClear("10.0.0.3");  // a refresh does not need room
  CHECK(clear.size() == 3);
  clear.MarkClear("10.0.0.4");
  CHECK(clear.size() == 1);
  CHECK(clear.IsKnownClear("10.0.0.4"));
  CHECK_FALSE(clear.IsKnownClear("10.0.0.1"));

  ClearSources off(clock, 0ms);
  off.MarkClear("10.0.0.1");
  CHECK_FALSE(off.IsKnownClear("10.0.0.1"));
}
