// SourceRateLimiter: a token bucket per source IP address, so one flooding address cannot take
// the node's capacity from the other phones. Messages over the rate are dropped unanswered
// (answering a flood amplifies it). Time comes from the injected Clock.
//
//   sb::signaling::SourceRateLimiter limiter(clock, {.per_second = 50, .burst = 100});
//   if (!limiter.Allow(source.host)) return;   // dropped
//
// This is the per-replica first line; the shared, Redis-backed ban after repeated
// authentication failures belongs with the registrar. Memory is bounded by max_sources: when
// full, buckets that have refilled completely (idle sources) are forgotten first, and when none
// has, new sources are refused until one does. Thread-safety: none (the event loop owns it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "switchboard/core/clock.h"

namespace sb::signaling {

struct SourceLimits {
  uint32_t per_second = 0;  // 0: no limit
  uint32_t burst = 0;       // bucket size; 0 means per_second
  size_t max_sources = 100000;
};

class SourceRateLimiter {
 public:
  SourceRateLimiter(const core::Clock& clock, SourceLimits limits);

  // Whether one more message from `source` may be processed now (and takes its token).
  bool Allow(std::string_view source);
  size_t tracked() const { return buckets_.size(); }
  bool enabled() const { return limits_.per_second != 0; }

 private:
  struct Bucket {
    int64_t milli_tokens;  // thousandths of a token: integer refill without drift
    core::Clock::TimePoint updated;
  };
  void Refill(Bucket& bucket, core::Clock::TimePoint now) const;
  bool EvictIdle(core::Clock::TimePoint now);

  const core::Clock& clock_;
  SourceLimits limits_;
  int64_t capacity_milli_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace sb::signaling
