#include "rpc/load_reporter.h"

#include "rpc/operations.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/media/v1/events.pb.h"

namespace sb::media {

LoadReporter::LoadReporter(bus::Bus& bus, const MediaNode& node, const core::Clock& clock,
                           std::chrono::milliseconds interval)
    : bus_(bus), node_(node), clock_(clock), interval_(interval) {}

LoadReporter::~LoadReporter() { Stop(); }

void LoadReporter::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      (void)PublishNow();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

void LoadReporter::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status LoadReporter::PublishNow() {
  NodeLoadSnapshot load = node_.Load();
  switchboard::media::v1::NodeLoad report;
  report.set_node_id(node_.options().node_id);
  report.set_advertised_address(node_.options().advertised_address);
  report.set_legs(static_cast<uint32_t>(load.legs));
  report.set_capacity(static_cast<uint32_t>(load.capacity));
  report.set_conferences(static_cast<uint32_t>(load.conferences));
  report.set_draining(load.draining);
  report.set_interval_ms(static_cast<uint32_t>(interval_.count()));
  report.set_sent_at_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.WallNow().time_since_epoch())
          .count());
  auto subject = bus::subjects::Event(ops::kService, ops::kLoadEventType,
                                      TenantId(std::string(ops::kLoadTenant)));
  if (!subject.ok()) return subject.status();
  return bus::PublishProto(bus_, *subject, report);
}

}  // namespace sb::media
