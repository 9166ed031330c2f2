// CallAdopter: takes over the answered calls of a replica that died. A call is in the store
// (store/redis_call_store.h), so a BYE or a refresh that reaches another replica is handled
// there; but when neither phone sends anything again (a phone that crashed, a BYE the dead node
// answered and never passed on) nobody would end the call, and its "ended" event (its charge)
// would never come. So every replica heartbeats (store/redis_call_owners.h); one that finds a
// replica silent for `dead_after` moves that replica's calls to itself, each call to one
// adopter, and probes each (B2bua::ProbeStored) at once and every `probe_interval` (sooner when
// the probe is a session refresh that must come again before the session expires): a call
// whose party is gone is ended (BYE to the other, "ended" node_failure); one whose parties are
// there goes on, its end coming as a BYE through any replica or a later probe.
//
//   auto probe = [&](std::string id, uint32_t n, auto done) {
//     post([=] { b2bua.ProbeStored(id, n, done); });   // on the SIP loop
//   };
//   sb::signaling::CallAdopter adopter(clock, owners, "sig-1.8f3a", probe, metrics, log, {});
//   adopter.Start();   // a thread: a pass every heartbeat interval
//   ...
//   adopter.Stop();
//
// A replica that dies with adopted calls leaves them in its own set: the next adopter takes them
// with its own. Calls end up to dead_after plus one heartbeat interval plus one probe interval
// later than they did (what the "ended" event's end time and billable seconds then include).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/redis_call_owners.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

struct CallAdoptionOptions {
  std::chrono::milliseconds heartbeat{2000};
  // Where the balancer reaches this replica ("sip:10.0.0.5:5060"), heartbeat with it for the
  // balancer's list (balancer/list_sync.h); empty: not written.
  std::string sip_uri = {};
  std::chrono::milliseconds dead_after{10000};
  std::chrono::milliseconds probe_interval{30000};
  size_t batch = 200;  // calls moved from one dead replica per pass
  // Probes started per pass: a replica that died with thousands of calls is probed over several
  // passes, not in one burst of OPTIONS.
  size_t probes_per_pass = 500;
};

class CallAdopter {
 public:
  // Starts a probe of an adopted call; `done` (from any thread) says whether it goes on, and how
  // soon the next probe must come at the latest (zero: no sooner than probe_interval). Must be
  // safe to call from the adopter's thread.
  using ProbeDone = std::function<void(bool going_on, std::chrono::milliseconds again_within)>;
  using Probe = std::function<void(std::string call_id, ProbeDone done)>;

  // `clock`, `owners` and `metrics` borrowed, outliving the adopter; `instance` this replica's
  // instance id.
  CallAdopter(const core::Clock& clock, RedisCallOwners& owners, std::string instance, Probe probe,
              core::MetricsRegistry& metrics, const core::Logger& log, CallAdoptionOptions options);
  ~CallAdopter();  // Stop()
  CallAdopter(const CallAdopter&) = delete;
  CallAdopter& operator=(const CallAdopter&) = delete;

  // One pass: heartbeat, adopt the calls of silent replicas, disown ended ones, start the probes
  // that are due.
  Status PassOnce();
  // Adopted calls being watched.
  size_t adopted() const;

  void Start();
  void Stop();  // idempotent; probes in flight may still call back, and are ignored

 private:
  struct Adopted {
    core::Clock::TimePoint due;
    bool probing = false;
  };
  void Run();
  Status AdoptFromSilent();
  // Files the probes' outcomes: the next probe of a call that goes on, the end of one that ended.
  Status ApplyOutcomes();

  const core::Clock& clock_;
  RedisCallOwners& owners_;
  const std::string instance_;
  Probe probe_;
  core::CounterMetric& adopted_total_;
  core::CounterMetric& ended_total_;
  core::Logger log_;
  CallAdoptionOptions options_;
  // Shared with the probes' callbacks, which may come after the adopter is gone.
  struct State {
    std::mutex mu;
    std::condition_variable wake;
    bool stop = false;
    std::map<std::string, Adopted> adopted;
    struct Outcome {
      std::string call_id;
      bool going_on = false;
      std::chrono::milliseconds again_within{0};
    };
    std::vector<Outcome> outcomes;
    bool probed = false;  // an outcome came since the thread last looked
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;
};

}  // namespace sb::signaling
