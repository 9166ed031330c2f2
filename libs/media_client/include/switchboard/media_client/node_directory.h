// NodeDirectory: what a caller of media nodes (signaling, flow) keeps from their NodeLoad
// reports to pick where a call's media goes: the live, non-draining node with the lowest load
// (legs / capacity), and which nodes went quiet (no report for three of their intervals) so their
// calls can be failed over. Pure: reports and time come in; the caller subscribes to
// sb.evt.media.node_load.platform and feeds Observe.
//
//   NodeDirectory nodes(clock);
//   nodes.Observe({.node_id = "media-2", .legs = 10, .capacity = 5000, .interval_ms = 2000});
//   auto node = nodes.PickLeastLoaded();            // UNAVAILABLE when no node is live
//   for (const auto& gone : nodes.TakeLost()) FailCallsOn(gone);
//
// NodeTracker (node_tracker.h) feeds it from the bus. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"

namespace sb::media_client {

// Members carry {} so that designated initialisers may name only what they set.
struct NodeReport {
  std::string node_id{};
  std::string advertised_address{};
  uint32_t legs = 0;
  uint32_t capacity = 0;
  bool draining = false;
  uint32_t interval_ms = 2000;
};

class NodeDirectory {
 public:
  static constexpr int kMissedIntervals = 3;

  explicit NodeDirectory(const core::Clock& clock) : clock_(clock) {}

  void Observe(const NodeReport& report);
  // The least-loaded live node that is not draining and has room; ties go to the lowest id so
  // that the choice is deterministic.
  Result<NodeReport> PickLeastLoaded() const;
  bool IsLive(const std::string& node_id) const;
  // The last report of a live node; NOT_FOUND when it is unknown or quiet.
  Result<NodeReport> Find(const std::string& node_id) const;
  // Nodes that went quiet since the last call (each reported once, then forgotten).
  std::vector<std::string> TakeLost();
  // When the first node still counted live goes quiet unless it reports again (nullopt: no
  // node is live), so a watcher can wait until then rather than poll.
  std::optional<core::Clock::TimePoint> NextExpiry() const;

 private:
  struct Entry {
    NodeReport report;
    core::Clock::TimePoint seen;
  };
  static core::Clock::TimePoint Expiry(const Entry& e);
  bool Live(const Entry& e, core::Clock::TimePoint now) const;

  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> nodes_;
};

}  // namespace sb::media_client
