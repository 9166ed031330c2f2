// The audit log through the real API (AuditService.ListAuditEntries): every mutation appears with
// who, what and when; filters and pages; a tenant key sees only its own tenant's entries; bad
// input names the field.
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "rpc/admin_fixture.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
using testing::kPlatformKey;
namespace pb = ::switchboard::admin::v1;
using Audit = pb::AuditService::Stub;

struct Acme {
  pb::Tenant tenant;
  std::string key;
  std::string key_id;
  pb::Extension ext;
};

// Onboards acme with the platform key, then with acme's key: creates, updates and deletes an
// extension, adds a number and creates a trunk.
Acme Provision(AdminFixture& f) {
  Acme a;
  grpc::ClientContext ctx;
  AdminFixture::Authorize(ctx, kPlatformKey);
  pb::CreateTenantRequest ct;
  ct.set_slug("acme");
  pb::CreateTenantResponse created;
  REQUIRE(f.tenants->CreateTenant(&ctx, ct, &created).ok());
  a.tenant = created.tenant();
  a.key = created.first_api_key().secret();
  a.key_id = created.first_api_key().id();
  pb::CreateExtensionRequest ce;
  ce.set_number("1001");
  ce.set_password("a long secret pass");
  REQUIRE(Call(f.extensions, a.key, &pb::ExtensionService::Stub::CreateExtension, ce, &a.ext).ok());
  pb::UpdateExtensionRequest ue;
  ue.set_id(a.ext.id());
  ue.set_password("another long secret");
  pb::Extension updated;
  REQUIRE(
      Call(f.extensions, a.key, &pb::ExtensionService::Stub::UpdateExtension, ue, &updated).ok());
  pb::AddNumberRequest an;
  an.set_e164("+15551230001");
  pb::PhoneNumber number;
  REQUIRE(Call(f.numbers, a.key, &pb::NumberService::Stub::AddNumber, an, &number).ok());
  pb::CreateTrunkRequest tr;
  tr.set_name("carrier");
  tr.set_host("sip.carrier.example");
  tr.set_username("acme");
  tr.set_password("carrier secret");
  pb::Trunk trunk;
  REQUIRE(Call(f.trunks, a.key, &pb::TrunkService::Stub::CreateTrunk, tr, &trunk).ok());
  pb::DeleteExtensionRequest de;
  de.set_id(a.ext.id());
  pb::DeleteExtensionResponse deleted;
  REQUIRE(
      Call(f.extensions, a.key, &pb::ExtensionService::Stub::DeleteExtension, de, &deleted).ok());
  return a;
}

// Every entry the key may see under `req`, following the pages.
std::vector<pb::AuditEntry> All(AdminFixture& f, const std::string& key,
                                pb::ListAuditEntriesRequest req) {
  std::vector<pb::AuditEntry> out;
  for (int pages = 0; pages < 100; ++pages) {
    pb::ListAuditEntriesResponse resp;
    grpc::Status s = Call(f.audit, key, &Audit::ListAuditEntries, req, &resp);
    REQUIRE(s.ok());
    out.insert(out.end(), resp.entries().begin(), resp.entries().end());
    if (resp.page().next_page_token().empty()) return out;
    req.mutable_page()->set_page_token(resp.page().next_page_token());
  }
  FAIL("the pages never end");
  return out;
}

std::vector<std::string> Actions(const std::vector<pb::AuditEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.action());
  return out;
}

std::string PlatformKeyId(AdminFixture& f) {
  pb::ListApiKeysRequest req;
  pb::ListApiKeysResponse resp;
  REQUIRE(Call(f.keys, kPlatformKey, &pb::ApiKeyService::Stub::ListApiKeys, req, &resp).ok());
  REQUIRE(resp.keys_size() == 1);
  return resp.keys(0).id();
}

TEST_CASE("every mutation is in the audit log with who did it and when", "[integration]") {
  AdminFixture f;
  const auto before = std::chrono::system_clock::now();
  Acme a = Provision(f);
  const auto after = std::chrono::system_clock::now();

  auto entries = All(f, a.key, {});
  CHECK(Actions(entries) == std::vector<std::string>{"tenant.create", "extension.create",
                                                     "extension.update", "number.add",
                                                     "trunk.create", "extension.delete"});
  REQUIRE(entries.size() == 6);
  CHECK(entries[0].actor_key_id() == PlatformKeyId(f));
  CHECK(entries[0].resource_type() == "tenant");
  CHECK(entries[0].resource_id() == a.tenant.id());
  for (size_t i = 1; i < entries.size(); ++i) {
    CHECK(entries[i].actor_key_id() == a.key_id);
    CHECK(entries[i].tenant_id() == a.tenant.id());
    CHECK(std::stoll(entries[i].id()) > std::stoll(entries[i - 1].id()));
  }
  CHECK(entries[1].resource_id() == a.ext.id());
  CHECK(entries[1].resource_type() == "extension");
  CHECK(entries[4].resource_type() == "trunk");
  for (const auto& e : entries) {
    const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(e.at().seconds()));
    CHECK(at >= std::chrono::time_point_cast<std::chrono::seconds>(before));
    CHECK(at <= after);
    CHECK(e.details_json().find("secret") == std::string::npos);
  }
}

