// The node's in-process cache of admin's lookup answers, on a FakeClock: what is kept and for how
// long, what admin's change events drop, and that an answer older than a change is not stored.
#include "rpc/admin_lookup_cache.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "switchboard/core/clock.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::AdminLookupCache;
using sb::signaling::DomainInfo;
using sb::signaling::ExtensionCredentials;
using sb::signaling::ExtensionInfo;
using sb::signaling::NumberRoute;
using sb::signaling::TrunkMatch;

const sb::TenantId kAcme("tenant-acme");
const sb::TenantId kGlobex("tenant-globex");

ExtensionCredentials Creds(const sb::TenantId& tenant, std::string id, std::string ha1) {
  return {.tenant = tenant,
          .tenant_suspended = false,
          .extension_id = std::move(id),
          .extension_number = "1001",
          .ha1_md5 = std::move(ha1),
          .ha1_sha256 = {},
          .enabled = true};
}

TrunkMatch Trunk(const sb::TenantId& tenant, std::string id) {
  TrunkMatch trunk;
  trunk.tenant.id = tenant;
  trunk.trunk_id = std::move(id);
  return trunk;
}

NumberRoute Route(const sb::TenantId& tenant, std::string id, std::string target) {
  NumberRoute route;
  route.tenant.id = tenant;
  route.number_id = std::move(id);
  route.target = std::move(target);
  return route;
}

}  // namespace

TEST_CASE("answers and NOT_FOUND are kept for the TTL and failures are not kept", "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  CHECK_FALSE(cache.Domain("acme.sip.test"));

  cache.PutDomain("acme.sip.test", DomainInfo{.tenant = kAcme}, cache.generation());
  cache.PutDomain("nobody.sip.test", sb::Status::NotFound("no such domain"), cache.generation());
  cache.PutDomain("late.sip.test", sb::Status::Unavailable("admin did not answer"),
                  cache.generation());
  cache.PutCredentials("acme.sip.test", "1001", Creds(kAcme, "ext-1", "aa"), cache.generation());

  auto hit = cache.Domain("acme.sip.test");
  REQUIRE(hit);
  REQUIRE(hit->ok());
  CHECK((*hit)->tenant == kAcme);
  auto missing = cache.Domain("nobody.sip.test");
  REQUIRE(missing);
  CHECK(missing->status().code() == sb::StatusCode::kNotFound);
  CHECK_FALSE(cache.Domain("late.sip.test"));
  auto creds = cache.Credentials("acme.sip.test", "1001");
  REQUIRE(creds);
  CHECK((*creds)->ha1_md5 == "aa");
  CHECK_FALSE(cache.Credentials("acme.sip.test", "1002"));

  clock.Advance(9s);
  CHECK(cache.Domain("acme.sip.test"));
  clock.Advance(1s);
  CHECK_FALSE(cache.Domain("acme.sip.test"));
  CHECK_FALSE(cache.Domain("nobody.sip.test"));
  CHECK_FALSE(cache.Credentials("acme.sip.test", "1001"));
}

TEST_CASE("a tenant event drops that tenant's entries and its domain's only", "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  cache.PutDomain("acme.sip.test", DomainInfo{.tenant = kAcme}, cache.generation());
  cache.PutDomain("globex.sip.test", DomainInfo{.tenant = kGlobex}, cache.generation());
  cache.PutDomain("new.sip.test", sb::Status::NotFound("not yet"), cache.generation());
  cache.PutCredentials("acme.sip.test", "1001", Creds(kAcme, "ext-1", "aa"), cache.generation());
  cache.PutCredentials("globex.sip.test", "1001", Creds(kGlobex, "ext-9", "gg"),
                       cache.generation());

  // Suspended (or renamed: the old domain's entry carries the tenant id).
  cache.ForgetTenant(kAcme, "acme-renamed.sip.test");
  CHECK_FALSE(cache.Domain("acme.sip.test"));
  CHECK_FALSE(cache.Credentials("acme.sip.test", "1001"));
  CHECK(cache.Domain("globex.sip.test"));
  CHECK(cache.Credentials("globex.sip.test", "1001"));

  // Created: the domain that was unknown is asked again.
  cache.ForgetTenant(sb::TenantId("tenant-new"), "new.sip.test");
  CHECK_FALSE(cache.Domain("new.sip.test"));
  CHECK(cache.size() == 2);
}

