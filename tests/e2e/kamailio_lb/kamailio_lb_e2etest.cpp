// The SIP load balancer of deploy/kamailio/switchboard-lb.cfg in front of two real sb-signaling
// processes, driven by sipp over loopback UDP: requests go through, a Call-ID sticks to one
// replica, a draining replica (SIGTERM -> OPTIONS 503) gets no new requests, a killed
// replica's Call-IDs move to the survivor, and a replica added to the list (reloaded over the
// control socket) gets its share. Where a request went is read from the balancer's own
// routing log lines ("sb-lb route ... dst=..."); what the phone got is sipp's verdict (every
// request of every call answered 200, or sipp exits non-zero).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/testing/kamailio.h"
#include "switchboard/testing/servers.h"
#include "switchboard/testing/udp_socket.h"

namespace {

namespace fs = std::filesystem;
using sb::testing::ChildProcess;
using sb::testing::Kamailio;

// An OPTIONS to 127.0.0.1:`port`, the `n`th (its own branch and Call-ID), from `via`.
std::string ProbeOptions(int port, int n, const std::string& via = "127.0.0.1:9") {
  std::string branch = "z9hG4bKe2eprobe" + std::to_string(port) + "x" + std::to_string(n);
  return "OPTIONS sip:127.0.0.1:" + std::to_string(port) +
         " SIP/2.0\r\n"
         "Via: SIP/2.0/UDP " +
         via + ";rport;branch=" + branch +
         "\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:e2e@sb.test>;tag=1\r\nTo: <sip:127.0.0.1>\r\n"
         "Call-ID: " +
         branch + "@sb.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
}

// The status code of the first answer to a direct OPTIONS, or 0 when none came in 250 ms.
int DirectOptions(int port, int n) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{0, 250000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  std::string msg = ProbeOptions(port, n);
  sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  char buf[4096];
  ssize_t got = recv(fd, buf, sizeof buf, 0);
  close(fd);
  if (got < 12 || std::string_view(buf, 8) != "SIP/2.0 ") return 0;
  return std::atoi(std::string(buf + 8, 3).c_str());
}

// `count` OPTIONS from `ip` to the balancer as fast as they go, then their answers until none
// has come for 500 ms: how many were answered 200.
int Flood(const Kamailio& lb, const std::string& ip, int count) {
  sb::testing::UdpSocket phone(ip);
  const std::string via = ip + ":" + std::to_string(phone.port());
  for (int n = 0; n < count; ++n) {
    phone.SendTo(static_cast<uint16_t>(lb.port()), ProbeOptions(lb.port(), n, via));
  }
  int answered = 0;
  while (auto got = phone.Receive(std::chrono::milliseconds(500))) {
    if (got->text().starts_with("SIP/2.0 200 ")) ++answered;
  }
  return answered;
}

// One sb-signaling process on its own UDP/TCP port.
struct Replica {
  int port = 0;
  ChildProcess process;

  static Replica Start(const std::string& node_id, int port = 0) {
    if (port == 0) port = sb::testing::FreeSipPort();
    const std::string addr = "127.0.0.1:" + std::to_string(port);
    auto process = ChildProcess::Start({SB_SIGNALING_BINARY},
                                       {{"SB_SIGNALING_NODE_ID", node_id},
                                        {"SB_SIGNALING_UDP_ADDR", addr},
                                        {"SB_SIGNALING_TCP_ADDR", addr},
                                        {"SB_SIGNALING_ADVERTISED_ADDR", addr},
                                        {"SB_HTTP_PORT", "0"},
                                        // A drained node keeps answering 503 for the whole test.
                                        {"SB_SIGNALING_DRAIN_NOTICE_MS", "60000"},
                                        {"SB_SIGNALING_DRAIN_SECONDS", "60"}},
                                       "signaling-" + node_id);
    // Start-up takes a moment: probe until the first answer (bounded: 40 x 250 ms).
    int status = 0;
    for (int i = 0; i < 40 && status == 0 && process.Running(); ++i) {
      status = DirectOptions(port, i);
    }
    INFO(process.ReadLog());
    REQUIRE(status == 200);
    return Replica{port, std::move(process)};
  }
  std::string uri() const { return "sip:127.0.0.1:" + std::to_string(port); }
};

struct Cluster {
  Replica a = Replica::Start("lb-a");
  Replica b = Replica::Start("lb-b");
  Kamailio lb = StartBalancer();

