// Protection against password guessing, shared by every signaling replica through Redis:
//
//   - AuthFailureBan: a source IP that fails digest authentication `max_failures` times within
//     `window` is banned for `ban_for`. Keys expire by themselves, so a ban lifts without any
//     sweeper and a source that stops failing is forgotten.
//   - AccountRateLimit: at most `max_requests` authenticated requests per account (realm + user)
//     per fixed `window`, whichever IPs they come from, so a guesser spread over many addresses
//     is still slowed down on the account it targets.
//
//   sb::signaling::AuthFailureBan ban(redis, {.max_failures = 10});
//   if (*ban.IsBanned("192.0.2.7")) return Respond(403);     // blocking: run it offloaded
//   ... authenticate ...
//   if (decision.failure) ban.RecordFailure("192.0.2.7");
//
// Banned sources are answered 403 by the handler, after parsing, not dropped before it: the ban
// lives in Redis (shared by replicas) and asking Redis for every datagram on the SIP loop thread
// would stall the loop; the per-source token bucket in front of the parser
// (source_rate_limiter.h) already caps what a flood costs, and the 403 tells a misconfigured
// phone why it is refused. Redis errors are returned: callers fail closed with 503.
// Thread-safe as the client is.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

struct BanPolicy {
  int64_t max_failures = 10;
  std::chrono::milliseconds window{std::chrono::minutes(5)};
  std::chrono::milliseconds ban_for{std::chrono::minutes(15)};
};

class AuthFailureBan {
 public:
  AuthFailureBan(redis::Client& client, BanPolicy policy) : client_(client), policy_(policy) {}

  Result<bool> IsBanned(std::string_view source_ip);
  // IsBanned as a command to pipeline with others, and what its reply means.
  static redis::Command IsBannedCommand(std::string_view source_ip);
  static Result<bool> IsBannedReply(const Result<redis::Reply>& reply);
  // Counts one failure; returns true when this failure banned the source.
  Result<bool> RecordFailure(std::string_view source_ip);
  Status Lift(std::string_view source_ip);  // an operator's unban

  static std::string BanKey(std::string_view source_ip);
  static std::string FailuresKey(std::string_view source_ip);

 private:
  redis::Client& client_;
  BanPolicy policy_;
};

struct AccountLimitPolicy {
  int64_t max_requests = 60;  // 0: no limit
  std::chrono::milliseconds window{std::chrono::minutes(1)};
  // Counters of different request kinds (REGISTER, INVITE) are kept apart: a busy caller does
  // not lock its phone out of registering.
  std::string counter = "acctrate";
};

class AccountRateLimit {
 public:
  AccountRateLimit(redis::Client& client, AccountLimitPolicy policy)
      : client_(client), policy_(policy) {}

  // Counts one request of the account; false when it is over the limit in this window.
  Result<bool> Allow(std::string_view realm, std::string_view user);
  // Allow as commands to pipeline with others (none: no limit, always allowed). The first
  // counts, and AllowReply says what its reply means; any others only keep the count's window
  // (KeptReply: an error reply is a failure). With `unless_exists` (a source's ban key), a
  // request is not counted while that key exists: a banned source, refused anyway, cannot use up
  // the account's allowance. That takes a script; without it, two plain commands do the same at
  // under a third of the script's cost in Redis (INCR, then PEXPIRE NX: Redis 7.0 or later).
  std::vector<redis::Command> AllowCommands(std::string_view realm, std::string_view user,
                                            std::string_view unless_exists = {}) const;
  Result<bool> AllowReply(const Result<redis::Reply>& reply) const;
  static Status KeptReply(const Result<redis::Reply>& reply);

 private:
  redis::Client& client_;
  AccountLimitPolicy policy_;
};

}  // namespace sb::signaling
