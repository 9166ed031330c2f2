#include "cache/redis_rate_limiter.h"

#include <chrono>

namespace sb::admin {

Status RedisRateLimiter::Admit(const ApiKeyId& key) {
  static const redis::Script kCount(
      "local n = redis.call('INCR', KEYS[1]) "
      "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
      "return n");
  // Window index from the injected wall clock, so tests move a FakeClock into the next window.
  const int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch()).count();
  auto reply = redis_.Eval(kCount, {"rl:" + key.str() + ":" + std::to_string(second)}, {"2000"});
  if (!reply.ok()) {
    log_.Warn("rate limiter unavailable, admitting", {{"error", reply.status().message()}});
    return Status::Ok();
  }
  auto n = reply->integer();
  if (n && *n > per_second_) {
    return Status::ResourceExhausted("rate limit of " + std::to_string(per_second_) +
                                     " requests per second for this API key exceeded; retry");
  }
  return Status::Ok();
}

}  // namespace sb::admin
