// KeepaliveScheduler: which registered phones behind NAT this node pings with OPTIONS, when, and
// when one that stopped answering must go. Pure: no sockets, time from the injected Clock; the
// KeepaliveService (keepalive_service.h) sends the pings and removes the bindings.
//
//   sb::signaling::KeepaliveScheduler scheduler(clock, {.interval = 30s, .max_failures = 2});
//   scheduler.OnRegistered(tenant, aor, bindings_after_register, "udp:203.0.113.5:40001");
//   auto work = scheduler.Tick();                 // when NextDeadline() has come
//   for (auto& ping : work.pings) Send OPTIONS, then scheduler.OnAnswered(ping.id) on any answer;
//   for (auto& gone : work.failed) remove gone.binding, publish "expired" (keepalive failed).
//
// Only bindings the REGISTER it is told about came from (same source: registered through this
// replica) and that need it (NeedsKeepalive) are tracked. Any response, 4xx-6xx included, means
// the phone is there; no response within `timeout` is a failure, and `max_failures` in a row
// remove the binding. A binding past its expiry is forgotten (the lapse sweep reports it).
// Bounded: at most max_tracked bindings (more are counted, not pinged) and max_per_tick pings
// and failures per Tick (the rest stay due for the next).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registrar/bindings.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/ids.h"

namespace sb::signaling {

struct KeepaliveOptions {
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  // No answer within this is a failure (Timer F, 64*T1, by default).
  std::chrono::milliseconds timeout{std::chrono::seconds(32)};
  int max_failures = 1;  // consecutive
  size_t max_tracked = 100000;
  size_t max_per_tick = 200;
};

// Whether a binding is pinged: the phone asked for its flow to be used (RFC 5626 "ob" in the
// Contact URI), or it is behind NAT: the address its REGISTER came from (the Path entry's
// ;received= when a balancer added one, else the source) is not the Contact's host:port.
bool NeedsKeepalive(const Binding& binding);

struct KeepalivePing {
  uint64_t id = 0;  // OnAnswered takes it back
  TenantId tenant;
  std::string aor;
  Binding binding;
};

struct KeepaliveWork {
  std::vector<KeepalivePing> pings;   // send OPTIONS now
  std::vector<KeepalivePing> failed;  // stopped answering: remove
};

class KeepaliveScheduler {
 public:
  KeepaliveScheduler(const core::Clock& clock, KeepaliveOptions options);

  // A REGISTER from `source` ("udp:ip:port") this node stored: `bindings` is the AOR's whole set
  // after it. Tracks the NATed ones from `source`, updates those tracked, forgets the rest.
  void OnRegistered(const TenantId& tenant, std::string_view aor,
                    const std::vector<Binding>& bindings, std::string_view source);
  KeepaliveWork Tick();
  // Any response to ping `id`; a late answer to a ping already counted as failed is ignored.
  void OnAnswered(uint64_t id);

  std::optional<core::Clock::TimePoint> NextDeadline() const;
  size_t tracked() const { return entries_.size(); }
  // Bindings not tracked because max_tracked was reached.
  uint64_t refused() const { return refused_; }

 private:
  struct Entry {
    TenantId tenant;
    std::string aor;
    Binding binding;
    core::Clock::TimePoint at;  // next ping, or the timeout of the one in flight
    uint64_t in_flight = 0;     // ping id, 0 when none
    int failures = 0;
  };
  void Schedule(const std::string& key, Entry& entry, core::Clock::TimePoint at);
  void Forget(std::map<std::string, Entry>::iterator it);

  const core::Clock& clock_;
  KeepaliveOptions options_;
  std::map<std::string, Entry> entries_;
  std::set<std::pair<core::Clock::TimePoint, std::string>> due_;
  std::map<uint64_t, std::string> pings_;  // in flight: id -> entry key
  uint64_t next_id_ = 1;
  uint64_t refused_ = 0;
};

}  // namespace sb::signaling