TEST_CASE("an extension event drops its entries by id - user name and number", "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  cache.PutCredentials("acme.sip.test", "alice", Creds(kAcme, "ext-1", "aa"), cache.generation());
  cache.PutCredentials("acme.sip.test", "1001", Creds(kAcme, "ext-1", "aa"), cache.generation());
  cache.PutCredentials("acme.sip.test", "1002", Creds(kAcme, "ext-2", "bb"), cache.generation());
  cache.PutCredentials("acme.sip.test", "1003", sb::Status::NotFound("no such user"),
                       cache.generation());

  // ext-1 renamed to "alice2": the entries under its old name go by its id.
  cache.ForgetExtension("acme.sip.test", "ext-1", "alice2", "1001");
  CHECK_FALSE(cache.Credentials("acme.sip.test", "alice"));
  CHECK_FALSE(cache.Credentials("acme.sip.test", "1001"));
  CHECK(cache.Credentials("acme.sip.test", "1002"));

  // 1003 created: its NOT_FOUND goes.
  cache.ForgetExtension("acme.sip.test", "ext-3", "1003", "1003");
  CHECK_FALSE(cache.Credentials("acme.sip.test", "1003"));
  CHECK(cache.size() == 1);
}

TEST_CASE("extension and trunk-by-source answers go with their extension - trunk or tenant event",
          "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  ExtensionInfo alice;
  alice.tenant.id = kAcme;
  alice.extension_id = "ext-1";
  alice.extension_number = "1001";
  alice.sip_username = "alice";
  cache.PutExtension("acme.sip.test", "1001", alice, cache.generation());
  cache.PutExtension("acme.sip.test", "alice", alice, cache.generation());
  cache.PutExtension("acme.sip.test", "1009", sb::Status::NotFound("no such extension"),
                     cache.generation());
  cache.PutTrunkBySource("192.0.2.10", Trunk(kAcme, "t-1"), cache.generation());
  cache.PutTrunkBySource("192.0.2.20", Trunk(kGlobex, "t-2"), cache.generation());
  cache.PutTrunkBySource("198.51.100.7", sb::Status::NotFound("a phone, not a carrier"),
                         cache.generation());
  REQUIRE(cache.Extension("acme.sip.test", "alice"));
  CHECK((*cache.Extension("acme.sip.test", "1001"))->extension_id == "ext-1");
  CHECK((*cache.TrunkBySource("192.0.2.10"))->trunk_id == "t-1");
  CHECK(cache.TrunkBySource("198.51.100.7")->status().code() == sb::StatusCode::kNotFound);
  CHECK(cache.size() == 6);

  cache.ForgetExtension("acme.sip.test", "ext-1", "alice", "1001");
  CHECK_FALSE(cache.Extension("acme.sip.test", "alice"));
  CHECK_FALSE(cache.Extension("acme.sip.test", "1001"));
  CHECK(cache.Extension("acme.sip.test", "1009"));

  // Suspending acme drops its trunk (the answer says whether the tenant is suspended).
  cache.ForgetTenant(kAcme, "acme.sip.test");
  CHECK_FALSE(cache.TrunkBySource("192.0.2.10"));
  CHECK_FALSE(cache.Extension("acme.sip.test", "1009"));
  CHECK(cache.TrunkBySource("192.0.2.20"));

  // Any trunk change: a source address may have moved, or a phone's become a carrier's.
  cache.ForgetTrunks();
  CHECK_FALSE(cache.TrunkBySource("192.0.2.20"));
  CHECK_FALSE(cache.TrunkBySource("198.51.100.7"));
  CHECK(cache.size() == 0);

  cache.PutTrunkBySource("192.0.2.10", Trunk(kAcme, "t-1"), cache.generation());
  clock.Advance(10s);
  CHECK_FALSE(cache.TrunkBySource("192.0.2.10"));
}

TEST_CASE("number answers go with their number event or their tenant's and last the TTL",
          "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  cache.PutNumber("+15557770001", Route(kAcme, "num-1", "ext:1001"), cache.generation());
  cache.PutNumber("+15557770002", Route(kAcme, "num-2", "ext:1002"), cache.generation());
  cache.PutNumber("+15557770003", Route(kGlobex, "num-3", "ext:1001"), cache.generation());
  cache.PutNumber("+15557770009", sb::Status::NotFound("no tenant owns it"), cache.generation());
  cache.PutNumber("+15557770010", sb::Status::Unavailable("admin did not answer"),
                  cache.generation());
  auto hit = cache.Number("+15557770001");
  REQUIRE(hit);
  REQUIRE(hit->ok());
  CHECK((*hit)->target == "ext:1001");
  CHECK(cache.Number("+15557770009")->status().code() == sb::StatusCode::kNotFound);
  CHECK_FALSE(cache.Number("+15557770010"));
  CHECK(cache.size() == 4);

  // Re-routed (updated) or deleted: its entry goes, the others stay.
  cache.ForgetNumber("+15557770001", "num-1");
  CHECK_FALSE(cache.Number("+15557770001"));
  CHECK(cache.Number("+15557770002"));
  // Created: the NOT_FOUND of the number that was unknown goes.
  cache.ForgetNumber("+15557770009", "num-9");
  CHECK_FALSE(cache.Number("+15557770009"));
  // An entry under another spelling goes by the number's id.
  cache.ForgetNumber("+1 555 777 0002", "num-2");
  CHECK_FALSE(cache.Number("+15557770002"));

  // Suspending globex drops its numbers (the answer says whether the tenant is suspended).
  cache.PutNumber("+15557770001", Route(kAcme, "num-1", "ext:1003"), cache.generation());
  cache.ForgetTenant(kGlobex, "globex.sip.test");
  CHECK_FALSE(cache.Number("+15557770003"));
  CHECK(cache.Number("+15557770001"));
  // A trunk event leaves the numbers alone.
  cache.ForgetTrunks();
  CHECK(cache.Number("+15557770001"));

  clock.Advance(10s);
  CHECK_FALSE(cache.Number("+15557770001"));
}

