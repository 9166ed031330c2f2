// MediaWorker: one event loop thread (epoll) with its own MediaEngine and the sockets of the legs
// it carries. The node runs one worker per core; a leg's packets are only ever touched by its
// worker's thread, and the receive buffer is allocated once per worker, not per packet.
//
//   MediaWorker worker(0, clock, events, metrics, engine_options);
//   SB_RETURN_IF_ERROR(worker.Start());
//   worker.WithEngine([&](MediaEngine& e) { return e.AddLeg(setup); });  // from any thread
//   SB_RETURN_IF_ERROR(worker.Watch(fd));
//   worker.Stop();
//
// Commands from other threads take the worker's lock, which the loop holds while it handles a
// batch of datagrams or a 20 ms tick (timerfd): short, bounded critical sections.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <mutex>
#include <span>
#include <thread>

#include "session/engine.h"

namespace sb::media {

class MediaWorker final : public PacketSink {
 public:
  // References are borrowed and must outlive the worker.
  MediaWorker(int index, const core::Clock& clock, EventSink& events,
              core::MetricsRegistry& metrics, EngineOptions options);
  ~MediaWorker() override;
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  Status Start();
  void Stop();  // joins the thread; idempotent

  // Adds a socket to (removes it from) this worker's epoll set.
  Status Watch(int fd);
  void Unwatch(int fd);

  // Runs fn(engine) under the worker's lock and returns what it returns.
  template <typename F>
  auto WithEngine(F&& fn) {
    std::lock_guard lock(mu_);
    return fn(engine_);
  }
  std::mutex& mutex() { return mu_; }
  MediaEngine& engine_unlocked() { return engine_; }
  int index() const { return index_; }
  // The loop thread (for per-thread CPU accounting in benchmarks); valid between Start and Stop.
  std::thread::native_handle_type native_thread() { return thread_.native_handle(); }

  void Send(int socket, const Endpoint& to, std::span<const uint8_t> datagram) override;

 private:
  void Run();
  void Drain(int fd);

  int index_;
  std::mutex mu_;
  MediaEngine engine_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // recvmmsg batch: one system call reads what a socket has (usually one datagram) instead of a
  // recvfrom per datagram plus one more that finds the socket empty.
  static constexpr int kBatch = 32;
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> rx_{};
  std::array<mmsghdr, kBatch> rx_msgs_{};
  std::array<iovec, kBatch> rx_iov_{};
  std::array<sockaddr_in, kBatch> rx_from_{};
  core::CounterMetric& ticks_late_;
};

}  // namespace sb::media
