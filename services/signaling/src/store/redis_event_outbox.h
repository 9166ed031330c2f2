// RedisEventOutbox: events parked in Redis until JetStream acknowledged them, so that a replica
// killed before the ack loses none. Registration events are parked in the same MULTI/EXEC as the
// binding change they report; call events on their own once JetStream is slow to acknowledge
// them (store/parked_event_journal.h). Two keys, shared by every replica:
//   <prefix>evt-parked       hash: msg_id -> "<subject>\n<msg_id>\n<protobuf body>"
//   <prefix>evt-parked-due   sorted set: msg_id by when a sweep may send it (unix ms)
//
//   sb::signaling::RedisEventOutbox outbox(redis, 30s);
//   auto park = outbox.ParkCommands(messages, now);        // sent in the save's MULTI/EXEC
//   ... EXEC, then publish each message ...
//   outbox.Done(acked_ids);                                // unparked
//   // the sweep, on any replica: what is still parked once its lease is over is sent again
//   auto due = outbox.Claim(now, 100);
//
// Parking takes a message for the parking replica for `lease` (its own publish takes at most
// the publish timeout, 2 s); Claim takes what it returns for another `lease` in one script, so
// two replicas never send one message at once. A message is sent again under its own msg_id:
// JetStream keeps one copy when the first send was acked after all, as long as the lease is
// shorter than the stream's 2-minute duplicate window. Thread-safe as the client is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registrar/bindings.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

class RedisEventOutbox {
 public:
  // `client` is borrowed.
  RedisEventOutbox(redis::Client& client, std::chrono::milliseconds lease)
      : client_(client), lease_(lease) {}

  // The commands that park `messages` at `now`, for a MULTI/EXEC the caller sends.
  std::vector<redis::Command> ParkCommands(const std::vector<bus::JsOutbound>& messages,
                                           WallTime now) const;
  // The same as data, for a script that parks them within its own atomic step
  // (RedisBindingLapses::RemoveIfUnchanged, a checked RedisBindingStore::Save) into kParkedKey
  // and kDueKey, or for another store to turn into the commands.
  struct Parking {
    std::string due_ms;                                        // unix ms
    std::vector<std::pair<std::string, std::string>> entries;  // msg_id, stored value
  };
  Parking ParkingOf(const std::vector<bus::JsOutbound>& messages, WallTime now) const;
  static std::vector<redis::Command> ParkCommands(const Parking& parking);
  // Parks `messages` at `now` on their own (one MULTI/EXEC), for a producer whose change is
  // not in Redis: a call's events (store/parked_event_journal.h).
  Status Park(const std::vector<bus::JsOutbound>& messages, WallTime now);
  // Unparks messages JetStream acknowledged.
  Status Done(const std::vector<std::string>& msg_ids);
  // Up to `limit` parked messages whose lease is over by `now`, each taken for another lease.
  Result<std::vector<bus::JsOutbound>> Claim(WallTime now, size_t limit);

  static constexpr std::string_view kParkedKey = "evt-parked";
  static constexpr std::string_view kDueKey = "evt-parked-due";

 private:
  // `commands` in one MULTI/EXEC; `what` names the outcome in the error ("parked").
  Status Transact(std::vector<redis::Command> commands, std::string_view what);

  redis::Client& client_;
  std::chrono::milliseconds lease_;
};

// A parked message's stored form and back; nullopt for a value this code cannot read.
std::string EncodeParked(const bus::JsOutbound& message);
std::optional<bus::JsOutbound> DecodeParked(std::string_view value);

}  // namespace sb::signaling
