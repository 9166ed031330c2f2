// RedisNonceCountTracker: the digest nonce counts (sip::NonceCountTracker) in Redis, so a request
// replayed to another signaling replica is refused as surely as one replayed to the same replica.
// One key per nonce, <prefix>nonce:<nonce> = highest nc accepted, expiring with the nonce itself
// (PXAT its expiry), so the store holds only live nonces and needs no sweeping.
//
//   sb::signaling::RedisNonceCountTracker counts(redis);     // client prefix "signaling:"
//   sb::sip::DigestServer server(clock, random, counts, options);
//
// Each acceptance is one atomic command in Redis (a first count SET NX, a later one a
// compare-and-set Lua script): two replicas given the same nc at the same moment accept it once. An
// unreachable Redis is an error (the request then gets 503), never an acceptance. Thread-safe as
// the client is.
#pragma once

#include <string>
#include <string_view>

#include "switchboard/redis/client.h"
#include "switchboard/sip/digest_server.h"

namespace sb::signaling {

class RedisNonceCountTracker final : public sip::NonceCountTracker {
 public:
  explicit RedisNonceCountTracker(redis::Client& client) : client_(client) {}  // borrowed

  Result<bool> Accept(std::string_view nonce, uint32_t nc, core::Clock::WallTime expires) override;

  static std::string Key(std::string_view nonce);
  // Accept as a command to pipeline with others (on a client with this tracker's prefix), and
  // what its reply means.
  static redis::Command AcceptCommand(const sip::NonceUse& use);
  static Result<bool> AcceptReply(const Result<redis::Reply>& reply);

 private:
  redis::Client& client_;
};

}  // namespace sb::signaling
