// Offloader: how a handler on the SIP loop thread does blocking work (a NATS request to admin or
// a media node, a Redis round trip) without stalling the loop. `work` runs elsewhere; `then` runs
// back on the loop, where the handler may touch the SipEndpoint again. Results travel in state
// both lambdas share:
//
//   auto reply = std::make_shared<sb::Result<Credentials>>(sb::Status::Internal("not run"));
//   sb::Status queued = offloader.Run([&admin, reply, user] { *reply = admin.Lookup(user); },
//                                     [this, reply, key] { OnCredentials(key, *reply); });
//   if (!queued.ok()) endpoint.Respond(key, 503);   // overloaded: shed, never queue without bound
//
// ThreadPoolOffloader is the service's; InlineOffloader runs both parts at once on the caller's
// thread, so a handler's logic is tested with a FakeClock and no threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::signaling {

class Offloader {
 public:
  virtual ~Offloader() = default;
  // UNAVAILABLE (and neither part runs) when too much work is already waiting. An empty `then`
  // (nullptr) costs the loop nothing: fire-and-forget work (a media leg to destroy, a record to
  // store) does not wake it.
  virtual Status Run(std::function<void()> work, std::function<void()> then) = 0;
  // Runs `task` on the loop thread: how a callback on another thread (a bus answer) gets back.
  virtual void ToLoop(std::function<void()> task) = 0;
};

class ThreadPoolOffloader final : public Offloader {
 public:
  // Hands a task to the loop thread (SipServer::Post).
  using PostToLoop = std::function<void(std::function<void()>)>;

  ThreadPoolOffloader(size_t threads, PostToLoop post_to_loop, size_t max_waiting = 10000);
  // Finishes the work already taken, drops what still waits (its `then` never runs), joins.
  ~ThreadPoolOffloader() override;
  ThreadPoolOffloader(const ThreadPoolOffloader&) = delete;
  ThreadPoolOffloader& operator=(const ThreadPoolOffloader&) = delete;

  Status Run(std::function<void()> work, std::function<void()> then) override;
  void ToLoop(std::function<void()> task) override { post_to_loop_(std::move(task)); }
  size_t waiting() const;

 private:
  struct Task {
    std::function<void()> work;
    std::function<void()> then;
  };
  void Worker();

  PostToLoop post_to_loop_;
  const size_t max_waiting_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class InlineOffloader final : public Offloader {
 public:
  Status Run(std::function<void()> work, std::function<void()> then) override {
    work();
    if (then) then();
    return Status::Ok();
  }
  void ToLoop(std::function<void()> task) override { task(); }
};

}  // namespace sb::signaling
