// The lookups a B2BUA asks when a phone dials: lookup_extension (who is "1002" in this domain)
// and lookup_outbound_route (which trunk carries "+4930..." for this tenant), over real NATS,
// answered from the Redis cache and filled from PostgreSQL.
#include <catch2/catch.hpp>

#include "rpc/admin_fixture.h"
#include "rpc/lookup_server.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/bus/typed.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
using testing::kPlatformKey;
namespace pb = ::switchboard::admin::v1;
namespace common = ::switchboard::common::v1;

template <typename Reply>
Reply Ask(AdminFixture& f, const char* operation, const google::protobuf::MessageLite& req) {
  auto subject = rpc::LookupSubject(operation);
  REQUIRE(subject.ok());
  auto reply = bus::RequestProto<Reply>(f.bus(), *subject, req, std::chrono::seconds(5));
  REQUIRE(reply.ok());
  return *reply;
}

pb::LookupExtensionReply Extension(AdminFixture& f, const std::string& domain,
                                   const std::string& user) {
  pb::LookupExtensionRequest req;
  req.set_sip_domain(domain);
  req.set_user(user);
  return Ask<pb::LookupExtensionReply>(f, "lookup_extension", req);
}

pb::LookupOutboundRouteReply Route(AdminFixture& f, const std::string& tenant,
                                   const std::string& dialed, const std::string& caller_id = "") {
  pb::LookupOutboundRouteRequest req;
  req.set_tenant_id(tenant);
  req.set_dialed(dialed);
  req.set_caller_id(caller_id);
  return Ask<pb::LookupOutboundRouteReply>(f, "lookup_outbound_route", req);
}

double CacheHits(AdminFixture& f) {
  return f.metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "hit"}}).value();
}

pb::Extension CreateExtension(AdminFixture& f, const std::string& key, const std::string& number,
                              const std::string& user, const std::string& name = "",
                              const std::string& caller_id = "") {
  pb::CreateExtensionRequest ce;
  ce.set_number(number);
  ce.set_sip_username(user);
  ce.set_display_name(name);
  ce.set_caller_id(caller_id);
  ce.set_password("long enough secret");
  pb::Extension ext;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, ce, &ext).ok());
  return ext;
}

pb::PrefixRule Rule(const std::string& match, int strip, const std::string& prepend) {
  pb::PrefixRule r;
  r.set_match(match);
  r.set_strip(strip);
  r.set_prepend(prepend);
  return r;
}

TEST_CASE("lookup_extension finds the callee by extension number or by SIP username",
          "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  const std::string domain = "acme.sip.test.example";
  auto bob = CreateExtension(f, key, "1002", "bob", "Bob Builder", "+15551230002");

  f.Settle();  // no late event may drop what the next lookups cache
  auto by_number = Extension(f, domain, "1002");
  CHECK(by_number.error().code() == common::ERROR_CODE_OK);
  CHECK(by_number.tenant_id() == tenant.id());
  CHECK(by_number.tenant_status() == pb::TENANT_STATUS_ACTIVE);
  CHECK(by_number.extension_id() == bob.id());
  CHECK(by_number.extension_number() == "1002");
  CHECK(by_number.sip_username() == "bob");
  CHECK(by_number.display_name() == "Bob Builder");
  CHECK(by_number.caller_id() == "+15551230002");
  CHECK(by_number.enabled());

  // The SIP username finds the same extension; the domain is case-insensitive.
  auto by_user = Extension(f, "ACME.sip.test.example", "bob");
  CHECK(by_user.extension_id() == bob.id());
  CHECK(by_user.extension_number() == "1002");

  // The second identical lookup is answered from the cache with the same bytes.
  const double hits = CacheHits(f);
  CHECK(Extension(f, domain, "1002").SerializeAsString() == by_number.SerializeAsString());
  CHECK(CacheHits(f) == hits + 1);

  // An extension number wins over another extension whose SIP username is that number.
  auto tricky = CreateExtension(f, key, "1003", "1002");
  CHECK(Extension(f, domain, "1002").extension_id() == bob.id());
  CHECK(Extension(f, domain, "1003").extension_id() == tricky.id());

  // Disabling (and renaming) is visible at once through the cache, by number and by username.
  pb::UpdateExtensionRequest ue;
  ue.set_id(bob.id());
  ue.set_enabled(false);
  ue.set_display_name("Robert");
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::UpdateExtension, ue, &bob).ok());
  CHECK_FALSE(Extension(f, domain, "1002").enabled());
  CHECK(Extension(f, domain, "bob").display_name() == "Robert");

  CHECK(Extension(f, domain, "1099").error().code() == common::ERROR_CODE_NOT_FOUND);
  CHECK(Extension(f, "nobody.sip.test.example", "1002").error().code() ==
        common::ERROR_CODE_NOT_FOUND);
  auto bad_user = Extension(f, domain, "bad user");
  CHECK(bad_user.error().code() == common::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(bad_user.error().field() == "user");
  auto bad_domain = Extension(f, "not a domain", "1002");
  CHECK(bad_domain.error().code() == common::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(bad_domain.error().field() == "sip_domain");

  // A deleted extension is gone from the cache too.
  pb::DeleteExtensionRequest de;
  de.set_id(bob.id());
  pb::DeleteExtensionResponse dr;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::DeleteExtension, de, &dr).ok());
  CHECK(Extension(f, domain, "bob").error().code() == common::ERROR_CODE_NOT_FOUND);
  CHECK(Extension(f, domain, "1002").extension_id() == tricky.id());
}

