#include "cluster/node_directory.h"

namespace sb::media {

bool NodeDirectory::Live(const Entry& e, core::Clock::TimePoint now) const {
  return now - e.seen < std::chrono::milliseconds(e.report.interval_ms) * kMissedIntervals;
}

void NodeDirectory::Observe(const NodeReport& report) {
  std::lock_guard lock(mu_);
  nodes_[report.node_id] = {report, clock_.Now()};
}

Result<NodeReport> NodeDirectory::PickLeastLoaded() const {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  const Entry* best = nullptr;
  double best_load = 0;
  for (const auto& [id, e] : nodes_) {
    if (!Live(e, now) || e.report.draining || e.report.legs >= e.report.capacity) continue;
    double load = static_cast<double>(e.report.legs) / e.report.capacity;
    if (best == nullptr || load < best_load) {
      best = &e;
      best_load = load;
    }
  }
  if (best == nullptr) return Status::Unavailable("no live media node has room");
  return best->report;
}

bool NodeDirectory::IsLive(const std::string& node_id) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  return it != nodes_.end() && Live(it->second, clock_.Now());
}

std::vector<std::string> NodeDirectory::TakeLost() {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  std::vector<std::string> lost;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (!Live(it->second, now)) {
      lost.push_back(it->first);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  return lost;
}

}  // namespace sb::media
