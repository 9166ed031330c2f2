// The lookups other services need from admin, answered from the repositories (the rpc layer
// puts a cache in front). Each answer carries the tenant, so the caller sees its status: a
// suspended tenant's domain, credentials, numbers and trunks are still found, and say so.
//
//   Lookups lookups(tenants, extensions, numbers, trunks);
//   auto creds = lookups.Credentials("acme.sip.example.com", "1001");
//   if (creds.ok() && creds->tenant.status == TenantStatus::kSuspended) Refuse();
#pragma once

#include <string_view>
#include <vector>

#include "domain/outbound_route.h"
#include "domain/repositories.h"

namespace sb::admin {

struct CredentialsAnswer {
  Tenant tenant;
  Extension extension;
};

struct NumberAnswer {
  Tenant tenant;
  PhoneNumber number;
};

struct TrunkAnswer {
  Tenant tenant;
  Trunk trunk;
};

struct ExtensionAnswer {
  Tenant tenant;
  Extension extension;
};

struct OutboundRouteAnswer {
  Tenant tenant;
  Trunk trunk;
  std::string dialed;  // rewritten by the matching prefix rule
  std::string caller_id;
  bool caller_id_blocked = false;
};

class Lookups {
 public:
  Lookups(TenantRepository& tenants, ExtensionRepository& extensions, NumberRepository& numbers,
          TrunkRepository& trunks)
      : tenants_(tenants), extensions_(extensions), numbers_(numbers), trunks_(trunks) {}

  // INVALID_ARGUMENT for malformed input (naming the field), NOT_FOUND when nothing matches.
  Result<Tenant> Domain(std::string_view sip_domain);
  Result<Tenant> TenantById(std::string_view tenant_id);
  Result<CredentialsAnswer> Credentials(std::string_view sip_domain, std::string_view user);
  Result<NumberAnswer> Number(std::string_view e164);
  Result<TrunkAnswer> TrunkBySource(std::string_view source_ip);
  // `user` is an extension number or a SIP username; the number is tried first.
  Result<ExtensionAnswer> FindExtension(std::string_view sip_domain, std::string_view user);
  // The trunk of the tenant for a dialled number (domain/outbound_route.h); caller_id is the
  // calling extension's, presented as is under PASSTHROUGH. A `trunk_id` limits the choice to
  // that trunk's rules (NOT_FOUND when the tenant has no such trunk).
  Result<OutboundRouteAnswer> FindOutboundRoute(std::string_view tenant_id, std::string_view dialed,
                                                std::string_view caller_id,
                                                std::string_view trunk_id = {});

 private:
  Result<std::vector<Trunk>> AllTrunks(const TenantId& tenant);
  Result<std::vector<Trunk>> OneTrunk(const TenantId& tenant, std::string_view trunk_id);

  TenantRepository& tenants_;
  ExtensionRepository& extensions_;
  NumberRepository& numbers_;
  TrunkRepository& trunks_;
};

}  // namespace sb::admin
