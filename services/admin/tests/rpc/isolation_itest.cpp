// Tenant isolation through the real API: with tenant B's key, every read, list, update and
// delete of each of tenant A's resources answers NOT_FOUND, and nothing of A changes.
#include <catch2/catch.hpp>

#include "rpc/admin_fixture.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
namespace pb = ::switchboard::admin::v1;
using grpc::StatusCode;
using Tenants = pb::TenantService::Stub;
using Keys = pb::ApiKeyService::Stub;
using Exts = pb::ExtensionService::Stub;
using Nums = pb::NumberService::Stub;
using Trunks = pb::TrunkService::Stub;

struct TenantA {
  pb::Tenant tenant;
  std::string key;
  pb::ApiKey second_key;
  pb::Extension ext;
  pb::PhoneNumber number;
  pb::Trunk trunk;
};

TenantA Provision(AdminFixture& f) {
  TenantA a;
  a.key = f.Onboard("alpha", &a.tenant);
  pb::CreateApiKeyRequest k;
  k.set_name("second");
  pb::CreateApiKeyResponse kr;
  REQUIRE(Call(f.keys, a.key, &Keys::CreateApiKey, k, &kr).ok());
  a.second_key = kr.key();
  pb::CreateExtensionRequest e;
  e.set_number("1001");
  e.set_password("long enough");
  REQUIRE(Call(f.extensions, a.key, &Exts::CreateExtension, e, &a.ext).ok());
  pb::AddNumberRequest n;
  n.set_e164("+15551230001");
  n.set_target("ext:1001");
  REQUIRE(Call(f.numbers, a.key, &Nums::AddNumber, n, &a.number).ok());
  pb::CreateTrunkRequest t;
  t.set_name("carrier");
  t.set_host("sip.carrier.example");
  t.add_inbound_sources("203.0.113.0/24");
  REQUIRE(Call(f.trunks, a.key, &Trunks::CreateTrunk, t, &a.trunk).ok());
  return a;
}

// Everything of A as A sees it, serialized, to compare before and after.
std::string Snapshot(AdminFixture& f, const TenantA& a) {
  std::string out;
  pb::GetTenantRequest gt;
  pb::Tenant t;
  REQUIRE(Call(f.tenants, a.key, &Tenants::GetTenant, gt, &t).ok());
  out += t.SerializeAsString();
  pb::ListApiKeysRequest lk;
  lk.set_include_revoked(true);
  pb::ListApiKeysResponse keys;
  REQUIRE(Call(f.keys, a.key, &Keys::ListApiKeys, lk, &keys).ok());
  out += keys.SerializeAsString();
  pb::ListExtensionsRequest le;
  pb::ListExtensionsResponse exts;
  REQUIRE(Call(f.extensions, a.key, &Exts::ListExtensions, le, &exts).ok());
  out += exts.SerializeAsString();
  pb::ListNumbersRequest ln;
  pb::ListNumbersResponse nums;
  REQUIRE(Call(f.numbers, a.key, &Nums::ListNumbers, ln, &nums).ok());
  out += nums.SerializeAsString();
  pb::ListTrunksRequest ltr;
  pb::ListTrunksResponse trunks;
  REQUIRE(Call(f.trunks, a.key, &Trunks::ListTrunks, ltr, &trunks).ok());
  out += trunks.SerializeAsString();
  return out;
}

