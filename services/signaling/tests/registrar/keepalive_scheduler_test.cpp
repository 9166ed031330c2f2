// KeepaliveScheduler on a FakeClock: which bindings are pinged (NAT, "ob", this replica's
// source), when, what an answer and a silence do, and the bounds.
#include "registrar/keepalive_scheduler.h"

#include <catch2/catch.hpp>

#include "registrar/callee_locator.h"

namespace sb::signaling {
namespace {

using namespace std::chrono_literals;

const TenantId kTenant("0190d1d2-0000-7000-8000-0000000000cc");
const std::string kAor = "sip:1001@acme.sip.test";
const std::string kSource = "udp:203.0.113.5:40001";

struct Fixture {
  core::FakeClock clock;
  KeepaliveScheduler scheduler{
      clock,
      {.interval = 30s, .timeout = 5s, .max_failures = 2, .max_tracked = 3, .max_per_tick = 2}};

  Binding Behind(std::string contact, std::chrono::seconds expires_in = 3600s) const {
    return {.contact = std::move(contact),
            .q_milli = 1000,
            .call_id = "c1",
            .cseq = 1,
            .expires_at = clock.WallNow() + expires_in,
            .source = kSource,
            .path = {}};
  }
  KeepaliveWork At(std::chrono::seconds after) {
    clock.Advance(after);
    return scheduler.Tick();
  }
};

}  // namespace

TEST_CASE("a phone behind NAT needs pings and one reachable at its Contact does not", "[unit]") {
  Binding b;
  b.contact = "sip:1001@192.168.1.20:5060";
  b.source = "udp:203.0.113.5:40001";
  CHECK(NeedsKeepalive(b));
  b.contact = "sip:1001@203.0.113.5:40001";
  CHECK_FALSE(NeedsKeepalive(b));
  b.contact = "sip:1001@203.0.113.5:40001;ob";  // RFC 5626: use (and keep) this flow
  CHECK(NeedsKeepalive(b));
  b.contact = "sip:1001@203.0.113.5";  // port 5060 by default
  b.source = "udp:203.0.113.5:5060";
  CHECK_FALSE(NeedsKeepalive(b));
  b.contact = "sips:1001@203.0.113.5";
  b.source = "tcp:203.0.113.5:5061";
  CHECK_FALSE(NeedsKeepalive(b));
}

TEST_CASE("behind the balancer the phone's address is the Path entry's received parameter",
          "[unit]") {
  Binding b;
  b.contact = "sip:1001@192.168.1.20:5060";
  b.source = "udp:10.0.0.2:5060";  // the balancer
  b.path = {"<sip:10.0.0.2:5060;lr;received=sip:192.168.1.20:5060>"};
  CHECK_FALSE(NeedsKeepalive(b));  // the phone is not NATed, only balanced
  b.path = {"<sip:10.0.0.2:5060;lr;received=\"sip:198.51.100.7:31000\">"};
  CHECK(NeedsKeepalive(b));
  b.path = {"<sip:10.0.0.2;lr;received=sip%3A192.168.1.20%3A5060%3Btransport%3Dudp>"};
  CHECK_FALSE(NeedsKeepalive(b));
  b.path = {"<sip:10.0.0.2;lr>"};  // no received: the source (the balancer) is what was seen
  CHECK(NeedsKeepalive(b));
}

TEST_CASE(
    "a Path's received parameter is the phone's address - the entry nearest the phone when "
    "several have one",
    "[unit]") {
  using sb::signaling::PathReceived;
  auto seen = PathReceived({"<sip:10.0.0.2;lr;received=sip%3A192.168.1.20%3A5062>"});
  REQUIRE(seen);
  CHECK(seen->host == "192.168.1.20");
  CHECK(seen->port == 5062);
  seen = PathReceived({"<sip:10.0.0.1;lr;received=sip:10.0.0.3:5060>",
                       "<sip:10.0.0.3;lr;received=\"sip:198.51.100.7:31000\">"});
  REQUIRE(seen);
  CHECK(seen->host == "198.51.100.7");
  CHECK(seen->port == 31000);
  CHECK_FALSE(PathReceived({"<sip:10.0.0.2;lr>"}));
  CHECK_FALSE(PathReceived({"<sip:10.0.0.2;lr;received=nonsense>"}));
  // Bytes above 0x7f after a '%' are no escape: kept as they are.
  auto odd = PathReceived({"<sip:10.0.0.2;lr;received=sip:%\xe9\xff:5060>"});
  REQUIRE(odd);
  CHECK(odd->host == "%\xe9\xff");
  CHECK_FALSE(PathReceived({}));
}

TEST_CASE("a NATed binding from this REGISTER's source is pinged every interval while it answers",
          "[unit]") {
  Fixture f;
  f.scheduler.OnRegistered(kTenant, kAor,
                           {f.Behind("sip:1001@192.168.1.20:5060"),
                            f.Behind("sip:1001@203.0.113.5:40001")},  // reachable as is
                           kSource);
  CHECK(f.scheduler.tracked() == 1);
  CHECK(f.At(29s).pings.empty());
  auto work = f.At(1s);
  REQUIRE(work.pings.size() == 1);
  CHECK(work.pings[0].binding.contact == "sip:1001@192.168.1.20:5060");
  CHECK(work.pings[0].tenant == kTenant);
  CHECK(work.pings[0].aor == kAor);
  f.clock.Advance(1s);
  f.scheduler.OnAnswered(work.pings[0].id);  // a 405 or 501 counts the same
  CHECK(f.At(28s).pings.empty());
  auto next = f.At(1s);
  REQUIRE(next.pings.size() == 1);  // an interval after the previous ping was sent
  CHECK(next.pings[0].id != work.pings[0].id);
  CHECK(next.failed.empty());
}

TEST_CASE("a binding that stops answering is given up after max_failures silent pings", "[unit]") {
  Fixture f;
  f.scheduler.OnRegistered(kTenant, kAor, {f.Behind("sip:1001@192.168.1.20:5060")}, kSource);
  auto first = f.At(30s);
  REQUIRE(first.pings.size() == 1);
  auto retry = f.At(5s);  // first timeout: one failure, pinged again at once
  CHECK(retry.failed.empty());
  REQUIRE(retry.pings.size() == 1);
  // The late answer to the first ping changes nothing.
  f.scheduler.OnAnswered(first.pings[0].id);
  auto gone = f.At(5s);
  REQUIRE(gone.failed.size() == 1);
  CHECK(gone.failed[0].binding.contact == "sip:1001@192.168.1.20:5060");
  CHECK(gone.pings.empty());
  CHECK(f.scheduler.tracked() == 0);
  CHECK_FALSE(f.scheduler.NextDeadline().has_value());
}

TEST_CASE("an answer between silences resets the count of failures", "[unit]") {
  Fixture f;
  f.scheduler.OnRegistered(kTenant, kAor, {f.Behind("sip:1001@192.168.1.20:5060")}, kSource);
  REQUIRE(f.At(30s).pings.size() == 1);
  auto retry = f.At(5s);
  REQUIRE(retry.pings.size() == 1);
  f.scheduler.OnAnswered(retry.pings[0].id);
  auto later = f.At(30s);
  REQUIRE(later.pings.size() == 1);
  auto again = f.At(5s);  // one failure after an answer: not yet given up
  CHECK(again.failed.empty());
  CHECK(again.pings.size() == 1);
}

TEST_CASE("bindings from another source or removed by a later REGISTER are not pinged", "[unit]") {
  Fixture f;
  Binding other = f.Behind("sip:1001@192.168.1.30:5060");
  other.source = "udp:198.51.100.9:5060";  // registered through another replica or address
  f.scheduler.OnRegistered(kTenant, kAor, {f.Behind("sip:1001@192.168.1.20:5060"), other}, kSource);
  CHECK(f.scheduler.tracked() == 1);
  // Un-registered (the AOR's set no longer holds it): forgotten, nothing more is sent.
  f.scheduler.OnRegistered(kTenant, kAor, {other}, kSource);
  CHECK(f.scheduler.tracked() == 0);
  CHECK(f.At(60s).pings.empty());
}

TEST_CASE("a binding past its expiry is forgotten and left to the lapse sweep", "[unit]") {
  Fixture f;
  f.scheduler.OnRegistered(kTenant, kAor, {f.Behind("sip:1001@192.168.1.20:5060", 20s)}, kSource);
  auto work = f.At(30s);
  CHECK(work.pings.empty());
  CHECK(work.failed.empty());
  CHECK(f.scheduler.tracked() == 0);
}

TEST_CASE("tracking and work per tick are bounded", "[unit]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    f.scheduler.OnRegistered(kTenant, "sip:" + std::to_string(2000 + i) + "@acme.sip.test",
                             {f.Behind("sip:x@192.168.1.20:5060")}, kSource);
  }
  CHECK(f.scheduler.tracked() == 3);
  CHECK(f.scheduler.refused() == 2);
  CHECK(f.At(30s).pings.size() == 2);  // max_per_tick
  CHECK(f.scheduler.Tick().pings.size() == 1);
  CHECK(f.scheduler.Tick().pings.empty());
}

}  // namespace sb::signaling
