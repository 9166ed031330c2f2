// Kamailio and other child processes for tests that put real SIP servers on loopback: the
// Switchboard load balancer (deploy/kamailio/switchboard-lb.cfg) in front of sb-signaling
// replicas, and Kamailio as registrar or stateful proxy for the benchmarks.
//
//   sb::testing::ChildProcess replica = sb::testing::ChildProcess::Start(
//       {SB_SIGNALING_BINARY}, {{"SB_SIGNALING_UDP_ADDR", "127.0.0.1:40123"}}, "replica-a");
//   sb::testing::KamailioOptions lb;
//   lb.config = SB_KAMAILIO_LB_CFG;
//   lb.files = {{"dispatcher.list", "1 sip:127.0.0.1:40123\n"}};
//   lb.string_defines = {{"SB_LB_LIST_FILE", "@DIR@/dispatcher.list"}};
//   auto kamailio = sb::testing::Kamailio::Start(lb);    // throws std::runtime_error on failure
//   SendTo(kamailio.port(), ...);  kamailio.ReadLog();   // what it logged so far
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

struct KamailioOptions {
  std::filesystem::path config;  // the .cfg to run
  std::string listen_ip = "127.0.0.1";
  // Files written into the run directory before start, name -> content; "@DIR@" in the content
  // is replaced by the directory.
  std::vector<std::pair<std::string, std::string>> files;
  // -A NAME="VALUE" (quoted: string settings) and -A NAME=VALUE (numbers); "@DIR@" as above.
  std::vector<std::pair<std::string, std::string>> string_defines;
  std::vector<std::pair<std::string, std::string>> defines;
  int shared_memory_mb = 64;
  int private_memory_mb = 8;
};

// Kamailio in the foreground (-DD -E) on a free UDP+TCP port of `listen_ip`, log in its directory.
class Kamailio {
 public:
  // Starts it and returns once it accepts TCP
  // connections. Throws std::runtime_error with the tail of its log when it cannot start.
  static Kamailio Start(const KamailioOptions& options);
  Kamailio(Kamailio&&) noexcept;
  Kamailio& operator=(Kamailio&&) noexcept;
  ~Kamailio();

  int port() const;  // the same for UDP and TCP
  const std::string& ip() const;
  std::string address() const;  // "IP:PORT"
  const std::filesystem::path& dir() const;
  std::string ReadLog() const;
  void Stop();  // SIGTERM (Kamailio stops its children), SIGKILL to the group after a grace

 private:
  Kamailio(ChildProcess process, std::string ip, int port);
  ChildProcess process_;
  std::string ip_;
  int port_ = 0;
};

// A port free for both UDP and TCP on `ip` (bound and released), for SIP servers that listen on
// both with one number.
int FreeSipPort(const std::string& ip = "127.0.0.1");

}  // namespace sb::testing
