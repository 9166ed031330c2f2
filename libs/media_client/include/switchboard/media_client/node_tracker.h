// NodeTracker: keeps a NodeDirectory fed from the media nodes' load reports
// (switchboard.media.v1.NodeLoad on sb.evt.media.node_load.platform, core NATS), so that a caller
// asks "the least-loaded live node" before it anchors a call's media, and learns which nodes went
// quiet (three report intervals) so that their calls can be failed over.
//
//   sb::media_client::NodeTracker nodes(bus, clock);
//   SB_RETURN_IF_ERROR(nodes.Start());
//   auto node = nodes.PickLeastLoaded();    // UNAVAILABLE: no live node with room (SIP 503)
//   MediaClient media(bus, node->node_id);
//   ...
//   // a supervisor thread:
//   for (const auto& gone : nodes.WaitLost(std::chrono::seconds(1))) FailCallsOn(gone);
//
// Threading: thread-safe; reports arrive on the bus's delivery thread. TakeLost/WaitLost hand
// each lost node out once, so one supervisor should consume them. The Bus must outlive the
// tracker; destroying it (or Stop) ends the subscription and wakes WaitLost.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchboard/bus/bus.h"
#include "switchboard/bus/typed.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/media_client/node_directory.h"

namespace sb::media_client {

class NodeTracker {
 public:
  NodeTracker(bus::Bus& bus, const core::Clock& clock);
  ~NodeTracker();
  NodeTracker(const NodeTracker&) = delete;
  NodeTracker& operator=(const NodeTracker&) = delete;

  // Subscribes to the load reports (every caller of media gets every report: no queue group).
  Status Start();
  void Stop();

  Result<NodeReport> PickLeastLoaded() const { return directory_.PickLeastLoaded(); }
  bool IsLive(const std::string& node_id) const { return directory_.IsLive(node_id); }
  std::vector<std::string> TakeLost() { return directory_.TakeLost(); }
  // The last report of a live node; NOT_FOUND when it is unknown or quiet.
  Result<NodeReport> Find(const std::string& node_id) const { return directory_.Find(node_id); }

  // Blocks until `condition` holds, checking it now and after each report, or until `timeout`
  // (false then, or after Stop). For start-up ("some media node is live") and tests. The
  // condition runs under the tracker's lock: it may read the tracker, not wait on it.
  bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

  // Blocks until a node is lost or `timeout` passes, and returns the lost nodes (empty on
  // timeout or Stop). It wakes at the moment the quietest node's three intervals run out, so it
  // measures that wait in real time: use it with a SystemClock.
  std::vector<std::string> WaitLost(std::chrono::milliseconds timeout);

  // Reports seen, and reports dropped (not a NodeLoad, or no node id).
  uint64_t reports() const { return reports_.load(std::memory_order_relaxed); }
  uint64_t bad_reports() const {
    return bad_reports_.load(std::memory_order_relaxed) + parse_errors_.value();
  }

 private:
  bus::Bus& bus_;
  const core::Clock& clock_;
  NodeDirectory directory_;
  bus::ParseErrorCounter parse_errors_;
  std::atomic<uint64_t> reports_{0};
  std::atomic<uint64_t> bad_reports_{0};
  std::mutex mu_;
  std::condition_variable changed_;
  bool stopped_ = false;
  std::unique_ptr<bus::Subscription> subscription_;
};

}  // namespace sb::media_client
