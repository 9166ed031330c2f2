#include "protection/source_rate_limiter.h"

#include <algorithm>
#include <vector>

namespace sb::signaling {

SourceRateLimiter::SourceRateLimiter(const core::Clock& clock, SourceLimits limits)
    : clock_(clock),
      limits_(limits),
      capacity_milli_(int64_t{limits.burst != 0 ? limits.burst : limits.per_second} * 1000) {}

void SourceRateLimiter::Refill(Bucket& bucket, core::Clock::TimePoint now) const {
  auto elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now - bucket.updated).count();
  if (elapsed_us <= 0) return;
  // per_second tokens per 1e6 us = per_second milli-tokens per 1000 us.
  int64_t gained = elapsed_us * limits_.per_second / 1000;
  if (gained == 0) return;  // keep `updated` so that small steps accumulate
  bucket.milli_tokens = std::min(capacity_milli_, bucket.milli_tokens + gained);
  bucket.updated = now;
}

bool SourceRateLimiter::EvictIdle(core::Clock::TimePoint now) {
  std::vector<std::string> idle;
  for (auto& [source, bucket] : buckets_) {
    Refill(bucket, now);
    if (bucket.milli_tokens >= capacity_milli_) idle.push_back(source);
  }
  for (const auto& source : idle) buckets_.erase(source);
  return !idle.empty();
}

bool SourceRateLimiter::Allow(std::string_view source) {
  if (!enabled()) return true;
  const auto now = clock_.Now();
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limits_.max_sources && !EvictIdle(now)) return false;
    it = buckets_.emplace(std::string(source), Bucket{capacity_milli_, now}).first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now);
  if (bucket.milli_tokens < 1000) return false;
  bucket.milli_tokens -= 1000;
  return true;
}

}  // namespace sb::signaling
