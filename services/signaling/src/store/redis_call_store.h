// RedisCallStore: the B2BUA's answered calls in Redis (b2bua::CallStore), so that any replica can
// end a call whose node died: a BYE for a dialog it never saw, or a hangup command, finds both
// dialogs here and BYEs the other side. A call ringing for a while is here too, with its INVITEs
// and no dialog keys, for the adopter to cancel and answer. Keys (under the client's prefix, e.g.
// "signaling:"):
//   call:<call_id>                      the StoredCall, fields separated by \x1f (unit separator)
//   dialog:<sip_call_id>:<local_tag>    -> call_id, one per dialog (caller's and callee's side)
//   node_calls:<node_id>                the ids of the calls that node instance carries
//                                       (store/redis_call_owners.h: adopted when it dies)
// all expiring after `ttl` (refreshed by every Save), so a call nobody ended cannot linger for
// ever. A call is saved at its answer with its answered event, and leaves with its ended event,
// each in one MULTI/EXEC that parks the event in the event outbox (store/redis_event_outbox.h)
// until the stream has it: a replica killed before such a step leaves the call as it was (for
// adoption), one killed after it leaves the event for a sweep. A call that ends unanswered leaves
// with its ended event as well when its ringing was saved; one that was never saved has its
// ended event parked on its own (KeepOnLoop).
//
//   sb::signaling::RedisCallStore store(redis, std::chrono::hours(12), outbox, clock);
//   store.Save(call, &answered);                         // answered: CallEvents::PrepareAnswered
//   auto found = store.FindByDialog("a84b4c76e6", "9fxced76sl");   // on another replica
//   store.Remove(call, &ended);                          // ended: CallEvents::PrepareEnded
//
// Thread-safe as the client is; each method blocks on Redis (run it offloaded), except
// SaveOnLoop and RemoveOnLoop, which a store given the loop's Redis connection sends from the SIP
// loop.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "b2bua/ports.h"
#include "runtime/loop_redis.h"
#include "store/redis_event_outbox.h"
#include "switchboard/core/clock.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

class RedisCallStore final : public b2bua::CallStore {
 public:
  // `loop` (may be null: no SaveOnLoop / RemoveOnLoop) is the SIP loop's connection to the same
  // Redis, with the same key prefix as `client`; `events` parks ended events there, due after
  // its lease from `clock`'s now. All borrowed.
  RedisCallStore(redis::Client& client, std::chrono::seconds ttl, const RedisEventOutbox& events,
                 const core::Clock& clock, LoopRedis* loop = nullptr)
      : client_(client), ttl_(ttl), events_(events), clock_(clock), loop_(loop) {}

  Status Save(const b2bua::StoredCall& call, const b2bua::PreparedEvent* answered) override;
  Result<b2bua::StoredCall> FindByDialog(std::string_view sip_call_id,
                                         std::string_view local_tag) override;
  Result<b2bua::StoredCall> Find(std::string_view call_id) override;
  Status Remove(const b2bua::StoredCall& call, const b2bua::PreparedEvent* ended) override;
  bool works_on_loop() const override { return loop_ != nullptr; }
  void SaveOnLoop(const b2bua::StoredCall& call, const b2bua::PreparedEvent* answered,
                  Done done) override;
  void RemoveOnLoop(const b2bua::StoredCall& call, const b2bua::PreparedEvent* ended,
                    Done done) override;
  void KeepOnLoop(const b2bua::PreparedEvent& event, Done done) override;

  // The stored form, exposed for tests of its round trip.
  static std::string Encode(const b2bua::StoredCall& call);
  static Result<b2bua::StoredCall> Decode(std::string_view text);

 private:
  // Each one MULTI/EXEC, parking `event` (may be null) with the change.
  std::vector<redis::Command> SaveCommands(const b2bua::StoredCall& call,
                                           const b2bua::PreparedEvent* event) const;
  std::vector<redis::Command> DeleteCommands(const b2bua::StoredCall& call,
                                             const b2bua::PreparedEvent* ended) const;
  void Park(const b2bua::PreparedEvent* event, std::vector<redis::Command>& commands) const;

  redis::Client& client_;
  std::chrono::seconds ttl_;
  const RedisEventOutbox& events_;
  const core::Clock& clock_;
  LoopRedis* loop_;
};

}  // namespace sb::signaling
