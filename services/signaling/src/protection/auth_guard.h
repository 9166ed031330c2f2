// AuthGuard: the ban and the per-account limit (auth_failure_ban.h) applied around a digest
// check the same way for every request that authenticates (REGISTER at the registrar, INVITE at
// the B2BUA), so a password guesser gains nothing by switching methods. Handlers go through an
// Admission (admission.h), which sends the guard's checks to Redis in one pipeline with their own
// reads; the guard says which commands and what their replies mean:
//
//   sb::signaling::AuthGuard guard(&ban, &account_limit, log);
//   sb::signaling::Admission admission(redis, guard, source.host);   // queues the ban check
//   ... find the presented credentials ...
//   admission.CountAccount(realm, user);                               // queues the count
//   ... verify ...
//   if (auto refused = admission.Send()) return *refused;   // 403 banned, 503 + Retry-After
//   guard.Record(source.host, decision.failure);
//
// A Redis error fails closed (503). Thread-safe as the ban and the limit are; either may be
// absent (nullptr).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protection/auth_failure_ban.h"
#include "protection/clear_sources.h"
#include "switchboard/core/logger.h"

namespace sb::signaling {

struct AuthRefusal {
  int code = 503;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
};

class AuthGuard {
 public:
  // All borrowed. With `clear`, sources Redis says are not banned are marked in it and a
  // failure or a ban forgets them (clear_sources.h).
  AuthGuard(AuthFailureBan* ban, AccountRateLimit* account_limit, const core::Logger& log,
            ClearSources* clear = nullptr)
      : ban_(ban), account_limit_(account_limit), log_(log), clear_(clear) {}

  // The source's ban check (nullopt without a ban), and its answer: 403 "Forbidden (banned)"
  // for a banned source. Marks the source clear, or forgets it, by the reply.
  std::optional<redis::Command> SourceCommand(std::string_view source_ip) const;
  std::optional<AuthRefusal> SourceRefusal(std::string_view source_ip,
                                           const Result<redis::Reply>& reply) const;
  // The account's count (none without a limit; not counted while the source is banned), and
  // its answer: 503 with Retry-After when the account is over its limit in this window. The
  // first command counts (AccountRefusal reads its reply); a reply to any other only fails
  // (KeptRefusal: 503). A source known clear (KnownClear) is counted without the ban condition,
  // by plain commands: Redis's scripts cost about three times as much. Only a ban another
  // replica set less than ClearSources' ttl ago, for a source that has failed nothing here since,
  // lets its requests count against the account meanwhile (still refused: the ban is checked).
  std::vector<redis::Command> AccountCommands(std::string_view realm, std::string_view user,
                                              std::string_view source_ip) const;
  std::optional<AuthRefusal> AccountRefusal(const Result<redis::Reply>& reply) const;
  std::optional<AuthRefusal> KeptRefusal(const Result<redis::Reply>& reply) const;
  // Counts a failed authentication of the source (a guess); bans it at the policy's count.
  void Record(std::string_view source_ip, bool failure) const;
  // True when the ban check found the source not banned moments ago (clear_sources.h), so that a
  // request which can only be challenged is answered, and a trunk's INVITE taken, without Redis.
  // Never blocks.
  bool KnownClear(std::string_view source_ip) const;

 private:
  AuthFailureBan* ban_;
  AccountRateLimit* account_limit_;
  const core::Logger& log_;
  ClearSources* clear_;
};

}  // namespace sb::signaling
