// An in-process cache of lookup replies in front of Redis (cache/lookup_cache.h), so that a warm
// lookup costs no network round trip besides NATS. Shared by all lookup workers of a replica.
//
// Bounded (max_entries: at the limit an insert first drops the smallest key), each entry lives at
// most `ttl` (time from the injected clock), and it is invalidated by the same calls as Redis:
// on this replica right after a mutation and on every replica from the JetStream events. A fill
// that raced with an invalidation is not stored: callers take a generation before reading the
// source and Put() ignores the value if any invalidation happened since.
//
//   LocalLookupCache local(clock, {.max_entries = 100000, .ttl = std::chrono::seconds(10)});
//   const uint64_t gen = local.Generation();
//   if (auto hit = local.Get(key)) return *hit;
//   local.Put(key, Compute(), gen);
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "switchboard/core/clock.h"

namespace sb::admin {

struct LocalCacheOptions {
  size_t max_entries = 100000;
  std::chrono::milliseconds ttl{10000};
};

class LocalLookupCache {
 public:
  LocalLookupCache(const core::Clock& clock, LocalCacheOptions options)
      : clock_(clock), options_(options) {}

  std::optional<std::string> Get(const std::string& key) const;
  uint64_t Generation() const;
  // Stores unless an invalidation happened after `generation` was taken.
  void Put(const std::string& key, std::string_view bytes, uint64_t generation);

  void Forget(const std::string& key);
  void ForgetPrefix(std::string_view prefix);
  void ForgetAll();
  size_t size() const;

 private:
  struct Entry {
    std::string bytes;
    core::Clock::TimePoint expires;
  };
  const core::Clock& clock_;
  const LocalCacheOptions options_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  uint64_t generation_ = 0;
};

}  // namespace sb::admin
