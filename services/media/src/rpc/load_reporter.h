// LoadReporter: publishes the node's NodeLoad (legs, capacity, conferences, draining) every
// interval on sb.evt.media.node_load.platform, from its own thread, so that callers pick the
// least-loaded live node and notice one that has gone quiet (three intervals, see events.proto).
//
//   LoadReporter load(bus, node, clock, std::chrono::seconds(2));
//   load.Start();
//   node.SetDraining();
//   load.PublishNow();   // tell callers at once
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "net/media_node.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/clock.h"

namespace sb::media {

class LoadReporter {
 public:
  LoadReporter(bus::Bus& bus, const MediaNode& node, const core::Clock& clock,
               std::chrono::milliseconds interval);
  ~LoadReporter();

  void Start();
  void Stop();
  Status PublishNow();

 private:
  bus::Bus& bus_;
  const MediaNode& node_;
  const core::Clock& clock_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sb::media