  Kamailio StartBalancer() {
    auto options = sb::testing::BalancerOptions(SB_KAMAILIO_LB_CFG, {a.uri(), b.uri()});
    options.defines.emplace_back("SB_LB_FR_TIMER_MS", "1000");
    return Kamailio::Start(options);
  }
};

// A sipp scenario of `requests` OPTIONS in one Call-ID, each to be answered 200.
fs::path WriteScenario(int requests) {
  fs::path path = fs::temp_directory_path() / (sb::testing::UniqueName("lb_options") + ".xml");
  std::ofstream out(path);
  out << R"(<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options through the balancer">
)";
  for (int cseq = 1; cseq <= requests; ++cseq) {
    out << R"(  <send retrans="500">
    <![CDATA[

      OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:phone@sb.test>;tag=[pid]SIPpTag[call_number]
      To: <sip:[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: )"
        << cseq << R"( OPTIONS
      Max-Forwards: 70
      Content-Length: [len]

    ]]>
  </send>
  <recv response="200" timeout="10000"/>
)";
  }
  out << "</scenario>\n";
  return path;
}

// sipp's exit status: 0 only when every request of every call got its 200. The Call-IDs are
// "<batch>-<call number>@sb.test" (sipp maps answers to calls by Call-ID, so they come from its
// -cid_str), and the same batch name gives the same Call-IDs again.
int RunSipp(const Kamailio& lb, const std::string& batch, int calls, int requests) {
  fs::path scenario = WriteScenario(requests);
  std::string cmd = "sipp -sf " + scenario.string() + " " + lb.address() + " -cid_str " + batch +
                    "-%u@sb.test" + " -i 127.0.0.1 -p " +
                    std::to_string(sb::testing::FreeSipPort()) + " -m " + std::to_string(calls) +
                    " -r 50 -nostdin -timeout 40s -timeout_error > /dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  fs::remove(scenario);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Call-ID -> the replicas the balancer sent its requests to, in order ("route" lines are the
// hash choice, "failover" lines the next replica after a timeout or 503).
std::map<std::string, std::vector<std::string>> Routes(const Kamailio& lb,
                                                       const std::string& batch) {
  std::map<std::string, std::vector<std::string>> routes;
  std::istringstream log(lb.ReadLog());
  const std::string prefix = "call_id=" + batch + "-";
  for (std::string line; std::getline(log, line);) {
    if (line.find("sb-lb route ") == std::string::npos &&
        line.find("sb-lb failover ") == std::string::npos) {
      continue;
    }
    size_t id = line.find(prefix);
    size_t dst = line.find(" dst=");
    if (id == std::string::npos || dst == std::string::npos) continue;
    std::string call_id = line.substr(id + 8, line.find(' ', id) - id - 8);
    routes[call_id].push_back(line.substr(dst + 5));
  }
  return routes;
}

// Waits (bounded) until the balancer logs that it took `uri` out of the set ("down": its probes
// got no 200, or a request timed out there) or put it back ("up"), looking only at what it logged
// after `since` (a log size taken before the change was caused): under load a start-up probe can
// time out, and its down/up lines must not pass for the change under test.
bool WaitReplica(const Kamailio& lb, const std::string& state, const std::string& uri,
                 size_t since) {
  const std::string line = "sb-lb replica " + state + " " + uri;
  for (int i = 0; i < 150; ++i) {
    std::string log = lb.ReadLog();
    for (size_t at = log.find(line, since); at != std::string::npos; at = log.find(line, at + 1)) {
      char next = at + line.size() < log.size() ? log[at + line.size()] : '\0';
      if (next == '\n' || next == ' ') return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("requests through the balancer are answered and each Call-ID sticks to one replica",
          "[e2e]") {
  Cluster cluster;
  // 20 calls of 5 requests each, then the same 20 Call-IDs again.
  REQUIRE(RunSipp(cluster.lb, "sticky", 20, 5) == 0);
  REQUIRE(RunSipp(cluster.lb, "sticky", 20, 5) == 0);

  auto routes = Routes(cluster.lb, "sticky");
  INFO(cluster.lb.ReadLog());
  REQUIRE(routes.size() == 20);
  std::set<std::string> used;
  for (const auto& [call_id, dsts] : routes) {
    INFO(call_id);
    CHECK(dsts.size() >= 10);
    CHECK(std::set<std::string>(dsts.begin(), dsts.end()).size() == 1);
    used.insert(dsts.front());
  }
  // The hash spreads 20 Call-IDs over both replicas (all on one: probability 2^-19).
  CHECK(used == std::set<std::string>{cluster.a.uri(), cluster.b.uri()});
}

TEST_CASE("a draining replica answers probes 503 and gets no new requests", "[e2e]") {
  Cluster cluster;
  REQUIRE(RunSipp(cluster.lb, "before", 10, 1) == 0);

  const size_t since = cluster.lb.ReadLog().size();
  cluster.a.process.Signal(SIGTERM);
  REQUIRE(WaitReplica(cluster.lb, "down", cluster.a.uri(), since));
  // It is still running and answering, only no longer taking new work.
  CHECK(cluster.a.process.Running());
  CHECK(DirectOptions(cluster.a.port, 1000) == 503);

  REQUIRE(RunSipp(cluster.lb, "drained", 20, 2) == 0);
  auto routes = Routes(cluster.lb, "drained");
  INFO(cluster.lb.ReadLog());
  REQUIRE(routes.size() == 20);
  for (const auto& [call_id, dsts] : routes) {
    INFO(call_id);
    for (const auto& dst : dsts) CHECK(dst == cluster.b.uri());
  }
}

TEST_CASE("a killed replica's Call-IDs move to the survivor", "[e2e]") {
  Cluster cluster;
  REQUIRE(RunSipp(cluster.lb, "share", 20, 1) == 0);
  auto before = Routes(cluster.lb, "share");
  REQUIRE(before.size() == 20);
  std::set<std::string> on_b;
  for (const auto& [call_id, dsts] : before) {
    if (dsts.front() == cluster.b.uri()) on_b.insert(call_id);
  }
  REQUIRE(!on_b.empty());
  REQUIRE(on_b.size() < 20);

  const size_t since = cluster.lb.ReadLog().size();
  cluster.b.process.Kill();
  // The same Call-IDs again, at once: those that hashed to B time out there (or find it already
  // probed down) and are answered by A; A's own keep going to A.
  REQUIRE(RunSipp(cluster.lb, "share", 20, 1) == 0);
  auto after = Routes(cluster.lb, "share");
  INFO(cluster.lb.ReadLog());
  REQUIRE(after.size() == 20);
  for (const auto& [call_id, dsts] : after) {
    INFO(call_id);
    REQUIRE(dsts.size() > before[call_id].size());
    CHECK(dsts.back() == cluster.a.uri());
    if (!on_b.contains(call_id)) {
      CHECK(std::set<std::string>(dsts.begin(), dsts.end()).size() == 1);
    }
  }
  // Later Call-IDs go straight to the survivor once the probes took B out.
  REQUIRE(WaitReplica(cluster.lb, "down", cluster.b.uri(), since));
  REQUIRE(RunSipp(cluster.lb, "later", 20, 1) == 0);
  for (const auto& [call_id, dsts] : Routes(cluster.lb, "later")) {
    INFO(call_id);
    CHECK(dsts == std::vector<std::string>{cluster.a.uri()});
  }
}

TEST_CASE("a replica back on its address gets its Call-IDs again once its probes answer 200",
          "[e2e]") {
  Cluster cluster;
  const int port_b = cluster.b.port;
  const size_t before_kill = cluster.lb.ReadLog().size();
  cluster.b.process.Kill();
  REQUIRE(WaitReplica(cluster.lb, "down", cluster.b.uri(), before_kill));
  REQUIRE(RunSipp(cluster.lb, "while_down", 20, 1) == 0);
  for (const auto& [call_id, dsts] : Routes(cluster.lb, "while_down")) {
    INFO(call_id);
    CHECK(dsts == std::vector<std::string>{cluster.a.uri()});
  }

  const size_t before_restart = cluster.lb.ReadLog().size();
  cluster.b = Replica::Start("lb-b2", port_b);
  REQUIRE(WaitReplica(cluster.lb, "up", cluster.b.uri(), before_restart));
  REQUIRE(RunSipp(cluster.lb, "while_down", 20, 1) == 0);
  INFO(cluster.lb.ReadLog());
  std::set<std::string> used;
  for (const auto& [call_id, dsts] : Routes(cluster.lb, "while_down")) {
    INFO(call_id);
    REQUIRE(dsts.size() == 2);
    used.insert(dsts.back());
  }
  CHECK(used == std::set<std::string>{cluster.a.uri(), cluster.b.uri()});
}

TEST_CASE("a replica added to the list gets its share of new Call-IDs once the balancer reloads it",
          "[e2e]") {
  Replica a = Replica::Start("lb-a");
  Replica b = Replica::Start("lb-b");
  Kamailio lb = Kamailio::Start(sb::testing::BalancerOptions(SB_KAMAILIO_LB_CFG, {a.uri()}));
  REQUIRE(RunSipp(lb, "alone", 20, 1) == 0);
  for (const auto& [call_id, dsts] : Routes(lb, "alone")) {
    INFO(call_id);
    CHECK(dsts == std::vector<std::string>{a.uri()});
  }

  sb::testing::ReloadBalancer(lb, {a.uri(), b.uri()});
  REQUIRE(RunSipp(lb, "scaled", 20, 1) == 0);
  auto routes = Routes(lb, "scaled");
  INFO(lb.ReadLog());
  REQUIRE(routes.size() == 20);
  std::set<std::string> used;
  for (const auto& [call_id, dsts] : routes) used.insert(dsts.front());
  CHECK(used == std::set<std::string>{a.uri(), b.uri()});
}

TEST_CASE("a flooding address is dropped at the balancer - served again once it has slowed down",
          "[e2e]") {
  Replica replica = Replica::Start("lb-flood");
  auto options = sb::testing::BalancerOptions(SB_KAMAILIO_LB_CFG, {replica.uri()});
  options.defines.emplace_back("SB_LB_FLOOD_REQUESTS", "20");
  options.defines.emplace_back("SB_LB_FLOOD_SECONDS", "2");
  Kamailio lb = Kamailio::Start(options);
  REQUIRE(Flood(lb, "127.0.0.41", 1) == 1);  // the replica is in the balancer's set

  const int answered = Flood(lb, "127.0.0.40", 300);
  INFO(lb.ReadLog());
  CHECK(answered > 0);
  CHECK(answered < 100);  // 20 a window pass; the rest are dropped unanswered
  CHECK(lb.ReadLog().find("BLOCKing ip 127.0.0.40") != std::string::npos);
  // pike forgets an address remove_latency (4 s) after its window shows no flood.
  std::this_thread::sleep_for(std::chrono::seconds(7));
  CHECK(Flood(lb, "127.0.0.40", 1) == 1);
}
