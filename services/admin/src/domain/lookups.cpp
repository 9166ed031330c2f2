#include "domain/lookups.h"

#include <arpa/inet.h>

#include "domain/validation.h"

namespace sb::admin {

Result<Tenant> Lookups::Domain(std::string_view sip_domain) {
  SB_RETURN_IF_ERROR(ValidateDomain(sip_domain, "sip_domain"));
  return tenants_.GetByDomain(sip_domain);
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

}  // namespace sb::admin
