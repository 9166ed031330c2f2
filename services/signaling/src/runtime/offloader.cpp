#include "runtime/offloader.h"

#include <utility>

namespace sb::signaling {

ThreadPoolOffloader::ThreadPoolOffloader(size_t threads, PostToLoop post_to_loop,
                                         size_t max_waiting)
    : post_to_loop_(std::move(post_to_loop)), max_waiting_(max_waiting) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Worker(); });
}

ThreadPoolOffloader::~ThreadPoolOffloader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    waiting_.clear();
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

Status ThreadPoolOffloader::Run(std::function<void()> work, std::function<void()> then) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Status::Unavailable("shutting down");
    if (waiting_.size() >= max_waiting_) {
      return Status::Unavailable("too much blocking work waiting");
    }
    waiting_.push_back({std::move(work), std::move(then)});
  }
  wake_.notify_one();
  return Status::Ok();
}

size_t ThreadPoolOffloader::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void ThreadPoolOffloader::Worker() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;
      task = std::move(waiting_.front());
      waiting_.pop_front();
    }
    task.work();
    if (task.then) post_to_loop_(std::move(task.then));
  }
}

}  // namespace sb::signaling