TEST_CASE("tenant B's key cannot read, list, update or delete any of tenant A's resources",
          "[integration]") {
  AdminFixture f;
  TenantA a = Provision(f);
  const std::string b = f.Onboard("bravo");
  const std::string before = Snapshot(f, a);
  // Both spellings: A's resource id alone (B's own tenant implied) and naming A's tenant.
  for (bool name_a : {false, true}) {
    // Section names must not depend on the run: each run onboards new tenants with new ids.
    DYNAMIC_SECTION((name_a ? "naming tenant A" : "tenant implied by B's key")) {
      const std::string named = name_a ? a.tenant.id() : std::string();
      pb::GetTenantRequest gt;
      gt.set_id(a.tenant.id());
      pb::Tenant t;
      CHECK(Call(f.tenants, b, &Tenants::GetTenant, gt, &t).error_code() == StatusCode::NOT_FOUND);
      pb::UpdateTenantRequest ut;
      ut.set_id(a.tenant.id());
      ut.set_name("pwned");
      CHECK(Call(f.tenants, b, &Tenants::UpdateTenant, ut, &t).error_code() ==
            StatusCode::NOT_FOUND);

      pb::ListApiKeysRequest lk;
      lk.set_tenant_id(named);
      pb::ListApiKeysResponse keys;
      auto s = Call(f.keys, b, &Keys::ListApiKeys, lk, &keys);
      if (named.empty()) {
        REQUIRE(s.ok());
        for (const auto& k : keys.keys()) CHECK(k.tenant_id() != a.tenant.id());
      } else {
        CHECK(s.error_code() == StatusCode::NOT_FOUND);
      }
      pb::RevokeApiKeyRequest rk;
      rk.set_tenant_id(named);
      rk.set_id(a.second_key.id());
      pb::ApiKey k;
      CHECK(Call(f.keys, b, &Keys::RevokeApiKey, rk, &k).error_code() == StatusCode::NOT_FOUND);
      pb::CreateApiKeyRequest ck;
      ck.set_tenant_id(named);
      ck.set_name("planted");
      pb::CreateApiKeyResponse ckr;
      if (!named.empty()) {
        CHECK(Call(f.keys, b, &Keys::CreateApiKey, ck, &ckr).error_code() == StatusCode::NOT_FOUND);
      }

      pb::GetExtensionRequest ge;
      ge.set_tenant_id(named);
      ge.set_id(a.ext.id());
      pb::Extension e;
      CHECK(Call(f.extensions, b, &Exts::GetExtension, ge, &e).error_code() ==
            StatusCode::NOT_FOUND);
      pb::ListExtensionsRequest le;
      le.set_tenant_id(named);
      pb::ListExtensionsResponse exts;
      s = Call(f.extensions, b, &Exts::ListExtensions, le, &exts);
      if (named.empty()) {
        REQUIRE(s.ok());
        CHECK(exts.extensions_size() == 0);
      } else {
        CHECK(s.error_code() == StatusCode::NOT_FOUND);
      }
      pb::UpdateExtensionRequest ue;
      ue.set_tenant_id(named);
      ue.set_id(a.ext.id());
      ue.set_password("hijacked!");
      CHECK(Call(f.extensions, b, &Exts::UpdateExtension, ue, &e).error_code() ==
            StatusCode::NOT_FOUND);
      pb::DeleteExtensionRequest de;
      de.set_tenant_id(named);
      de.set_id(a.ext.id());
      pb::DeleteExtensionResponse der;
      CHECK(Call(f.extensions, b, &Exts::DeleteExtension, de, &der).error_code() ==
            StatusCode::NOT_FOUND);
      pb::CreateExtensionRequest ce;
      ce.set_tenant_id(named);
      ce.set_number("1002");
      ce.set_password("long enough");
      if (!named.empty()) {
        CHECK(Call(f.extensions, b, &Exts::CreateExtension, ce, &e).error_code() ==
              StatusCode::NOT_FOUND);
      }

      pb::GetNumberRequest gn;
      gn.set_tenant_id(named);
      gn.set_id(a.number.id());
      pb::PhoneNumber n;
      CHECK(Call(f.numbers, b, &Nums::GetNumber, gn, &n).error_code() == StatusCode::NOT_FOUND);
      pb::ListNumbersRequest ln;
      ln.set_tenant_id(named);
      pb::ListNumbersResponse nums;
      s = Call(f.numbers, b, &Nums::ListNumbers, ln, &nums);
      if (named.empty()) {
        REQUIRE(s.ok());
        CHECK(nums.numbers_size() == 0);
      } else {
        CHECK(s.error_code() == StatusCode::NOT_FOUND);
      }
      pb::UpdateNumberRequest un;
      un.set_tenant_id(named);
      un.set_id(a.number.id());
      un.set_target("");
      CHECK(Call(f.numbers, b, &Nums::UpdateNumber, un, &n).error_code() == StatusCode::NOT_FOUND);
      pb::DeleteNumberRequest dn;
      dn.set_tenant_id(named);
      dn.set_id(a.number.id());
      pb::DeleteNumberResponse dnr;
      CHECK(Call(f.numbers, b, &Nums::DeleteNumber, dn, &dnr).error_code() ==
            StatusCode::NOT_FOUND);

      pb::GetTrunkRequest gtr;
      gtr.set_tenant_id(named);
      gtr.set_id(a.trunk.id());
      pb::Trunk tr;
      CHECK(Call(f.trunks, b, &Trunks::GetTrunk, gtr, &tr).error_code() == StatusCode::NOT_FOUND);
      pb::ListTrunksRequest ltr;
      ltr.set_tenant_id(named);
      pb::ListTrunksResponse trunks;
      s = Call(f.trunks, b, &Trunks::ListTrunks, ltr, &trunks);
      if (named.empty()) {
        REQUIRE(s.ok());
        CHECK(trunks.trunks_size() == 0);
      } else {
        CHECK(s.error_code() == StatusCode::NOT_FOUND);
      }
      pb::UpdateTrunkRequest utr;
      utr.set_tenant_id(named);
      utr.set_id(a.trunk.id());
      utr.set_host("evil.example");
      CHECK(Call(f.trunks, b, &Trunks::UpdateTrunk, utr, &tr).error_code() ==
            StatusCode::NOT_FOUND);
      pb::DeleteTrunkRequest dtr;
      dtr.set_tenant_id(named);
      dtr.set_id(a.trunk.id());
      pb::DeleteTrunkResponse dtrr;
      CHECK(Call(f.trunks, b, &Trunks::DeleteTrunk, dtr, &dtrr).error_code() ==
            StatusCode::NOT_FOUND);
    }
  }
  CHECK(Snapshot(f, a) == before);
}

}  // namespace
}  // namespace sb::admin
