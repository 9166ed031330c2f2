// The bus messages of one subject pattern, kept for a test to look through: media events, call
// events, load reports.
//
//   sb::testing::EventInbox dtmf(bus, "sb.evt.media.dtmf.*");
//   auto digit = dtmf.Wait<v1::DtmfEvent>(
//       [](const v1::DtmfEvent& e, const bus::Message&) { return e.digit() == "5"; }, 5s);
//
// From a stream, the inbox reads through a durable consumer of its own (acking each) everything
// the stream stored on the subject from the first: for what was stored while the test was not
// listening, across a crash or an outage.
//
//   sb::testing::EventInbox ended(bus, "sb.evt.call.ended." + tenant,
//   EventInbox::FromStream{"SB_EVENTS"});
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
#include "switchboard/testing/servers.h"

namespace sb::testing {

class EventInbox {
 public:
  struct FromStream {
    std::string stream;
  };

  EventInbox(bus::Bus& bus, const std::string& pattern) {
    Keep(pattern, bus.Subscribe(pattern, "", [this](const bus::Message& m) { Add(m); }));
  }

  EventInbox(bus::Bus& bus, const std::string& pattern, const FromStream& from) {
    Keep(pattern,
         bus.Consume(
             {.stream = from.stream, .durable = UniqueName("inbox"), .filter_subject = pattern},
             [this](bus::JsMessage& m) {
               (void)m.Ack();
               Add(m.message());
             }));
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

  // Every message that parses as an Event, once there are `count` of them or `timeout` passed.
  template <typename Event>
  std::vector<Event> AtLeast(size_t count, std::chrono::milliseconds timeout) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, timeout, [&] { return Parsed<Event>().size() >= count; });
    }
    return All<Event>();
  }

  template <typename Event>
  std::vector<Event> All() {
    std::lock_guard lock(mu_);
    return Parsed<Event>();
  }

 private:
  template <typename Event>
  std::vector<Event> Parsed() const {
    std::vector<Event> out;
    for (const auto& m : messages_) {
      Event e;
      if (e.ParseFromString(m.data)) out.push_back(e);
    }
    return out;
  }

  void Keep(const std::string& pattern, Result<std::unique_ptr<bus::Subscription>> sub) {
    if (!sub.ok())
      throw std::runtime_error("subscribe " + pattern + ": " + sub.status().ToString());
    sub_ = std::move(*sub);
  }

  void Add(const bus::Message& m) {
    std::lock_guard lock(mu_);
    messages_.push_back(m);
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bus::Message> messages_;
  std::unique_ptr<bus::Subscription> sub_;
};

}  // namespace sb::testing
