// Two real softphones calling each other the way a user's phones reach the platform: through the
// Kamailio balancer (deploy/kamailio/switchboard-lb.cfg, started by libs/testing's launcher) in
// front of the real sb-signaling, with sb-admin and sb-media behind it. Both baresips have the
// balancer as their outbound proxy and registrar; the user's steps and the checks on the phones
// and on NATS are baresip_call.h's (the same as straight at sb-signaling, baresip_call_itest).
// The balancer's own routing log lines show that every request of the call went through it,
// both ways: the replica reaches the phones by the Path and Record-Route entries it added.
#include <catch2/catch.hpp>
#include <string>

#include "baresip_call.h"
#include "platform.h"
#include "switchboard/testing/kamailio.h"

namespace {

// The balancer in front of the platform's one sb-signaling, probing it every second.
sb::testing::Kamailio StartBalancer(const sb::signaling::test::Platform& p) {
  sb::testing::KamailioOptions lb;
  lb.config = SB_KAMAILIO_LB_CFG;
  lb.files = {{"dispatcher.list", "1 sip:127.0.0.1:" + std::to_string(p.sip_port()) + "\n"}};
  lb.string_defines = {{"SB_LB_LIST_FILE", "@DIR@/dispatcher.list"}};
  lb.defines = {{"SB_LB_PING_INTERVAL", "1"}, {"SB_LB_CHILDREN", "2"}};
  return sb::testing::Kamailio::Start(lb);
}

}  // namespace

TEST_CASE(
    "baresip 1001 calls baresip 1002 through the Kamailio balancer - registered there - DTMF "
    "reaches the node and the callee - hangup ends the call",
    "[integration][baresip]") {
  sb::signaling::test::Platform p(sb::signaling::test::BaresipPlatform());
  // The balancer starts once the node answers, so that its first probe finds the node up.
  REQUIRE(p.WaitUntilReady());
  auto balancer = StartBalancer(p);

  sb::signaling::test::CheckBaresipCall(
      p, {.outbound = balancer.address(),
          .caller = {.ip = "127.0.0.53", .user = "1001", .password = "pass-1001-secret"},
          .callee = {.ip = "127.0.0.54", .user = "1002", .password = "pass-1002-secret"},
          .more_logs = [&] { return "--- balancer:\n" + balancer.ReadLog(); }});

  // Phone to node ("route") and node to phone ("from-replica"): the whole dialog on the balancer.
  const std::string log = balancer.ReadLog();
  INFO(log);
  for (const char* line :
       {"sb-lb route REGISTER", "sb-lb route INVITE", "sb-lb from-replica INVITE",
        "sb-lb route ACK", "sb-lb route BYE", "sb-lb from-replica BYE"}) {
    INFO("the balancer's log has no line " << line);
    CHECK(log.find(line) != std::string::npos);
  }
}
