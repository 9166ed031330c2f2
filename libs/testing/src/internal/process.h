// Child processes for the test harness: spawn with the output in a log file, wait with a
// deadline, stop by pid. Used by the server classes and by sb-test-servers, which leaves the
// servers running after it exits and stops them later by the pids it wrote down.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sb::testing::internal {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is an absolute path or found through PATH
  std::filesystem::path log;      // stdout and stderr are appended here; stdin is /dev/null
  // Run as this user (the harness runs as root; PostgreSQL refuses to).
  std::optional<std::string> user;
  // Own session, no parent-death signal: the process outlives us (sb-test-servers start).
  bool detach = false;
  // Its own process group, so that the whole group can be signalled (Kamailio signals its group
  // when it stops; in ours that would be the test binary).
  bool own_group = false;
  // Added to (or replacing entries of) our environment.
  std::vector<std::pair<std::string, std::string>> env;
};

// Starts the process. Unless detached, it gets SIGKILL if the spawning thread dies while it
// runs, so a crashed test binary does not leave servers behind (only when spawned from the main
// thread: the signal is tied to the thread, and a worker thread may end long before the test).
// Throws std::runtime_error if the process cannot be created.
pid_t Spawn(const SpawnOptions& options);

// True while the process exists and is not a zombie. Reaps it when it is our child.
bool Alive(pid_t pid);

// Polls `ready` until it returns true (true), the process dies (false) or the deadline passes
// (false). Bounded by `timeout`.
bool WaitUntil(pid_t pid, std::chrono::milliseconds timeout, const std::function<bool()>& ready);

// Waits up to `timeout` for our child to exit; its exit code, or -1 if it was killed by a
// signal or is still running at the deadline (then it is killed).
int WaitExit(pid_t pid, std::chrono::milliseconds timeout);

// Sends `sig`, waits up to `grace` for the process to go, then SIGKILLs it and waits again.
// Works for our children and for processes a previous run started (reparented elsewhere).
void Terminate(pid_t pid, int sig, std::chrono::milliseconds grace);

// The executable name of a running pid ("" if it is gone): guards against killing a reused pid.
std::string ProcessName(pid_t pid);

// The last `lines` lines of a file, for error messages.
std::string Tail(const std::filesystem::path& file, int lines = 20);

// A fresh directory /tmp/sb-<what>.XXXXXX with mode 0755 (postgres must traverse it). The first
// call in a process also sweeps stale server directories (SweepStaleDirs).
std::filesystem::path MakeTempDir(const std::string& what);

// Removes /tmp/sb-{nats,pg,redis}.* directories that test processes which died without running
// their destructors (crash, ctest timeout) left behind: those older than `min_age` that no
// running process uses (its command line names the directory, or its working directory is in
// it: redis rewrites its command line, but works in its --dir). Returns how many it removed.
int SweepStaleDirs(std::chrono::minutes min_age = std::chrono::minutes(10));

// Whether a TCP connect to 127.0.0.1:port succeeds right now.
bool CanConnect(int port);

}  // namespace sb::testing::internal
