#include "switchboard/media_client/node_tracker.h"

#include <algorithm>

#include "switchboard/bus/subjects.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/media_client/operations.h"

namespace sb::media_client {

NodeTracker::NodeTracker(bus::Bus& bus, const core::Clock& clock)
    : bus_(bus), clock_(clock), directory_(clock) {}

NodeTracker::~NodeTracker() { Stop(); }

Status NodeTracker::Start() {
  auto load_subject = bus::subjects::Event(ops::kService, ops::kLoadEventType,
                                           TenantId(std::string(ops::kLoadTenant)));
  if (!load_subject.ok()) return load_subject.status();
  auto sub = bus::SubscribeProto<switchboard::media::v1::NodeLoad>(
      bus_, *load_subject, "",
      [this](const switchboard::media::v1::NodeLoad& load, const bus::Message&) {
        if (load.node_id().empty()) {
          bad_reports_.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        NodeReport report{.node_id = load.node_id(),
                          .advertised_address = load.advertised_address(),
                          .legs = load.legs(),
                          .capacity = load.capacity(),
                          .draining = load.draining()};
        // A report without its interval still says the node is alive; assume the default.
        if (load.interval_ms() > 0) report.interval_ms = load.interval_ms();
        directory_.Observe(report);
        reports_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(mu_);
        changed_.notify_all();
      },
      &parse_errors_);
  if (!sub.ok()) return sub.status();
  std::lock_guard lock(mu_);
  stopped_ = false;
  subscription_ = std::move(*sub);
  return Status::Ok();
}

void NodeTracker::Stop() {
  std::unique_ptr<bus::Subscription> sub;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    sub = std::move(subscription_);
    changed_.notify_all();
  }
  // Outside the lock: destroying waits for a running handler, which takes mu_.
  sub.reset();
}

bool NodeTracker::WaitUntil(const std::function<bool()>& condition,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    if (condition()) return true;
    if (stopped_ || std::chrono::steady_clock::now() >= deadline) return false;
    changed_.wait_until(lock, deadline);
  }
}

std::vector<std::string> NodeTracker::WaitLost(std::chrono::milliseconds timeout) {
  using Steady = std::chrono::steady_clock;
  const auto deadline = Steady::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    auto lost = directory_.TakeLost();
    if (!lost.empty() || stopped_) return lost;
    const auto now = Steady::now();
    if (now >= deadline) return {};
    auto wake = deadline;
    if (auto expiry = directory_.NextExpiry()) {
      // One millisecond past the expiry, so that the node is past it when we look again.
      wake = std::min(wake, now + (*expiry - clock_.Now()) + std::chrono::milliseconds(1));
    }
    changed_.wait_until(lock, wake);
  }
}

}  // namespace sb::media_client
