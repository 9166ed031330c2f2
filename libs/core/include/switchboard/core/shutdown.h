// ShutdownSignal: turns SIGTERM and SIGINT into an orderly drain. Construct it first thing in
// main, before any thread starts, so that every thread inherits the blocked signal mask and the
// signal is taken by one waiting thread instead of interrupting arbitrary code.
//
//   int main(int argc, char** argv) {
//     sb::core::ShutdownSignal shutdown;
//     ... start everything ...
//     shutdown.Wait();          // returns on SIGTERM/SIGINT or RequestStop()
//     server.Drain(deadline);   // stop taking work, finish in-flight work, ack what is committed
//   }
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sb::core {

class ShutdownSignal {
 public:
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until a signal arrives or RequestStop() is called. Thread-safe.
  void Wait();
  // Returns true once stopping; cheap, for loops that poll.
  bool stopping() const { return stopping_.load(); }
  // The signal that stopped us (SIGTERM, SIGINT) or 0 when stopped by RequestStop().
  int signal() const { return signal_.load(); }
  void RequestStop();

 private:
  void Stop(int signo);

  std::atomic<bool> stopping_{false};
  std::atomic<int> signal_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread waiter_;
};

}  // namespace sb::core
