// sb-lb-sync (src/balancer/list_sync.h) between real processes: the Kamailio balancer
// (deploy/kamailio/switchboard-lb.cfg) in front of the platform's sb-signaling replicas, which
// heartbeat their SIP URIs into the shared Redis. A replica that starts joins the balancer's
// list, one that stops (SIGTERM, drained) leaves it once it has exited; Kamailio's own view
// (`kamcmd dispatcher.list`) is what is checked, besides the list file.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "platform.h"
#include "switchboard/testing/child_process.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What `kamcmd dispatcher.list` prints: the balancer's destinations as it routes now.
std::string KamailioDispatchers(const sb::testing::Kamailio& balancer) {
  const std::string command =
      "kamcmd -s unix:" + (balancer.dir() / "ctl").string() + " dispatcher.list 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe.get())) > 0;) out.append(buf, n);
  return out;
}

// Polls (every 100 ms, at most `within`) until the balancer lists `uri` (or no longer does).
bool Lists(const sb::testing::Kamailio& balancer, const std::string& uri, bool listed,
           std::chrono::milliseconds within = 15s) {
  const auto deadline = Clock::now() + within;
  for (;;) {
    if ((KamailioDispatchers(balancer).find(uri) != std::string::npos) == listed) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

TEST_CASE(
    "sb-lb-sync - a replica that starts joins the balancer's list - one that stops leaves it "
    "once it has exited - the first stays",
    "[integration]") {
  sb::signaling::test::Platform p({.media = true});  // ready for calls: its /readyz says 200
  REQUIRE(p.WaitUntilReady());
  auto balancer = sb::signaling::test::StartBalancer({p.sip_port()});
  const std::string first = "sip:127.0.0.1:" + std::to_string(p.sip_port());
  auto sync = sb::testing::ChildProcess::Start(
      {SB_LB_SYNC_BINARY},
      {{"SB_REDIS_URL", sb::testing::Shared().redis_url},
       {"SB_SIGNALING_REDIS_PREFIX", p.redis_prefix()},
       {"SB_LB_LIST_FILE", (balancer.dir() / "dispatcher.list").string()},
       {"SB_LB_CTL_SOCKET", "unix:" + (balancer.dir() / "ctl").string()},
       {"SB_LB_SYNC_INTERVAL_MS", "200"}},
      "sb-lb-sync");
  INFO(sync.ReadLog());
  REQUIRE(Lists(balancer, first, true));

  const int second_port = p.AddSignalingReplica();
  const std::string second = "sip:127.0.0.1:" + std::to_string(second_port);
  CHECK(Lists(balancer, second, true));
  INFO(KamailioDispatchers(balancer));
  CHECK(sync.ReadLog().find("balancer list reloaded") != std::string::npos);

  // SIGTERM: it drains (its probes answered 503, its dialogs' requests still reach it), exits
  // and retires its heartbeat; only then is it taken out.
  p.TerminateSignaling(second_port);
  CHECK(Lists(balancer, second, false));
  CHECK(Lists(balancer, first, true, 0ms));
  CHECK(sync.Running());
}
