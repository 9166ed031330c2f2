// The bus messages of one subject pattern, kept for a test to look through: media events, call
// events, load reports.
//
//   sb::testing::EventInbox dtmf(bus, "sb.evt.media.dtmf.*");
//   auto digit = dtmf.Wait<v1::DtmfEvent>(
//       [](const v1::DtmfEvent& e, const bus::Message&) { return e.digit() == "5"; }, 5s);
//
// Throws std::runtime_error when the subscription fails (a test cannot go on).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchboard/bus/bus.h"

namespace sb::testing {

class EventInbox {
 public:
  EventInbox(bus::Bus& bus, const std::string& pattern) {
    auto sub = bus.Subscribe(pattern, "", [this](const bus::Message& m) {
      std::lock_guard lock(mu_);
      messages_.push_back(m);
      cv_.notify_all();
    });
    if (!sub.ok())
      throw std::runtime_error("subscribe " + pattern + ": " + sub.status().ToString());
    sub_ = std::move(*sub);
  }

  // The first message that parses as an Event and satisfies `pred`, waiting until `timeout`.
  template <typename Event, typename Pred>
  std::optional<Event> Wait(Pred pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<Event> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& m : messages_) {
        Event e;
        if (e.ParseFromString(m.data) && pred(e, m)) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  template <typename Event>
  std::vector<Event> All() {
    std::lock_guard lock(mu_);
    std::vector<Event> out;
    for (const auto& m : messages_) {
      Event e;
      if (e.ParseFromString(m.data)) out.push_back(e);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bus::Message> messages_;
  std::unique_ptr<bus::Subscription> sub_;
};

}  // namespace sb::testing
