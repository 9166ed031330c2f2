// StoredCallWhereabouts: where a call's commands go, read from its record (store/
// redis_call_store.h names the replica instance that wrote it) and that instance's heartbeat
// (store/redis_call_owners.h). An instance heard from within `dead_after` is alive: its node gets
// the command. One silent for longer, retired at the end of its drain or forgotten after its
// calls were adopted is gone: this node acts on the record, as a node restarted under the gone
// one's id would. A call with no record (ringing for less than the B2BUA's store_ringing_after,
// or ended) is served here: NOT_FOUND unless this node carries it.
//
//   StoredCallWhereabouts whereabouts(store, owners, clock, "sig-2.5c01aa9e", 10s);
//   auto node = whereabouts.ServingNode(call);   // "sig-1": pass it on; nullopt: serve here
//
// Thread-safe as the store and owners are; every call blocks on Redis (two round trips at most).
#pragma once

#include <chrono>
#include <string>

#include "b2bua/ports.h"
#include "rpc/call_whereabouts.h"
#include "store/redis_call_owners.h"
#include "switchboard/core/clock.h"

namespace sb::signaling {

class StoredCallWhereabouts final : public CallWhereabouts {
 public:
  // All borrowed; `instance` is this run's (RedisCallOwners::NewInstance).
  StoredCallWhereabouts(b2bua::CallStore& store, RedisCallOwners& owners, const core::Clock& clock,
                        std::string instance, std::chrono::milliseconds dead_after)
      : store_(store),
        owners_(owners),
        clock_(clock),
        instance_(std::move(instance)),
        dead_after_(dead_after) {}

  Result<std::optional<std::string>> ServingNode(const CallId& call) override;

 private:
  b2bua::CallStore& store_;
  RedisCallOwners& owners_;
  const core::Clock& clock_;
  const std::string instance_;
  const std::chrono::milliseconds dead_after_;
};

}  // namespace sb::signaling