TEST_CASE("the audit log filters by resource, actor and time and pages oldest first",
          "[integration]") {
  AdminFixture f;
  Acme a = Provision(f);
  auto all = All(f, a.key, {});
  REQUIRE(all.size() == 6);

  pb::ListAuditEntriesRequest by_type;
  by_type.set_resource_type("extension");
  CHECK(Actions(All(f, a.key, by_type)) ==
        std::vector<std::string>{"extension.create", "extension.update", "extension.delete"});

  pb::ListAuditEntriesRequest by_resource;
  by_resource.set_resource_id(a.tenant.id());
  CHECK(Actions(All(f, a.key, by_resource)) == std::vector<std::string>{"tenant.create"});

  pb::ListAuditEntriesRequest by_actor;
  by_actor.set_actor_key_id(a.key_id);
  CHECK(All(f, a.key, by_actor).size() == 5);
  by_actor.set_actor_key_id(PlatformKeyId(f));
  CHECK(Actions(All(f, a.key, by_actor)) == std::vector<std::string>{"tenant.create"});

  // Entries from the fourth on, and the ones before it: the range is [since, until).
  pb::ListAuditEntriesRequest since;
  *since.mutable_since() = all[3].at();
  auto later = All(f, a.key, since);
  REQUIRE_FALSE(later.empty());
  CHECK(later.front().id() == all[3].id());
  CHECK(later.back().id() == all[5].id());
  pb::ListAuditEntriesRequest until;
  *until.mutable_until() = all[3].at();
  auto earlier = All(f, a.key, until);
  CHECK(earlier.size() + later.size() == all.size());

  // Pages of two: three pages holding the same entries in the same order.
  pb::ListAuditEntriesRequest paged;
  paged.mutable_page()->set_page_size(2);
  pb::ListAuditEntriesResponse first;
  REQUIRE(Call(f.audit, a.key, &Audit::ListAuditEntries, paged, &first).ok());
  CHECK(first.entries_size() == 2);
  CHECK_FALSE(first.page().next_page_token().empty());
  auto pages = All(f, a.key, paged);
  REQUIRE(pages.size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) CHECK(pages[i].id() == all[i].id());
}

TEST_CASE("a tenant key reads only its own tenant's audit entries", "[integration]") {
  AdminFixture f;
  Acme a = Provision(f);
  pb::Tenant bravo;
  const std::string b = f.Onboard("bravo", &bravo);
  // A platform-level change: a second platform key.
  pb::CreateApiKeyRequest platform_key;
  platform_key.set_name("ops");
  pb::CreateApiKeyResponse created;
  REQUIRE(Call(f.keys, kPlatformKey, &pb::ApiKeyService::Stub::CreateApiKey, platform_key, &created)
              .ok());

  auto bs = All(f, b, {});
  CHECK(Actions(bs) == std::vector<std::string>{"tenant.create"});
  for (const auto& e : bs) CHECK(e.tenant_id() == bravo.id());

  // Naming acme, or asking for acme's resources by id, finds nothing of acme's.
  pb::ListAuditEntriesRequest naming_a;
  naming_a.set_tenant_id(a.tenant.id());
  pb::ListAuditEntriesResponse resp;
  CHECK(Call(f.audit, b, &Audit::ListAuditEntries, naming_a, &resp).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(resp.entries_size() == 0);
  pb::ListAuditEntriesRequest a_resource;
  a_resource.set_resource_id(a.ext.id());
  CHECK(All(f, b, a_resource).empty());
  pb::ListAuditEntriesRequest a_actor;
  a_actor.set_actor_key_id(a.key_id);
  CHECK(All(f, b, a_actor).empty());

  // The platform key reads one tenant's entries, or all of them with the platform's own.
  auto platform_a = All(f, kPlatformKey, naming_a);
  CHECK(platform_a.size() == 6);
  for (const auto& e : platform_a) CHECK(e.tenant_id() == a.tenant.id());
  auto everything = All(f, kPlatformKey, {});
  REQUIRE(everything.size() == 1 + 6 + 1 + 1);
  CHECK(everything.front().action() == "api_key.bootstrap");  // by admin itself: no actor
  CHECK(everything.front().actor_key_id().empty());
  CHECK(everything.front().tenant_id().empty());
  CHECK(everything.back().action() == "api_key.create");
  CHECK(everything.back().tenant_id().empty());
  CHECK(everything.back().resource_id() == created.key().id());
}

TEST_CASE("bad audit queries answer INVALID_ARGUMENT naming the field", "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  struct Case {
    const char* field;
    std::function<void(pb::ListAuditEntriesRequest&)> set;
  };
  const std::vector<Case> cases = {
      {"tenant_id", [](auto& r) { r.set_tenant_id("acme"); }},
      {"resource_type", [](auto& r) { r.set_resource_type("widget"); }},
      {"resource_id", [](auto& r) { r.set_resource_id("1001"); }},
      {"actor_key_id", [](auto& r) { r.set_actor_key_id("sbk_abc"); }},
      {"since", [](auto& r) { r.mutable_since()->set_seconds(-1); }},
      {"until", [](auto& r) { r.mutable_until()->set_nanos(1000000000); }},
      {"until",
       [](auto& r) {
         r.mutable_since()->set_seconds(1800000000);
         r.mutable_until()->set_seconds(1700000000);
       }},
      {"page.page_size", [](auto& r) { r.mutable_page()->set_page_size(-1); }},
      {"page.page_token", [](auto& r) { r.mutable_page()->set_page_token("p1.abc"); }},
      {"page.page_token",
       [](auto& r) {
         r.mutable_page()->set_page_token("p1.0190a5a0-0000-7000-8000-000000000000");
       }},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    DYNAMIC_SECTION("case " << i << " names " << c.field) {
      pb::ListAuditEntriesRequest req;
      c.set(req);
      pb::ListAuditEntriesResponse resp;
      std::string field;
      grpc::Status s = Call(f.audit, key, &Audit::ListAuditEntries, req, &resp, &field);
      CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(field == c.field);
    }
  }
  pb::ListAuditEntriesResponse resp;
  CHECK(Call(f.audit, std::string(), &Audit::ListAuditEntries, {}, &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace sb::admin
