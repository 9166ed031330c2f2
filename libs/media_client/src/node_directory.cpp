#include "switchboard/media_client/node_directory.h"

namespace sb::media_client {

core::Clock::TimePoint NodeDirectory::Expiry(const Entry& e) {
  return e.seen + std::chrono::milliseconds(e.report.interval_ms) * kMissedIntervals;
}

bool NodeDirectory::Live(const Entry& e, core::Clock::TimePoint now) const {
  return now < Expiry(e);
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

Result<NodeReport> NodeDirectory::Find(const std::string& node_id) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || !Live(it->second, clock_.Now())) {
    return Status::NotFound("media node " + node_id + " is not live");
  }
  return it->second.report;
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

std::optional<core::Clock::TimePoint> NodeDirectory::NextExpiry() const {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  std::optional<core::Clock::TimePoint> first;
  for (const auto& [id, e] : nodes_) {
    if (!Live(e, now)) continue;
    if (!first || Expiry(e) < *first) first = Expiry(e);
  }
  return first;
}

}  // namespace sb::media_client
