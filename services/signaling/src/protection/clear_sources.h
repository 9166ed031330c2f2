// ClearSources: the source addresses this node asked Redis about recently and found not banned,
// so that a request which can only be challenged (a REGISTER without credentials) is answered on
// the SIP loop without a Redis round trip or a worker. A failed authentication from a source, or
// a ban seen for it, forgets it: its next request asks Redis again.
//
//   sb::signaling::ClearSources clear(clock, std::chrono::seconds(2));
//   AuthGuard guard(&ban, &limit, log, &clear);   // ban checks mark, failures forget
//   if (clear.IsKnownClear("192.0.2.7")) ... challenge on the loop ...
//
// What this trades: a ban another replica sets is seen here within `ttl` for challenges only;
// every request that carries credentials still asks Redis, so a banned source gets nothing but a
// challenge. Thread-safe; at most `max_entries` addresses (beyond, all are forgotten).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "switchboard/core/clock.h"
#include "switchboard/core/string_map.h"

namespace sb::signaling {

class ClearSources {
 public:
  ClearSources(const core::Clock& clock, std::chrono::milliseconds ttl, size_t max_entries = 100000)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  void MarkClear(std::string_view source_ip);
  void Forget(std::string_view source_ip);
  bool IsKnownClear(std::string_view source_ip) const;
  size_t size() const;

 private:
  const core::Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  core::StringMap<core::Clock::TimePoint> until_;
};

}  // namespace sb::signaling