TEST_CASE("lookup_outbound_route picks the trunk by prefix and rewrites the number",
          "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);

  pb::CreateTrunkRequest ct;
  ct.set_name("world");
  ct.set_host("sip.world.example");
  ct.set_port(5080);
  ct.set_transport(pb::TRANSPORT_TCP);
  ct.set_username("acme-out");
  ct.set_password("carrier secret");
  *ct.add_prefix_rules() = Rule("+", 1, "00");
  ct.set_caller_id_policy(pb::CALLER_ID_POLICY_PASSTHROUGH);
  pb::Trunk world;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::CreateTrunk, ct, &world).ok());
  ct.Clear();
  ct.set_name("germany");
  ct.set_host("sip.de.example");
  ct.set_transport(pb::TRANSPORT_TLS);
  *ct.add_prefix_rules() = Rule("+49", 3, "0");
  ct.set_caller_id_policy(pb::CALLER_ID_POLICY_FIXED);
  ct.set_fixed_caller_id("+4930999");
  pb::Trunk germany;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::CreateTrunk, ct, &germany).ok());

  f.Settle();  // no late event may drop what the next lookups cache
  auto us = Route(f, tenant.id(), "+15551230001", "+15550000001");
  CHECK(us.error().code() == common::ERROR_CODE_OK);
  CHECK(us.tenant_id() == tenant.id());
  CHECK(us.tenant_status() == pb::TENANT_STATUS_ACTIVE);
  CHECK(us.trunk_id() == world.id());
  CHECK(us.trunk_name() == "world");
  CHECK(us.host() == "sip.world.example");
  CHECK(us.port() == 5080);
  CHECK(us.transport() == pb::TRANSPORT_TCP);
  CHECK(us.username() == "acme-out");
  CHECK(us.password() == "carrier secret");
  CHECK(us.dialed() == "0015551230001");
  CHECK(us.caller_id() == "+15550000001");
  CHECK_FALSE(us.caller_id_blocked());

  auto berlin = Route(f, tenant.id(), "+4930123456", "+15550000001");
  CHECK(berlin.trunk_id() == germany.id());
  CHECK(berlin.host() == "sip.de.example");
  CHECK(berlin.port() == 0);  // none given: DNS SRV, else 5061 for TLS
  CHECK(berlin.dialed() == "030123456");
  CHECK(berlin.caller_id() == "+4930999");

  // Local digits match no rule.
  CHECK(Route(f, tenant.id(), "1234").error().code() == common::ERROR_CODE_NOT_FOUND);

  // Cached, then invalidated by a trunk change: blocking the caller id and a new catch-all rule.
  const double hits = CacheHits(f);
  CHECK(Route(f, tenant.id(), "+4930123456", "+15550000001").SerializeAsString() ==
        berlin.SerializeAsString());
  CHECK(CacheHits(f) == hits + 1);
  pb::UpdateTrunkRequest ut;
  ut.set_id(germany.id());
  ut.set_caller_id_policy(pb::CALLER_ID_POLICY_BLOCK);
  ut.set_fixed_caller_id("");
  ut.set_username("acme-de");
  ut.set_password("rotated secret");
  ut.set_replace_prefix_rules(true);
  *ut.add_prefix_rules() = Rule("+49", 3, "0");
  *ut.add_prefix_rules() = Rule("", 0, "");
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::UpdateTrunk, ut, &germany).ok());
  auto blocked = Route(f, tenant.id(), "+4930123456", "+15550000001");
  CHECK(blocked.caller_id().empty());
  CHECK(blocked.caller_id_blocked());
  CHECK(blocked.username() == "acme-de");
  CHECK(blocked.password() == "rotated secret");
  auto local = Route(f, tenant.id(), "1234");
  CHECK(local.trunk_id() == germany.id());
  CHECK(local.dialed() == "1234");

  pb::DeleteTrunkRequest dt;
  dt.set_id(germany.id());
  pb::DeleteTrunkResponse dtr;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::DeleteTrunk, dt, &dtr).ok());
  CHECK(Route(f, tenant.id(), "+4930123456").trunk_id() == world.id());
  CHECK(Route(f, tenant.id(), "1234").error().code() == common::ERROR_CODE_NOT_FOUND);

  auto bad_dialed = Route(f, tenant.id(), "sip:1234@x");
  CHECK(bad_dialed.error().code() == common::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(bad_dialed.error().field() == "dialed");
  auto bad_tenant = Route(f, "acme", "+15551230001");
  CHECK(bad_tenant.error().code() == common::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(bad_tenant.error().field() == "tenant_id");
  CHECK(Route(f, "01900000-0000-7000-8000-000000000000", "+15551230001").error().code() ==
        common::ERROR_CODE_NOT_FOUND);
}

TEST_CASE("routing lookups never cross tenants and report a suspended tenant", "[integration]") {
  AdminFixture f;
  pb::Tenant a;
  pb::Tenant b;
  const std::string key_a = f.Onboard("acme", &a);
  const std::string key_b = f.Onboard("bravo", &b);
  auto alice = CreateExtension(f, key_a, "1001", "alice");
  pb::CreateTrunkRequest ct;
  ct.set_name("carrier");
  ct.set_host("sip.a.example");
  *ct.add_prefix_rules() = Rule("", 0, "");
  pb::Trunk trunk_a;
  REQUIRE(Call(f.trunks, key_a, &pb::TrunkService::Stub::CreateTrunk, ct, &trunk_a).ok());

  // B has neither an extension 1001 nor a trunk: A's are not found through B.
  CHECK(Extension(f, "bravo.sip.test.example", "1001").error().code() ==
        common::ERROR_CODE_NOT_FOUND);
  CHECK(Extension(f, "bravo.sip.test.example", "alice").error().code() ==
        common::ERROR_CODE_NOT_FOUND);
  CHECK(Route(f, b.id(), "+15551230001").error().code() == common::ERROR_CODE_NOT_FOUND);
  // B's own trunk routes B's calls, A's keeps routing A's.
  ct.set_host("sip.b.example");
  pb::Trunk trunk_b;
  REQUIRE(Call(f.trunks, key_b, &pb::TrunkService::Stub::CreateTrunk, ct, &trunk_b).ok());
  CHECK(Route(f, b.id(), "+15551230001").trunk_id() == trunk_b.id());
  CHECK(Route(f, a.id(), "+15551230001").trunk_id() == trunk_a.id());

  // Warm, then suspend A: both lookups say suspended; B is untouched.
  CHECK(Extension(f, "acme.sip.test.example", "1001").tenant_status() == pb::TENANT_STATUS_ACTIVE);
  CHECK(Route(f, a.id(), "+15551230001").tenant_status() == pb::TENANT_STATUS_ACTIVE);
  pb::SuspendTenantRequest s;
  s.set_id(a.id());
  pb::Tenant t;
  REQUIRE(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::SuspendTenant, s, &t).ok());
  auto ext = Extension(f, "acme.sip.test.example", "1001");
  CHECK(ext.tenant_status() == pb::TENANT_STATUS_SUSPENDED);
  CHECK(ext.extension_id() == alice.id());
  CHECK(Route(f, a.id(), "+15551230001").tenant_status() == pb::TENANT_STATUS_SUSPENDED);
  CHECK(Route(f, b.id(), "+15551230001").tenant_status() == pb::TENANT_STATUS_ACTIVE);
}

}  // namespace
}  // namespace sb::admin
