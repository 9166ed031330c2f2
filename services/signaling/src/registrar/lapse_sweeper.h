// LapseSweeper: reports bindings that lapse on their own. A phone that stops refreshing its
// registration (switched off, gone behind another NAT) sends no REGISTER that would show its
// binding expired; this sweep, run by every replica at a bounded interval, finds AORs whose
// earliest binding expired (store/redis_binding_lapses.h), publishes
// sb.evt.registration.expired.<tenant> (reason EXPIRED) for each lapsed binding and then
// removes them.
//
//   sb::signaling::LapseSweeper sweeper(clock, store, lapses, events, log, {.interval = 5s});
//   sweeper.Start();   // a thread: SweepOnce every interval, at once again after a full batch
//   ...
//   sweeper.Stop();
//
// Order: publish, then remove. A failed publish leaves the bindings and the claim in place,
// so they are reported after the claim's lease; a replica that dies between the two is covered
// the same way, and the de-duplication id (rpc/registration_events.h LapseEventId) keeps the
// stream at one event. At least once, never lost while any replica runs the sweep within
// RedisBindingStore::kLapseGrace of the lapse.
//
// Given the outbox (store/redis_event_outbox.h), each pass also sends the events that are still
// parked once due (a REGISTER's, a keep-alive removal's, a call's): those whose replica died, or
// whose publish failed, before JetStream acknowledged them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "registrar/bindings.h"
#include "rpc/registration_events.h"
#include "store/redis_binding_lapses.h"
#include "store/redis_binding_store.h"
#include "store/redis_event_outbox.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

struct LapseSweepOptions {
  std::chrono::milliseconds interval{5000};
  size_t batch = 500;  // AORs per pass
  // How long a claimed AOR is this replica's before another may take it (crash recovery); the
  // outbox's lease is the same (RegistrarService).
  std::chrono::milliseconds lease{30000};
};

// The expired events for `bindings` of (tenant, aor) that lapsed by `now`.
std::vector<RegistrationChange> LapseChanges(const TenantId& tenant, std::string_view aor,
                                             const std::vector<Binding>& bindings, WallTime now);

class LapseSweeper {
 public:
  // Borrowed references must outlive the sweeper.
  LapseSweeper(const core::Clock& clock, RedisBindingStore& store, RedisBindingLapses& lapses,
               RegistrationEvents& events, const core::Logger& log, LapseSweepOptions options,
               RedisEventOutbox* parked = nullptr);
  ~LapseSweeper();  // Stop()
  LapseSweeper(const LapseSweeper&) = delete;
  LapseSweeper& operator=(const LapseSweeper&) = delete;

  // One pass: how many AORs and parked events it claimed (a full batch of either means more
  // may be due).
  Result<size_t> SweepOnce();

  void Start();
  void Stop();  // idempotent

 private:
  void Run();
  Result<size_t> SweepLapses(WallTime now);
  // Sends what `parked_` holds that is due by `now`; how many it claimed.
  Result<size_t> SendParked(WallTime now);

  const core::Clock& clock_;
  RedisBindingStore& store_;
  RedisBindingLapses& lapses_;
  RegistrationEvents& events_;
  core::Logger log_;
  LapseSweepOptions options_;
  RedisEventOutbox* parked_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sb::signaling
