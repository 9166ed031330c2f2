// What a user does with two softphones, as one check shared by the tests that put baresip in
// front of the platform in different ways (straight at sb-signaling, or through the Kamailio
// balancer): a new tenant with extensions 1001 and 1002 created through admin's API, two baresip
// 1.0 phones (baresip_phone.h) register them, 1001 dials 1002, 1002 accepts, 1001 types 159#,
// 1001 (or 1002) hangs up. Checked on both phones (their ctrl_tcp events) and on the platform's
// NATS: the node's `dtmf` events for the call, the call's `answered` and `ended` events, and both
// media legs' final statistics (audio both ways).
//
//   Platform p(BaresipPlatform());
//   REQUIRE(p.WaitUntilReady());
//   CheckBaresipCall(p, {.outbound = "127.0.0.1:" + std::to_string(p.sip_port()),
//                        .caller = {"127.0.0.51", "1001", "pass-1001-secret"},
//                        .callee = {"127.0.0.52", "1002", "pass-1002-secret"}});
//
// Fails the running Catch2 test (REQUIRE / CHECK) with both phones' logs and sb-signaling's.
#pragma once

#include <functional>
#include <string>

#include "platform.h"
#include "switchboard/call/v1/events.pb.h"

namespace sb::signaling::test {

struct BaresipExtension {
  std::string ip;        // the phone's own loopback address
  std::string user;      // extension number, created through admin with
  std::string password;  // this SIP password
};

struct BaresipCall {
  std::string outbound;  // "IP:PORT" both phones send to: sb-signaling or the balancer
  BaresipExtension caller;
  BaresipExtension callee;
  bool callee_hangs_up = false;  // the callee's /hangup ends the call instead of the caller's
  // Run once the DTMF is checked, before the hangup (a replica crashing, say), and the cause the
  // call's `ended` event must then carry.
  std::function<void()> before_hangup{};
  switchboard::call::v1::EndCause end_cause = switchboard::call::v1::END_CAUSE_NORMAL_CLEARING;
  // More of the story for a failure message (the balancer's log, say); may be empty.
  std::function<std::string()> more_logs{};
};

// The platform the phones need: an sb-media node for the call, and MD5 challenges only (baresip
// 1.0 fails on a SHA-256 challenge instead of answering the MD5 one).
PlatformOptions BaresipPlatform();

void CheckBaresipCall(Platform& p, const BaresipCall& call);

}  // namespace sb::signaling::test
