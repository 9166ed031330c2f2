#include "runtime/offloader.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sb::signaling {
namespace {

// A stand-in for the SIP loop: one thread draining posted tasks in order.
class Loop {
 public:
  void Post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  // Runs what was posted; true when something ran.
  bool RunPosted() {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard lock(mutex_);
      tasks.swap(tasks_);
    }
    for (auto& task : tasks) task();
    return !tasks.empty();
  }

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
};

TEST_CASE("offloaded work runs off the loop and its continuation runs on the loop") {
  Loop loop;
  ThreadPoolOffloader offloader(2, [&](std::function<void()> task) { loop.Post(std::move(task)); });
  const auto loop_thread = std::this_thread::get_id();
  auto work_thread = std::make_shared<std::promise<std::thread::id>>();
  auto work_thread_id = work_thread->get_future();
  std::thread::id then_thread;
  REQUIRE(offloader
              .Run([work_thread] { work_thread->set_value(std::this_thread::get_id()); },
                   [&] { then_thread = std::this_thread::get_id(); })
              .ok());
  REQUIRE(work_thread_id.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(work_thread_id.get() != loop_thread);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!loop.RunPosted() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(then_thread == loop_thread);
}

TEST_CASE("work beyond the waiting limit is refused as UNAVAILABLE and never runs") {
  Loop loop;
  std::promise<void> release;
  auto released = release.get_future().share();
  ThreadPoolOffloader offloader(
      1, [&](std::function<void()> task) { loop.Post(std::move(task)); }, 1);
  std::promise<void> started;
  // The only worker blocks on the first task, the second waits, the third is refused.
  REQUIRE(offloader
              .Run(
                  [&] {
                    started.set_value();
                    released.wait();
                  },
                  [] {})
              .ok());
  started.get_future().wait();
  REQUIRE(offloader.Run([] {}, [] {}).ok());
  bool refused_ran = false;
  Status refused = offloader.Run([&] { refused_ran = true; }, [&] { refused_ran = true; });
  CHECK(refused.code() == StatusCode::kUnavailable);
  release.set_value();
  CHECK_FALSE(refused_ran);
}

TEST_CASE("work without a continuation posts nothing to the loop") {
  std::atomic<int> posted{0};
  std::promise<void> done;
  auto finished = done.get_future();
  {
    ThreadPoolOffloader offloader(1, [&](std::function<void()>) { ++posted; });
    REQUIRE(offloader.Run([&] { done.set_value(); }, nullptr).ok());
    REQUIRE(finished.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    // A later task with a continuation: once it is posted, the first one has long finished.
    REQUIRE(offloader.Run([] {}, [] {}).ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (posted == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  }
  CHECK(posted == 1);
  InlineOffloader inline_offloader;
  bool ran = false;
  REQUIRE(inline_offloader.Run([&] { ran = true; }, nullptr).ok());
  CHECK(ran);
}

TEST_CASE("the inline offloader runs work then continuation at once") {
  InlineOffloader offloader;
  std::vector<int> order;
  REQUIRE(offloader.Run([&] { order.push_back(1); }, [&] { order.push_back(2); }).ok());
  CHECK(order == std::vector<int>{1, 2});
}

}  // namespace
}  // namespace sb::signaling
