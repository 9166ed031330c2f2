// The admin gRPC API end to end: real gRPC to a running AdminServer on real PostgreSQL, Redis and
// NATS. Every RPC, bad input per field, tenant isolation, authentication and the rate limit.
#include <catch2/catch.hpp>
#include <thread>

#include "rpc/admin_fixture.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
using testing::kPlatformKey;
namespace pb = ::switchboard::admin::v1;
using grpc::StatusCode;

TEST_CASE("every RPC works end to end for a tenant's own key", "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  CHECK(tenant.sip_domain() == "acme.sip.test.example");
  CHECK(tenant.status() == pb::TENANT_STATUS_ACTIVE);

  // Tenants.
  pb::GetTenantRequest get_t;
  pb::Tenant got_t;
  REQUIRE(Call(f.tenants, key, &pb::TenantService::Stub::GetTenant, get_t, &got_t).ok());
  CHECK(got_t.id() == tenant.id());
  pb::UpdateTenantRequest upd_t;
  upd_t.set_name("Acme Corporation");
  REQUIRE(Call(f.tenants, key, &pb::TenantService::Stub::UpdateTenant, upd_t, &got_t).ok());
  CHECK(got_t.name() == "Acme Corporation");
  pb::ListTenantsRequest list_t;
  pb::ListTenantsResponse tenants;
  REQUIRE(
      Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ListTenants, list_t, &tenants).ok());
  REQUIRE(tenants.tenants_size() == 1);
  CHECK(tenants.tenants(0).name() == "Acme Corporation");

  // API keys.
  pb::CreateApiKeyRequest create_k;
  create_k.set_name("ci");
  pb::CreateApiKeyResponse new_key;
  REQUIRE(Call(f.keys, key, &pb::ApiKeyService::Stub::CreateApiKey, create_k, &new_key).ok());
  CHECK(new_key.key().tenant_id() == tenant.id());
  CHECK(new_key.secret().secret().rfind("sbk_", 0) == 0);
  pb::ListApiKeysRequest list_k;
  pb::ListApiKeysResponse listed_k;
  REQUIRE(Call(f.keys, new_key.secret().secret(), &pb::ApiKeyService::Stub::ListApiKeys, list_k,
               &listed_k)
              .ok());
  CHECK(listed_k.keys_size() == 2);
  pb::RevokeApiKeyRequest revoke;
  revoke.set_id(new_key.key().id());
  pb::ApiKey revoked;
  REQUIRE(Call(f.keys, key, &pb::ApiKeyService::Stub::RevokeApiKey, revoke, &revoked).ok());
  CHECK(revoked.revoked());
  CHECK(Call(f.keys, new_key.secret().secret(), &pb::ApiKeyService::Stub::ListApiKeys, list_k,
             &listed_k)
            .error_code() == StatusCode::UNAUTHENTICATED);

  // Extensions.
  pb::CreateExtensionRequest create_e;
  create_e.set_number("1001");
  create_e.set_display_name("Alice");
  create_e.set_password("correct horse");
  pb::Extension ext;
  REQUIRE(
      Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, create_e, &ext).ok());
  CHECK(ext.sip_username() == "1001");
  CHECK(ext.enabled());
  pb::GetExtensionRequest get_e;
  get_e.set_id(ext.id());
  pb::Extension got_e;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::GetExtension, get_e, &got_e).ok());
  CHECK(got_e.display_name() == "Alice");
  pb::UpdateExtensionRequest upd_e;
  upd_e.set_id(ext.id());
  upd_e.set_enabled(false);
  upd_e.set_caller_id("+15551230001");
  REQUIRE(
      Call(f.extensions, key, &pb::ExtensionService::Stub::UpdateExtension, upd_e, &got_e).ok());
  CHECK(!got_e.enabled());
  CHECK(got_e.caller_id() == "+15551230001");
  pb::ListExtensionsRequest list_e;
  pb::ListExtensionsResponse exts;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::ListExtensions, list_e, &exts).ok());
  CHECK(exts.extensions_size() == 1);
  CHECK(exts.page().next_page_token().empty());

  // Numbers.
  pb::AddNumberRequest add_n;
  add_n.set_e164("+15551230001");
  add_n.set_target("ext:1001");
  pb::PhoneNumber num;
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::AddNumber, add_n, &num).ok());
  CHECK(num.target() == "ext:1001");
  pb::GetNumberRequest get_n;
  get_n.set_id(num.id());
  pb::PhoneNumber got_n;
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::GetNumber, get_n, &got_n).ok());
  pb::UpdateNumberRequest upd_n;
  upd_n.set_id(num.id());
  upd_n.set_target("");
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::UpdateNumber, upd_n, &got_n).ok());
  CHECK(got_n.target().empty());
  pb::ListNumbersRequest list_n;
  list_n.set_e164_prefix("+1555");
  pb::ListNumbersResponse nums;
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::ListNumbers, list_n, &nums).ok());
  CHECK(nums.numbers_size() == 1);

  // Trunks.
  pb::CreateTrunkRequest create_tr;
  create_tr.set_name("carrier-1");
  create_tr.set_host("sip.carrier.example");
  create_tr.set_transport(pb::TRANSPORT_TCP);
  create_tr.set_username("acme");
  create_tr.set_password("trunk-secret");
  create_tr.add_inbound_sources("203.0.113.0/24");
  auto* rule = create_tr.add_prefix_rules();
  rule->set_match("00");
  rule->set_strip(2);
  rule->set_prepend("+");
  pb::Trunk trunk;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::CreateTrunk, create_tr, &trunk).ok());
  CHECK(trunk.port() == 0);  // none given: DNS SRV, else 5060
  CHECK(trunk.has_password());
  CHECK(trunk.prefix_rules_size() == 1);
  pb::UpdateTrunkRequest upd_tr;
  upd_tr.set_id(trunk.id());
  upd_tr.set_port(5080);
  upd_tr.set_replace_inbound_sources(true);
  pb::Trunk got_tr;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::UpdateTrunk, upd_tr, &got_tr).ok());
  CHECK(got_tr.port() == 5080);
  CHECK(got_tr.inbound_sources_size() == 0);
  pb::GetTrunkRequest get_tr;
  get_tr.set_id(trunk.id());
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::GetTrunk, get_tr, &got_tr).ok());
  CHECK(got_tr.port() == 5080);
  pb::ListTrunksRequest list_tr;
  pb::ListTrunksResponse trs;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::ListTrunks, list_tr, &trs).ok());
  CHECK(trs.trunks_size() == 1);

  // Deletes, then the resources are gone.
  pb::DeleteTrunkRequest del_tr;
  del_tr.set_id(trunk.id());
  pb::DeleteTrunkResponse del_tr_resp;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::DeleteTrunk, del_tr, &del_tr_resp).ok());
  CHECK(Call(f.trunks, key, &pb::TrunkService::Stub::GetTrunk, get_tr, &got_tr).error_code() ==
        StatusCode::NOT_FOUND);
  pb::DeleteNumberRequest del_n;
  del_n.set_id(num.id());
  pb::DeleteNumberResponse del_n_resp;
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::DeleteNumber, del_n, &del_n_resp).ok());
  pb::DeleteExtensionRequest del_e;
  del_e.set_id(ext.id());
  pb::DeleteExtensionResponse del_e_resp;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::DeleteExtension, del_e, &del_e_resp)
              .ok());
  CHECK(Call(f.extensions, key, &pb::ExtensionService::Stub::GetExtension, get_e, &got_e)
            .error_code() == StatusCode::NOT_FOUND);

  // Suspend, resume, delete the tenant (platform only).
  pb::SuspendTenantRequest suspend;
  suspend.set_id(tenant.id());
  CHECK(
      Call(f.tenants, key, &pb::TenantService::Stub::SuspendTenant, suspend, &got_t).error_code() ==
      StatusCode::PERMISSION_DENIED);
  REQUIRE(
      Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::SuspendTenant, suspend, &got_t).ok());
  CHECK(got_t.status() == pb::TENANT_STATUS_SUSPENDED);
  pb::ResumeTenantRequest resume;
  resume.set_id(tenant.id());
  REQUIRE(
      Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ResumeTenant, resume, &got_t).ok());
  CHECK(got_t.status() == pb::TENANT_STATUS_ACTIVE);
  pb::DeleteTenantRequest del_t;
  del_t.set_id(tenant.id());
  pb::DeleteTenantResponse del_t_resp;
  REQUIRE(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::DeleteTenant, del_t, &del_t_resp)
              .ok());
  // Its keys went with it.
  CHECK(Call(f.tenants, key, &pb::TenantService::Stub::GetTenant, get_t, &got_t).error_code() ==
        StatusCode::UNAUTHENTICATED);
}

