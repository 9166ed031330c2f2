// Child processes for tests that run the platform's own binaries (sb-signaling replicas,
// sb-media nodes) or third-party servers next to them:
//
//   sb::testing::ChildProcess replica = sb::testing::ChildProcess::Start(
//       {SB_SIGNALING_BINARY}, {{"SB_SIGNALING_UDP_ADDR", "127.0.0.1:40123"}}, "replica-a");
//   replica.Signal(SIGTERM);  replica.WaitExit(std::chrono::seconds(10));
//
// Every process runs in its own process group (Kamailio signals its whole group when it stops;
// in ours that would be the test binary) and is killed with its group when the owner goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sb::testing {

// A child process with stdout and stderr appended to a log file in its own temporary directory.
class ChildProcess {
 public:
  // argv[0] is an absolute path or found through PATH; env entries are added to ours. `name`
  // names the log and the temporary directory (/tmp/sb-<name>.XXXXXX), unless `dir` gives an
  // existing one; either way the process owns it and removes it.
  static ChildProcess Start(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& env,
                            const std::string& name, const std::filesystem::path& dir = {});
  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess& operator=(ChildProcess&&) noexcept;
  ~ChildProcess();  // SIGKILLs the process group if it still runs, removes the directory

  pid_t pid() const;
  const std::filesystem::path& dir() const;
  const std::filesystem::path& log() const;
  std::string ReadLog() const;
  bool Running() const;
  void Signal(int sig) const;  // to the main process only
  // Waits up to `timeout` for the process to exit: its exit code, or -1 (killed by a signal, or
  // still running at the deadline, when it is then killed with its group).
  int WaitExit(std::chrono::milliseconds timeout);
  // SIGTERM, up to `grace` to go, then SIGKILL to the whole group.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  void Kill();  // SIGKILL to the whole group, waits

  struct Impl;

 private:
  explicit ChildProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::testing
