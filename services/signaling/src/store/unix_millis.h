// Wall-clock times as Redis holds them: whole milliseconds since the Unix epoch (the unit of
// PEXPIREAT, and of the numbers the stores' scripts compare).
//
//   const int64_t due = UnixMillis(now + lease);
//   WallTime expires = FromUnixMillis(stored_ms);
#pragma once

#include <chrono>
#include <cstdint>

#include "switchboard/core/clock.h"

namespace sb::signaling {

inline int64_t UnixMillis(core::Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline core::Clock::WallTime FromUnixMillis(int64_t ms) {
  return core::Clock::WallTime(std::chrono::milliseconds(ms));
}

}  // namespace sb::signaling
