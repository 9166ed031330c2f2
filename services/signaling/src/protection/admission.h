// Admission: the Redis side of admitting one request that authenticates (a REGISTER, an INVITE),
// in as few round trips as the request allows. The handler queues each Redis check where the
// request meets it (the source's ban first, the account's count once credentials are found, then
// its own reads, such as the AOR's bindings) and sends them together, in one
// pipeline, when it has its answer or must block on admin anyway; so a request whose admin
// answers are cached costs one round trip, and a banned source or a limited account is still
// refused before admin is asked.
//
//   sb::signaling::Admission admission(redis, guard, source.host);     // queues the ban check
//   if (realm.empty()) {                                               // an answer without Redis:
//     if (auto refused = admission.Send()) return *refused;          //   a refusal still wins
//     return Answer(400);
//   }
//   admission.CountAccount(realm, user);
//   AuthDecision decision = authenticator.Verify(request, realm, presented, looked_up);  // no I/O
//   size_t stored = admission.Queue(RedisBindingStore::LoadCommand(tenant, aor));
//   if (auto refused = admission.Send()) return *refused;   // the one round trip
//   guard.Record(source.host, decision.failure);
//
// Precedence is the order of the checks: a refusal from a check sent earlier wins over everything
// after it (banned 403, then the account's 503), and the handler's own answer comes after both.
// One Admission per request, on the thread handling it; `redis` must be the client the guard's
// ban and limit use (or a connection to the same server, for SendAsync).
//
// On an event loop, SendAsync sends the same pipeline without blocking (a redis::LoopConnection)
// and hands the same refusal to a callback on that loop; the admission must outlive the callback:
//
//   admission.SendAsync(send_on_loop, [state](std::optional<AuthRefusal> refused) { ... });
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protection/auth_guard.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

// Sends a pipeline without blocking; the callback gets its replies later, on the caller's thread
// (runtime/loop_redis.h).
using SendPipeline = std::function<void(std::vector<redis::Command>,
                                        std::function<void(Result<std::vector<redis::Reply>>)>)>;

class Admission {
 public:
  // Borrowed: both outlive the admission. Queues the source's ban check.
  Admission(redis::Client& redis, const AuthGuard& guard, std::string source_ip);

  // Queues the account's count (AuthGuard::AccountCommands).
  void CountAccount(std::string_view realm, std::string_view user);
  // Queues one of the handler's own commands; the index for reply().
  size_t Queue(redis::Command command);

  // Sends everything queued since the last Send in one pipeline (nothing queued: nothing sent)
  // and returns the first refusal among the guard's checks in it (a Redis error: 503).
  std::optional<AuthRefusal> Send();
  // Send through `send`; `then` gets what Send would return. Nothing queued: `then` runs now.
  void SendAsync(const SendPipeline& send, std::function<void(std::optional<AuthRefusal>)> then);
  // The reply to Queue's command once sent; the connection's error when its pipeline failed.
  const Result<redis::Reply>& reply(size_t index) const { return replies_.at(index); }

 private:
  enum class Kind { kSource, kAccount, kAccountKept, kOwn };
  void Enqueue(redis::Command command, Kind kind);
  // Keeps a sent pipeline's replies (`kinds` of its commands) and reads the guard's.
  std::optional<AuthRefusal> Received(const std::vector<Kind>& kinds,
                                      Result<std::vector<redis::Reply>> sent);

  redis::Client& redis_;
  const AuthGuard& guard_;
  const std::string source_ip_;
  std::vector<redis::Command> queued_;         // not sent yet
  std::vector<Kind> kinds_;                    // of queued_
  std::vector<Result<redis::Reply>> replies_;  // one per sent command
};

}  // namespace sb::signaling
