// Clock: the one source of time for state machines and services, injected so that tests move a
// FakeClock instead of sleeping (SIP timer B is 32 s of fake time, not of wall time).
//
//   sb::core::FakeClock clock;
//   Transaction t(clock, ...);
//   clock.Advance(std::chrono::seconds(32));
//
// Now() is monotonic (timers, timeouts); WallNow() is calendar time (timestamps, ids).
// Both are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>

namespace sb::core {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
};

// Starts at a fixed wall time (2026-01-01T00:00:00Z) unless told otherwise; Advance moves both
// clocks together.
class FakeClock final : public Clock {
 public:
  FakeClock() : FakeClock(WallTime(std::chrono::seconds(1767225600))) {}
  explicit FakeClock(WallTime start) : steady_ns_(0), wall_ns_(start.time_since_epoch().count()) {}

  TimePoint Now() const override { return TimePoint(Duration(steady_ns_.load())); }
  WallTime WallNow() const override {
    return WallTime(std::chrono::system_clock::duration(wall_ns_.load()));
  }
  void Advance(Duration d) {
    steady_ns_ += d.count();
    wall_ns_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
  }

 private:
  std::atomic<int64_t> steady_ns_;
  std::atomic<int64_t> wall_ns_;
};

}  // namespace sb::core
