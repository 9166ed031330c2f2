// Kamailio for tests that put real SIP servers on loopback: the Switchboard load balancer
// (deploy/kamailio/switchboard-lb.cfg) in front of sb-signaling replicas (child_process.h), and
// Kamailio as registrar or stateful proxy for the benchmarks.
//
//   sb::testing::KamailioOptions lb;
//   lb.config = SB_KAMAILIO_LB_CFG;
//   lb.files = {{"dispatcher.list", "1 sip:127.0.0.1:40123\n"}};
//   lb.string_defines = {{"SB_LB_LIST_FILE", "@DIR@/dispatcher.list"},
//                        {"SB_LB_CTL_SOCKET", "unix:@DIR@/ctl"}};
//   auto kamailio = sb::testing::Kamailio::Start(lb);    // throws std::runtime_error on failure
//   SendTo(kamailio.port(), ...);  kamailio.ReadLog();   // what it logged so far
//
//   // The balancer in front of two replicas, probing them every second:
//   auto lb = sb::testing::Kamailio::Start(
//       sb::testing::BalancerOptions(SB_KAMAILIO_LB_CFG, {"sip:127.0.0.1:40123", ...}));
//   sb::testing::ReloadBalancer(lb, {...});                // another list, read again
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "switchboard/testing/child_process.h"

namespace sb::testing {

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

// The load balancer's `config` (deploy/kamailio/switchboard-lb.cfg) in front of the replicas at
// `replica_uris` ("sip:IP:PORT"), in one dispatcher set, probed every second by two children: a
// replica that dies is marked down within a test's patience. Add defines for more.
KamailioOptions BalancerOptions(std::filesystem::path config,
                                const std::vector<std::string>& replica_uris);

// Rewrites that balancer's replica list and has it read again over its control socket
// (`kamcmd dispatcher.reload`), as scaling the replicas does. Throws std::runtime_error when
// kamcmd fails.
void ReloadBalancer(const Kamailio& balancer, const std::vector<std::string>& replica_uris);

// A port free for both UDP and TCP on `ip` (bound and released), for SIP servers that listen on
// both with one number.
int FreeSipPort(const std::string& ip = "127.0.0.1");

}  // namespace sb::testing
