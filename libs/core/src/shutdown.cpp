#include "switchboard/core/shutdown.h"

#include <pthread.h>
#include <signal.h>

namespace sb::core {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Sent to the waiter thread by the destructor to end its sigwait when no real signal came.
constexpr int kWakeSignal = SIGUSR2;

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = StopSignals();
  sigaddset(&set, kWakeSignal);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([this, set] {
    int signo = 0;
    if (sigwait(&set, &signo) == 0 && signo != kWakeSignal) Stop(signo);
  });
}

ShutdownSignal::~ShutdownSignal() {
  pthread_kill(waiter_.native_handle(), kWakeSignal);
  waiter_.join();
}

void ShutdownSignal::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return stopping_.load(); });
}

void ShutdownSignal::RequestStop() { Stop(0); }

void ShutdownSignal::Stop(int signo) {
  {
    std::lock_guard lock(mu_);
    if (stopping_.load()) return;
    signal_.store(signo);
    stopping_.store(true);
  }
  cv_.notify_all();
}

}  // namespace sb::core
