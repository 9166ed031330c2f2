// Per-key request budget for the admin API. Production: RedisRateLimiter (cache/), shared by all
// replicas, so a key's budget does not grow with the number of replicas.
#pragma once

#include "domain/model.h"
#include "switchboard/core/status.h"

namespace sb::admin {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // OK while the key is within its budget, RESOURCE_EXHAUSTED past it. Fails open (OK) when the
  // limiter's store cannot be reached: losing the admin API with Redis is worse than a burst.
  // Thread-safe.
  virtual Status Admit(const ApiKeyId& key) = 0;
};

}  // namespace sb::admin
