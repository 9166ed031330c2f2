#include "switchboard/testing/child_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

#include "internal/process.h"

namespace sb::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr auto kPoll = milliseconds(10);

}  // namespace

struct ChildProcess::Impl {
  pid_t pid = -1;
  bool reaped = false;
  int exit_code = -1;
  std::string name;
  fs::path dir;
  fs::path log;

  // Reaps without blocking; true once the process is gone.
  bool Poll() {
    if (reaped) return true;
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      reaped = true;
      exit_code = r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return reaped;
  }
  // Also what a move-assignment runs for the process it replaces.
  ~Impl() {
    KillGroup();
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  void KillGroup() {
    if (pid <= 0) return;  // never started: kill(-(-1)) would signal everything
    // The group outlives its leader when the leader died first (Kamailio's children).
    kill(-pid, SIGKILL);
    if (!reaped) {
      int status = 0;
      if (waitpid(pid, &status, 0) == pid) {
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      reaped = true;
    }
    AwaitGroupGone();
  }
  // The members killed with the leader were orphaned: they stay in the group (as zombies) until
  // init reaps them, which can take a moment. Bounded: a member stuck in the kernel is let be.
  void AwaitGroupGone() const {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (kill(-pid, 0) == 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(kPoll);
    }
  }
};

ChildProcess ChildProcess::Start(const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env,
                                 const std::string& name, const fs::path& dir) {
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->dir = dir.empty() ? internal::MakeTempDir(name) : dir;
  impl->log = impl->dir / (name + ".log");
  internal::SpawnOptions options;
  options.argv = argv;
  options.log = impl->log;
  options.own_group = true;
  options.env = env;
  impl->pid = internal::Spawn(options);
  return ChildProcess(std::move(impl));
}

ChildProcess::ChildProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChildProcess::ChildProcess(ChildProcess&&) noexcept = default;
ChildProcess& ChildProcess::operator=(ChildProcess&&) noexcept = default;

ChildProcess::~ChildProcess() = default;

pid_t ChildProcess::pid() const { return impl_->pid; }
const fs::path& ChildProcess::dir() const { return impl_->dir; }
const fs::path& ChildProcess::log() const { return impl_->log; }

std::string ChildProcess::ReadLog() const {
  std::ifstream in(impl_->log);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ChildProcess::Running() const { return !impl_->Poll(); }

void ChildProcess::Signal(int sig) const {
  if (!impl_->Poll()) kill(impl_->pid, sig);
}

int ChildProcess::WaitExit(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->Poll() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPoll);
  }
  if (!impl_->reaped) {
    impl_->KillGroup();
    return -1;
  }
  // Whatever the leader left behind goes with it.
  kill(-impl_->pid, SIGKILL);
  impl_->AwaitGroupGone();
  return impl_->exit_code;
}

void ChildProcess::Stop(milliseconds grace) {
  Signal(SIGTERM);
  WaitExit(grace);
}

void ChildProcess::Kill() { impl_->KillGroup(); }

}  // namespace sb::testing