TEST_CASE("requests without a valid key are UNAUTHENTICATED, and tenant keys cannot onboard",
          "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  pb::ListTenantsRequest list;
  pb::ListTenantsResponse resp;
  CHECK(Call(f.tenants, "", &pb::TenantService::Stub::ListTenants, list, &resp).error_code() ==
        StatusCode::UNAUTHENTICATED);
  CHECK(Call(f.tenants, "sbk_" + std::string(43, 'x'), &pb::TenantService::Stub::ListTenants, list,
             &resp)
            .error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(Call(f.tenants, key, &pb::TenantService::Stub::ListTenants, list, &resp).error_code() ==
        StatusCode::PERMISSION_DENIED);
  pb::CreateTenantRequest create;
  create.set_slug("evil");
  pb::CreateTenantResponse created;
  CHECK(
      Call(f.tenants, key, &pb::TenantService::Stub::CreateTenant, create, &created).error_code() ==
      StatusCode::PERMISSION_DENIED);
  create.set_slug("acme");
  CHECK(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::CreateTenant, create, &created)
            .error_code() == StatusCode::ALREADY_EXISTS);
}

TEST_CASE("bad input answers INVALID_ARGUMENT naming the field", "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  std::string field;

  SECTION("tenants") {
    pb::CreateTenantResponse resp;
    for (auto [slug, name, max_ext, expected] :
         std::vector<std::tuple<std::string, std::string, int, std::string>>{
             {"", "", 0, "slug"},
             {"UPPER", "", 0, "slug"},
             {"ok-slug", "bad\x01name", 0, "name"},
             {"ok-slug", "", -1, "max_extensions"}}) {
      pb::CreateTenantRequest req;
      req.set_slug(slug);
      req.set_name(name);
      req.set_max_extensions(max_ext);
      auto s =
          Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::CreateTenant, req, &resp, &field);
      CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
      CHECK(field == expected);
    }
    pb::ListTenantsRequest list;
    list.mutable_page()->set_page_token("forged");
    pb::ListTenantsResponse listed;
    CHECK(
        Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ListTenants, list, &listed, &field)
            .error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(field == "page.page_token");
    pb::GetTenantRequest get;
    get.set_id("not-a-uuid");
    pb::Tenant t;
    CHECK(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::GetTenant, get, &t, &field)
              .error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(field == "id");
  }

  SECTION("extensions") {
    struct Case {
      std::string number, user, password, caller_id, display, expected;
    };
    for (const auto& c :
         std::vector<Case>{{"1", "", "long enough", "", "", "number"},
                           {"1001", "bad user", "long enough", "", "", "sip_username"},
                           {"1001", "a%62", "long enough", "", "", "sip_username"},
                           {"1001", "", "short", "", "", "password"},
                           {"1001", "", "long enough", "12345", "", "caller_id"},
                           {"1001", "", "long enough", "", "a\"b", "display_name"}}) {
      pb::CreateExtensionRequest req;
      req.set_number(c.number);
      req.set_sip_username(c.user);
      req.set_password(c.password);
      req.set_caller_id(c.caller_id);
      req.set_display_name(c.display);
      pb::Extension e;
      auto s =
          Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, req, &e, &field);
      CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
      CHECK(field == c.expected);
    }
    pb::ListExtensionsRequest list;
    list.mutable_page()->set_page_size(-5);
    pb::ListExtensionsResponse listed;
    CHECK(
        Call(f.extensions, key, &pb::ExtensionService::Stub::ListExtensions, list, &listed, &field)
            .error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(field == "page.page_size");
  }

  SECTION("numbers") {
    for (auto [e164, target, expected] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"5551230001", "", "e164"},
             {"+0551230001", "", "e164"},
             {"+15551230001", "sip:alice", "target"}}) {
      pb::AddNumberRequest req;
      req.set_e164(e164);
      req.set_target(target);
      pb::PhoneNumber n;
      auto s = Call(f.numbers, key, &pb::NumberService::Stub::AddNumber, req, &n, &field);
      CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
      CHECK(field == expected);
    }
    pb::AddNumberRequest dangling;
    dangling.set_e164("+15551230001");
    dangling.set_target("ext:9999");
    pb::PhoneNumber n;
    CHECK(Call(f.numbers, key, &pb::NumberService::Stub::AddNumber, dangling, &n).error_code() ==
          StatusCode::FAILED_PRECONDITION);
  }

  SECTION("trunks") {
    auto make = [] {
      pb::CreateTrunkRequest r;
      r.set_name("t1");
      r.set_host("sip.carrier.example");
      return r;
    };
    std::vector<std::pair<pb::CreateTrunkRequest, std::string>> cases;
    auto r = make();
    r.set_name("bad name");
    cases.push_back({r, "name"});
    r = make();
    r.set_host("bad_host!");
    cases.push_back({r, "host"});
    r = make();
    r.set_port(70000);
    cases.push_back({r, "port"});
    r = make();
    r.set_transport(static_cast<pb::Transport>(42));
    cases.push_back({r, "transport"});
    r = make();
    r.add_inbound_sources("10.0.0.0/8");
    r.add_inbound_sources("not-an-ip");
    cases.push_back({r, "inbound_sources[1]"});
    r = make();
    r.add_prefix_rules()->set_strip(99);
    cases.push_back({r, "prefix_rules[0].strip"});
    r = make();
    r.set_caller_id_policy(pb::CALLER_ID_POLICY_FIXED);
    cases.push_back({r, "fixed_caller_id"});
    r = make();
    r.set_caller_id_policy(static_cast<pb::CallerIdPolicy>(9));
    cases.push_back({r, "caller_id_policy"});
    for (const auto& [req, expected] : cases) {
      pb::Trunk t;
      auto s = Call(f.trunks, key, &pb::TrunkService::Stub::CreateTrunk, req, &t, &field);
      CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
      CHECK(field == expected);
    }
  }

  SECTION("api keys") {
    pb::CreateApiKeyRequest req;
    req.set_name("has space");
    pb::CreateApiKeyResponse resp;
    CHECK(Call(f.keys, key, &pb::ApiKeyService::Stub::CreateApiKey, req, &resp, &field)
              .error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(field == "name");
    pb::RevokeApiKeyRequest revoke;
    revoke.set_id("nope");
    pb::ApiKey k;
    CHECK(Call(f.keys, key, &pb::ApiKeyService::Stub::RevokeApiKey, revoke, &k, &field)
              .error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(field == "id");
  }
}

TEST_CASE("two simultaneous CreateExtension calls for one number: exactly one succeeds",
          "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  for (int round = 0; round < 3; ++round) {
    pb::CreateExtensionRequest req;
    req.set_number("30" + std::to_string(round));
    req.set_password("long enough");
    grpc::Status results[2];
    std::thread a([&] {
      pb::Extension e;
      results[0] = Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, req, &e);
    });
    std::thread b([&] {
      pb::Extension e;
      results[1] = Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, req, &e);
    });
    a.join();
    b.join();
    CHECK(results[0].ok() != results[1].ok());
    for (const auto& s : results) {
      if (!s.ok()) CHECK(s.error_code() == StatusCode::ALREADY_EXISTS);
    }
  }
}

TEST_CASE("the per-key rate limit refuses the request past the budget until the next second",
          "[integration]") {
  AdminFixture f(/*rate_limit=*/5);
  pb::ListTenantsRequest list;
  pb::ListTenantsResponse resp;
  for (int i = 0; i < 5; ++i) {
    CHECK(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ListTenants, list, &resp).ok());
  }
  CHECK(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ListTenants, list, &resp)
            .error_code() == StatusCode::RESOURCE_EXHAUSTED);
  f.clock.Advance(std::chrono::seconds(1));
  CHECK(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ListTenants, list, &resp).ok());
  // Per method metrics saw all of it.
  const std::string metrics = f.metrics.Render();
  CHECK(metrics.find("sb_admin_rpc_total{code=\"RESOURCE_EXHAUSTED\",method=\"ListTenants\"} 1") !=
        std::string::npos);
}

}  // namespace
}  // namespace sb::admin
