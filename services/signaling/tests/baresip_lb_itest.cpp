// Two real softphones calling each other the way a user's phones reach the platform: through the
// Kamailio balancer (deploy/kamailio/switchboard-lb.cfg, started by libs/testing's launcher) in
// front of two sb-signaling replicas, with sb-admin and sb-media behind them. Both baresips have
// the balancer as their outbound proxy and registrar; the user's steps and the checks on the
// phones and on NATS are baresip_call.h's (the same as straight at sb-signaling,
// baresip_call_itest). Which replica takes each REGISTER and the call is the Call-ID hash's
// choice: the callee's binding may be stored by one replica and the call set up by the other
// (bindings and calls are in the shared Redis). The balancer's own routing log lines show that
// every request of the call went through it, both ways: the replica reaches the phones by the
// Path and Record-Route entries it added.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "baresip_call.h"
#include "platform.h"

namespace {

using sb::signaling::test::DestinationOf;
using sb::signaling::test::DestinationPort;
using sb::signaling::test::StartBalancer;

// The user's call through the balancer in front of two replicas; the balancer's log must show
// every request of the dialog, phone to node ("route") and node to phone ("from-replica").
// With `holder_crashes` the replica that took the INVITE is killed before the hangup. Each case
// gives its phones their own loopback addresses (ctest may run the cases side by side).
void CallThroughTwoReplicas(const std::string& caller_ip, const std::string& callee_ip,
                            bool callee_hangs_up, bool holder_crashes = false) {
  sb::signaling::test::Platform p(sb::signaling::test::BaresipPlatform());
  // The balancer starts once both nodes answer, so that its first probes find them up.
  REQUIRE(p.WaitUntilReady());
  const int second_replica = p.AddSignalingReplica();
  auto balancer = StartBalancer({p.sip_port(), second_replica});
  auto holder = [&] { return DestinationOf(balancer.ReadLog(), "sb-lb route INVITE"); };

  sb::signaling::test::BaresipCall call{
      .outbound = balancer.address(),
      .caller = {.ip = caller_ip, .user = "1001", .password = "pass-1001-secret"},
      .callee = {.ip = callee_ip, .user = "1002", .password = "pass-1002-secret"},
      .callee_hangs_up = callee_hangs_up,
      .more_logs = [&] { return "--- balancer:\n" + balancer.ReadLog(); }};
  if (holder_crashes) {
    call.before_hangup = [&] {
      p.KillSignaling(DestinationPort(balancer.ReadLog(), "sb-lb route INVITE"));
    };
    call.end_cause = switchboard::call::v1::END_CAUSE_NODE_FAILURE;
  }
  sb::signaling::test::CheckBaresipCall(p, call);

  const std::string log = balancer.ReadLog();
  INFO(log);
  for (const char* line :
       {"sb-lb route REGISTER", "sb-lb route INVITE", "sb-lb from-replica INVITE",
        "sb-lb route ACK", "sb-lb route BYE", "sb-lb from-replica BYE"}) {
    INFO("the balancer's log has no line " << line);
    CHECK(log.find(line) != std::string::npos);
  }
  // Whoever hangs up, the BYE reaches the replica that holds the call, although the callee
  // leg's Call-ID (the replica's own) may hash to the other one; once that replica is gone,
  // the other one.
  CHECK(DestinationOf(log, "sb-lb route BYE") == holder());
  if (holder_crashes) {
    const std::string survivor = DestinationOf(log, "sb-lb failover BYE");
    CHECK(survivor != holder());
    CHECK(survivor.starts_with("sip:127.0.0.1:"));
  }
}

}  // namespace

TEST_CASE(
    "baresip 1001 calls baresip 1002 through the Kamailio balancer in front of two sb-signaling "
    "replicas - registered there - DTMF reaches the node and the callee - hangup ends the call",
    "[integration][baresip]") {
  CallThroughTwoReplicas("127.0.0.53", "127.0.0.54", /*callee_hangs_up=*/false);
}

// The callee's BYE has the callee leg's Call-ID, which hashes to either replica: the balancer
// sends it to the replica named in its Record-Route entry (before, half of these calls ended
// with cause node_failure, by the replica that did not hold the call, from Redis).
TEST_CASE(
    "baresip 1002 hangs up a call from 1001 through the Kamailio balancer in front of two "
    "sb-signaling replicas - both phones close and the call ends",
    "[integration][baresip]") {
  CallThroughTwoReplicas("127.0.0.55", "127.0.0.56", /*callee_hangs_up=*/true);
}

// The callee leg's dialog names its replica; when that replica dies, the callee's BYE goes to the
// survivor after one timeout, and the survivor ends the call from Redis (BYE to the caller).
TEST_CASE(
    "the replica holding a baresip call dies - 1002's BYE through the balancer reaches the "
    "survivor - both phones close and the call ends with cause node_failure",
    "[integration][baresip]") {
  CallThroughTwoReplicas("127.0.0.57", "127.0.0.58", /*callee_hangs_up=*/true,
                         /*holder_crashes=*/true);
}
