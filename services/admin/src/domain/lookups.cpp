#include "domain/lookups.h"

#include <arpa/inet.h>

#include "domain/paging.h"
#include "domain/validation.h"

namespace sb::admin {

Result<Tenant> Lookups::Domain(std::string_view sip_domain) {
  SB_RETURN_IF_ERROR(ValidateDomain(sip_domain, "sip_domain"));
  return tenants_.GetByDomain(sip_domain);
}

Result<Tenant> Lookups::TenantById(std::string_view tenant_id) {
  SB_RETURN_IF_ERROR(ValidateId(tenant_id, "tenant_id"));
  return tenants_.Get(TenantId(std::string(tenant_id)));
}

Result<CredentialsAnswer> Lookups::Credentials(std::string_view sip_domain, std::string_view user) {
  SB_RETURN_IF_ERROR(ValidateSipUser(user, "sip_username"));
  auto tenant = Domain(sip_domain);
  if (!tenant.ok()) return tenant.status();
  auto ext = extensions_.GetByUsername(tenant->id, user);
  if (!ext.ok()) return ext.status();
  return CredentialsAnswer{*tenant, *ext};
}

Result<NumberAnswer> Lookups::Number(std::string_view e164) {
  SB_RETURN_IF_ERROR(ValidateE164(e164, "e164"));
  auto number = numbers_.FindByE164(e164);
  if (!number.ok()) return number.status();
  auto tenant = tenants_.Get(number->tenant_id);
  if (!tenant.ok()) return tenant.status();
  return NumberAnswer{*tenant, *number};
}

Result<TrunkAnswer> Lookups::TrunkBySource(std::string_view source_ip) {
  unsigned char buf[16];
  std::string ip(source_ip);
  if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
    return Status::InvalidArgument("source_ip must be an IPv4 or IPv6 address", "source_ip");
  }
  auto trunk = trunks_.FindBySource(ip);
  if (!trunk.ok()) return trunk.status();
  auto tenant = tenants_.Get(trunk->tenant_id);
  if (!tenant.ok()) return tenant.status();
  return TrunkAnswer{*tenant, *trunk};
}

Result<ExtensionAnswer> Lookups::FindExtension(std::string_view sip_domain, std::string_view user) {
  SB_RETURN_IF_ERROR(ValidateSipUser(user, "user"));
  auto tenant = Domain(sip_domain);
  if (!tenant.ok()) return tenant.status();
  if (ValidateExtensionNumber(user, "user").ok()) {
    auto by_number = extensions_.GetByNumber(tenant->id, user);
    if (by_number.ok()) return ExtensionAnswer{*tenant, *by_number};
    if (by_number.status().code() != StatusCode::kNotFound) return by_number.status();
  }
  auto by_user = extensions_.GetByUsername(tenant->id, user);
  if (!by_user.ok()) return by_user.status();
  return ExtensionAnswer{*tenant, *by_user};
}

Result<OutboundRouteAnswer> Lookups::FindOutboundRoute(std::string_view tenant_id,
                                                       std::string_view dialed,
                                                       std::string_view caller_id,
                                                       std::string_view trunk_id) {
  SB_RETURN_IF_ERROR(ValidateId(tenant_id, "tenant_id"));
  SB_RETURN_IF_ERROR(ValidateDialed(dialed, "dialed"));
  if (!trunk_id.empty()) SB_RETURN_IF_ERROR(ValidateId(trunk_id, "trunk_id"));
  if (caller_id.size() > 64) {
    return Status::InvalidArgument("caller_id must be at most 64 characters", "caller_id");
  }
  auto tenant = tenants_.Get(TenantId(std::string(tenant_id)));
  if (!tenant.ok()) return tenant.status();
  auto trunks = trunk_id.empty() ? AllTrunks(tenant->id) : OneTrunk(tenant->id, trunk_id);
  if (!trunks.ok()) return trunks.status();
  auto route = ChooseOutboundRoute(*trunks, dialed, caller_id);
  if (!route.ok()) return route.status();
  return OutboundRouteAnswer{*tenant, *route->trunk, route->dialed, route->caller_id,
                             route->caller_id_blocked};
}

// Every trunk of the tenant, in id (creation) order; the page bound keeps the loop finite.
Result<std::vector<Trunk>> Lookups::AllTrunks(const TenantId& tenant) {
  std::vector<Trunk> trunks;
  PageQuery page{.size = kMaxPageSize, .after = {}};
  for (int pages = 0; pages < 100; ++pages) {
    auto batch = trunks_.List(tenant, "", page);
    if (!batch.ok()) return batch.status();
    for (auto& t : batch->items) trunks.push_back(std::move(t));
    if (batch->next_after.empty()) break;
    page.after = batch->next_after;
  }
  return trunks;
}

Result<std::vector<Trunk>> Lookups::OneTrunk(const TenantId& tenant, std::string_view trunk_id) {
  auto trunk = trunks_.Get(tenant, TrunkId(std::string(trunk_id)));
  if (!trunk.ok()) return trunk.status();
  return std::vector<Trunk>{std::move(*trunk)};
}

}  // namespace sb::admin
