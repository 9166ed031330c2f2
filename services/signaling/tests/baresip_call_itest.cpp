// Two real softphones calling each other through the platform: baresip 1.0 (Debian) as
// extensions 1001 and 1002 of a tenant created through sb-admin's API, registered with digest
// (MD5: baresip 1.0 fails on a SHA-256 challenge) straight at the real sb-signaling, the call
// anchored on a real sb-media node. The user's steps and what is checked are baresip_call.h's;
// baresip_lb_itest.cpp does the same through the Kamailio balancer.
#include <catch2/catch.hpp>
#include <string>

#include "baresip_call.h"
#include "platform.h"

TEST_CASE(
    "baresip 1001 calls baresip 1002 through sb-signaling - audio both ways through sb-media - "
    "DTMF reaches the node and the callee - hangup ends the call",
    "[integration][baresip]") {
  sb::signaling::test::Platform p(sb::signaling::test::BaresipPlatform());
  REQUIRE(p.WaitUntilReady());

  sb::signaling::test::CheckBaresipCall(
      p, {.outbound = "127.0.0.1:" + std::to_string(p.sip_port()),
          .caller = {.ip = "127.0.0.51", .user = "1001", .password = "pass-1001-secret"},
          .callee = {.ip = "127.0.0.52", .user = "1002", .password = "pass-1002-secret"}});
}
