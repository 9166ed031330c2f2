// RedisCallOwners: which replica carries which stored call (store/redis_call_store.h), and which
// replicas are alive, so that the answered calls of a replica that died are taken over by the
// others (b2bua/call_adopter.h) even when neither phone ever sends another request. Keys (under
// the client's prefix):
//   nodes                 sorted set: a replica's instance id -> its last heartbeat (Unix ms)
//   node_sip              hash: instance id -> the SIP URI the balancer reaches it at
//   node_calls:<instance> the ids of the calls that instance carries (RedisCallStore keeps it)
// An instance id names one run of a replica (its node id and a random part), so that a replica
// restarted under the same node id does not pass for the one whose calls died with it.
//
//   sb::signaling::RedisCallOwners owners(redis);
//   owners.Heartbeat("sig-1.8f3a", now, "sip:10.0.0.5:5060"); // every few seconds
//   owners.LiveSipUris(now - 10s);           // the balancer's list (balancer/list_sync.h)
//   for (auto& dead : *owners.Silent(now - 10s, 10))         // no heartbeat for 10 s
//     for (auto& call_id : *owners.Adopt(dead, "sig-1.8f3a", 100)) ... probe, end or keep ...
//   owners.Disown("sig-1.8f3a", call_id);                     // once that call has ended
//   owners.Retire("sig-1.8f3a");                              // stopping: adopt mine now
//
// Each call is adopted once: Adopt moves an id from the dead instance's set to the adopter's in
// one SMOVE, which only one replica can win. Thread-safe as the client is; every method blocks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

class RedisCallOwners {
 public:
  explicit RedisCallOwners(redis::Client& client) : client_(client) {}

  // The set of the calls `instance` carries (unprefixed, as Command::Key takes it).
  static std::string CallsKey(std::string_view instance);
  // A new run of node `node_id`: "<node_id>.<8 random hex digits>". A node id is a subject token
  // (no dots), so NodeOf gives it back.
  static std::string NewInstance(std::string_view node_id);
  static std::string_view NodeOf(std::string_view instance);

  // `sip_uri` (empty: none) is where the balancer reaches the replica, kept with the heartbeat.
  Status Heartbeat(std::string_view instance, core::Clock::WallTime now,
                   std::string_view sip_uri = {});
  // The SIP URIs of the replicas that heartbeat at `since` or later, sorted, each once (a
  // restarted replica's new run may heartbeat next to its old one's last beat).
  Result<std::vector<std::string>> LiveSipUris(core::Clock::WallTime since);
  // A replica that stops with calls still up (past its drain deadline) makes itself silent at
  // once (its heartbeat put back to the epoch), so that the others adopt those calls at their
  // next pass rather than after their `dead_after`. Nothing for an instance that never
  // heartbeat.
  Status Retire(std::string_view instance);
  // Whether `instance` heartbeat at `since` or later: false for one retired, adopted away or
  // never heard of.
  Result<bool> HeardFrom(std::string_view instance, core::Clock::WallTime since);
  // Up to `limit` instances whose last heartbeat is older than `since`.
  Result<std::vector<std::string>> Silent(core::Clock::WallTime since, size_t limit);
  // Moves up to `batch` of `dead`'s calls into `self`'s set: the ids this replica won (another
  // adopter may win the rest). Once `dead` carries no call it is forgotten.
  Result<std::vector<std::string>> Adopt(std::string_view dead, std::string_view self,
                                         size_t batch);
  Status Disown(std::string_view self, std::string_view call_id);

 private:
  redis::Client& client_;
};

}  // namespace sb::signaling
