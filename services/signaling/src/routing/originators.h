// AdminOriginators: whom an originate command places its call as (b2bua/ports.h, Originators),
// on admin's lookups: the domain of the command's to_uri must be the tenant's own (lookup_domain),
// and the extension one of the tenant's (lookup_extension), so a command never reaches into
// another tenant's domain or speaks for another tenant's phone.
//
//   sb::signaling::AdminOriginators originators(admin);
//   auto caller = originators.Resolve(tenant, "acme.sip.example", "1001");   // blocks
//   auto as_tenant = originators.AsTenant(tenant);  // a call through a trunk (lookup_tenant)
//
// Thread-safe as the lookups are.
#pragma once

#include "b2bua/ports.h"
#include "rpc/admin_lookups.h"

namespace sb::signaling {

class AdminOriginators final : public b2bua::Originators {
 public:
  // Borrowed; must outlive this object.
  explicit AdminOriginators(const AdminLookups& admin) : admin_(admin) {}

  Result<b2bua::Caller> Resolve(const TenantId& tenant, std::string_view domain,
                                std::string_view extension) override;
  Result<b2bua::Caller> AsTenant(const TenantId& tenant) override;

 private:
  const AdminLookups& admin_;
};

}  // namespace sb::signaling
