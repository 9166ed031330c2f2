// AsyncRequests: request/reply whose answer goes to a callback instead of a waiting thread, for
// a caller that must not block (the SIP loop) and should not pay a worker's wake-up and hand-back
// per request either. One wildcard inbox subscription carries every answer; the inbox's last
// token says which request it answers.
//
//   auto requests = sb::bus::AsyncRequests::Start(bus);        // subscribes, starts its timer
//   if (!requests.ok()) return requests.status();
//   (*requests)->Send({.subject = "sb.cmd.media.m1.update_leg", .data = body}, 2s,
//                     [post](sb::Result<sb::bus::Message> reply) { post([reply] { ... }); });
//
// `done` runs once per request: with the answer; UNAVAILABLE when nobody subscribes to the
// subject (the server's no-responders status); DEADLINE_EXCEEDED when no answer came within
// the timeout (looked at every 50 ms). It runs on a thread of the bus (an answer) or of the
// requester's timer (a deadline), never inside Send, except for a request that could not be
// sent at all.
//
// Threading: Send is thread-safe. Destroying the requester stops its timer and its
// subscription; requests still waiting then never hear back (their callers are going away too).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "switchboard/bus/bus.h"

namespace sb::bus {

class AsyncRequests {
 public:
  using Done = std::function<void(Result<Message> reply)>;

  // Subscribes to a fresh inbox under `inbox_prefix` on `bus`, which must outlive the requester.
  static Result<std::unique_ptr<AsyncRequests>> Start(Bus& bus,
                                                      std::string_view inbox_prefix = "_INBOX");
  ~AsyncRequests();
  AsyncRequests(const AsyncRequests&) = delete;
  AsyncRequests& operator=(const AsyncRequests&) = delete;

  // Publishes `request` (its reply field is replaced) and calls `done` with what comes of it.
  void Send(Message request, Duration timeout, Done done);
  // Requests waiting for an answer.
  size_t waiting() const;

 private:
  struct Pending {
    std::string subject;
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };
  AsyncRequests(Bus& bus, std::string inbox);
  void OnAnswer(const Message& message);
  void ExpireLoop();

  Bus& bus_;
  const std::string inbox_;  // "<prefix>.<random>", answers to "<inbox>.<token>"
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t next_token_ = 1;
  std::map<uint64_t, Pending> pending_;
  std::unique_ptr<Subscription> subscription_;
  std::thread expirer_;
};

}  // namespace sb::bus