TEST_CASE("outbound routes go with any trunk event or their tenant's and last the TTL", "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  sb::signaling::OutboundRoute route;
  route.trunk_id = "trunk-1";
  route.dialed = "+15557770001";
  cache.PutOutbound({kAcme, "0015557770001", "1001", {}}, route, cache.generation());
  cache.PutOutbound({kGlobex, "0015557770001", "1001", {}}, route, cache.generation());
  cache.PutOutbound({kAcme, "999", "1001", {}}, sb::Status::NotFound("no prefix rule"),
                    cache.generation());
  cache.PutOutbound({kAcme, "0015557770002", "1001", {}}, sb::Status::Unavailable("admin silent"),
                    cache.generation());
  auto hit = cache.Outbound({kAcme, "0015557770001", "1001", {}});
  REQUIRE(hit);
  REQUIRE(hit->ok());
  CHECK((*hit)->dialed == "+15557770001");
  // The caller id asked for is part of the question (the trunk may present it or not).
  CHECK_FALSE(cache.Outbound({kAcme, "0015557770001", "1002", {}}));
  CHECK_FALSE(cache.Outbound({kAcme, "0015557770001", "1001", "trunk-1"}));  // so is a named trunk
  CHECK(cache.Outbound({kAcme, "999", "1001", {}})->status().code() == sb::StatusCode::kNotFound);
  CHECK_FALSE(cache.Outbound({kAcme, "0015557770002", "1001", {}}));
  CHECK(cache.size() == 3);

  // A tenant event drops that tenant's routes only; a trunk event every route.
  cache.ForgetTenant(kGlobex, "globex.sip.test");
  CHECK_FALSE(cache.Outbound({kGlobex, "0015557770001", "1001", {}}));
  CHECK(cache.Outbound({kAcme, "0015557770001", "1001", {}}));
  cache.ForgetTrunks();
  CHECK_FALSE(cache.Outbound({kAcme, "0015557770001", "1001", {}}));
  CHECK_FALSE(cache.Outbound({kAcme, "999", "1001", {}}));

  cache.PutOutbound({kAcme, "0015557770001", "1001", {}}, route, cache.generation());
  clock.Advance(10s);
  CHECK_FALSE(cache.Outbound({kAcme, "0015557770001", "1001", {}}));
}

TEST_CASE("an answer asked for before a change event is not stored after it", "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache cache(clock, 10s);
  const uint64_t asked = cache.generation();
  // Admin answered with the old password while the change was being published...
  cache.ForgetExtension("acme.sip.test", "ext-1", "1001", "1001");
  cache.PutCredentials("acme.sip.test", "1001", Creds(kAcme, "ext-1", "old"), asked);
  cache.PutDomain("acme.sip.test", DomainInfo{.tenant = kAcme}, asked);
  CHECK_FALSE(cache.Credentials("acme.sip.test", "1001"));
  CHECK_FALSE(cache.Domain("acme.sip.test"));
  // ...or with a number's old route while its re-routing was.
  const uint64_t number_asked = cache.generation();
  cache.ForgetNumber("+15557770001", "num-1");
  cache.PutNumber("+15557770001", Route(kAcme, "num-1", "ext:1001"), number_asked);
  CHECK_FALSE(cache.Number("+15557770001"));

  cache.PutCredentials("acme.sip.test", "1001", Creds(kAcme, "ext-1", "new"), cache.generation());
  CHECK(cache.Credentials("acme.sip.test", "1001"));
}

TEST_CASE("the cache stays within its bound and a zero TTL keeps nothing", "[unit]") {
  sb::core::FakeClock clock;
  AdminLookupCache bounded(clock, 10s, /*max_entries=*/4);
  for (int i = 0; i < 20; ++i) {
    // Appended, not `"d" + ...`: GCC 12 warns (-Wrestrict) on that inlined insert.
    std::string domain = "d";
    domain.append(std::to_string(i)).append(".sip.test");
    bounded.PutDomain(domain, DomainInfo{.tenant = kAcme}, bounded.generation());
    CHECK(bounded.size() <= 4);
  }
  CHECK(bounded.Domain("d19.sip.test"));

  AdminLookupCache off(clock, 0ms);
  off.PutDomain("acme.sip.test", DomainInfo{.tenant = kAcme}, off.generation());
  CHECK_FALSE(off.Domain("acme.sip.test"));
}
