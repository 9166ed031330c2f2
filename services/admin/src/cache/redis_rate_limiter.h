// RateLimiter on Redis: a fixed one-second window per API key, counted with one atomic script
// call (INCR and, on the window's first request, PEXPIRE), shared by every admin replica.
//
//   RedisRateLimiter limiter(redis, clock, /*per_second=*/50, log);
#pragma once

#include "domain/rate_limit.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/redis/client.h"

namespace sb::admin {

class RedisRateLimiter final : public RateLimiter {
 public:
  RedisRateLimiter(redis::Client& redis, const core::Clock& clock, int64_t per_second,
                   const core::Logger& log)
      : redis_(redis), clock_(clock), per_second_(per_second), log_(log) {}
  Status Admit(const ApiKeyId& key) override;

 private:
  redis::Client& redis_;
  const core::Clock& clock_;
  const int64_t per_second_;
  const core::Logger& log_;
};

}  // namespace sb::admin
