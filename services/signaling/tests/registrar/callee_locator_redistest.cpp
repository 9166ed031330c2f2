// The B2BUA's callee lookup on the registrar's bindings in Redis: live contacts of the
// extension's AOR, highest q first, each with the address its REGISTER came from and its Path.
#include <catch2/catch.hpp>
#include <chrono>

#include "registrar/bindings.h"
#include "registrar/callee_locator.h"
#include "switchboard/testing/servers.h"

namespace {
using namespace std::chrono_literals;
}  // namespace

TEST_CASE("sources parse back into destinations", "[unit]") {
  auto udp = sb::signaling::ParseSource("udp:192.0.2.7:40112");
  REQUIRE(udp.has_value());
  CHECK(udp->host == "192.0.2.7");
  CHECK(udp->port == 40112);
  CHECK(udp->transport == sb::sip::Transport::kUdp);
  CHECK(sb::signaling::ParseSource("tcp:198.51.100.9:5060")->transport == sb::sip::Transport::kTcp);
  CHECK_FALSE(sb::signaling::ParseSource("udp:192.0.2.7").has_value());
  CHECK_FALSE(sb::signaling::ParseSource("sctp:192.0.2.7:5060").has_value());
  CHECK_FALSE(sb::signaling::ParseSource("udp:192.0.2.7:0").has_value());
}

TEST_CASE("live contacts of an extension highest q first with source and Path", "[redis]") {
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url,
                                           sb::testing::UniqueName("loc") + ":");
  REQUIRE(options.ok());
  sb::redis::Client redis(*options);
  sb::signaling::RedisBindingStore store(redis);
  // Redis expires keys on its own clock: the fake wall time starts at the real one.
  sb::core::FakeClock clock(std::chrono::system_clock::now());
  const sb::TenantId tenant("0190d1d2-0000-7000-8000-0000000000aa");
  const auto now = clock.WallNow();
  REQUIRE(
      store
          .Save(tenant, "sip:1002@acme.sip.test", {},
                {{"sip:1002@10.0.0.5:5060", 500, "c1", 1, now + 300s, "udp:203.0.113.5:40001", {}},
                 {"sip:1002@10.0.0.6:5060",
                  900,
                  "c2",
                  1,
                  now + 300s,
                  "tcp:203.0.113.6:40002",
                  {"<sip:lb.acme.test;lr>"}},
                 {"sip:1002@10.0.0.7:5060", 1000, "c3", 1, now - 1s, "udp:203.0.113.7:40003", {}}})
          .ok());
  sb::signaling::RegistrarCalleeLocator locator(store, nullptr, clock);
  auto targets = locator.Locate(tenant, "ACME.sip.test", "1002");
  REQUIRE(targets.ok());
  REQUIRE(targets->size() == 2);  // the expired one is not rung
  CHECK((*targets)[0].contact_uri == "sip:1002@10.0.0.6:5060");
  CHECK((*targets)[0].destination.host == "203.0.113.6");
  CHECK((*targets)[0].destination.transport == sb::sip::Transport::kTcp);
  CHECK((*targets)[0].path == std::vector<std::string>{"<sip:lb.acme.test;lr>"});
  CHECK((*targets)[1].destination.port == 40001);

  // The registrar stores a REGISTER's AOR with its escapes normalised (sip:%31002@... is
  // sip:1002@...); an extension whose SIP username needs escapes is found the same way.
  REQUIRE(
      store
          .Save(tenant, sb::signaling::CanonicalAor("sip", "a%20b", "acme.sip.test"), {},
                {{"sip:x@10.0.0.8:5060", 1000, "c4", 1, now + 300s, "udp:203.0.113.8:5060", {}}})
          .ok());
  auto escaped = locator.Locate(tenant, "acme.sip.test", "a%20b");
  REQUIRE(escaped.ok());
  CHECK(escaped->size() == 1);

  auto nobody = locator.Locate(tenant, "acme.sip.test", "1003");
  REQUIRE(nobody.ok());
  CHECK(nobody->empty());
}
