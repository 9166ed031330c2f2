#include "store/redis_nonce_store.h"

#include <chrono>

namespace sb::signaling {
namespace {

// KEYS[1] nonce key, ARGV[1] nc, ARGV[2] expiry in unix ms. 1 accepted, 0 replay.
const redis::Script kAccept(R"lua(
local seen = redis.call('GET', KEYS[1])
if seen and tonumber(seen) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1
)lua");

}  // namespace

std::string RedisNonceCountTracker::Key(std::string_view nonce) {
  return "nonce:" + std::string(nonce);
}

Result<bool> RedisNonceCountTracker::Accept(std::string_view nonce, uint32_t nc,
                                            core::Clock::WallTime expires) {
  return AcceptReply(
      client_.Run(AcceptCommand({.nonce = std::string(nonce), .nc = nc, .expires = expires})));
}

redis::Command RedisNonceCountTracker::AcceptCommand(const sip::NonceUse& use) {
  const int64_t expires_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(use.expires.time_since_epoch()).count();
  if (use.nc == 1) {
    // A nonce's first count, nearly every use (a phone answers each challenge once): accepted
    // exactly when no count is stored (counts start at 1), so SET NX decides it as the script
    // would, at about a third of its cost in Redis (2.2 against 7-8 us a call; bench/RESULTS.md,
    // session 11).
    return std::move(redis::Command("SET")
                         .Key(Key(use.nonce))
                         .Arg("1")
                         .Arg("NX")
                         .Arg("PXAT")
                         .Arg(std::to_string(expires_ms)));
  }
  return redis::Command::Eval(kAccept, {Key(use.nonce)},
                              {std::to_string(use.nc), std::to_string(expires_ms)});
}

Result<bool> RedisNonceCountTracker::AcceptReply(const Result<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  // SET NX: OK when set, nil when a count was there; the script: 1 or 0.
  if (reply->is_nil()) return false;
  if (const std::string* status = reply->str()) {
    if (*status == "OK") return true;
  } else if (auto accepted = reply->integer()) {
    return *accepted == 1;
  }
  return Status::Internal("unexpected reply to a nonce count");
}

}  // namespace sb::signaling
