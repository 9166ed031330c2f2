#include "domain/access.h"

#include <catch2/catch.hpp>

namespace sb::admin {
namespace {

const std::string kTenantA = "0190f3a0-1c2b-7d3e-8f40-00000000000a";
const std::string kTenantB = "0190f3a0-1c2b-7d3e-8f40-00000000000b";

Principal Platform() { return Principal{ApiKeyId("k-platform"), std::nullopt}; }
Principal TenantKey(const std::string& tenant) {
  return Principal{ApiKeyId("k-tenant"), TenantId(tenant)};
}

TEST_CASE("a tenant key acts on its own tenant, named or not", "[unit]") {
  CHECK(ResolveTenant(TenantKey(kTenantA), "")->str() == kTenantA);
  CHECK(ResolveTenant(TenantKey(kTenantA), kTenantA)->str() == kTenantA);
}

TEST_CASE("a tenant key naming another tenant gets NOT_FOUND, never PERMISSION_DENIED", "[unit]") {
  auto r = ResolveTenant(TenantKey(kTenantA), kTenantB);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kNotFound);
}

TEST_CASE("a platform key must name a well-formed tenant", "[unit]") {
  CHECK(ResolveTenant(Platform(), kTenantB)->str() == kTenantB);
  auto missing = ResolveTenant(Platform(), "");
  CHECK(missing.status().code() == StatusCode::kInvalidArgument);
  CHECK(missing.status().field() == "tenant_id");
  auto malformed = ResolveTenant(Platform(), "acme", "id");
  CHECK(malformed.status().code() == StatusCode::kInvalidArgument);
  CHECK(malformed.status().field() == "id");
}

TEST_CASE("a malformed tenant id is INVALID_ARGUMENT for tenant keys too", "[unit]") {
  CHECK(ResolveTenant(TenantKey(kTenantA), "nope").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("only platform keys pass RequirePlatform", "[unit]") {
  CHECK(RequirePlatform(Platform(), "creating tenants").ok());
  Status s = RequirePlatform(TenantKey(kTenantA), "creating tenants");
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK(s.message().find("creating tenants") != std::string::npos);
}

}  // namespace
}  // namespace sb::admin
