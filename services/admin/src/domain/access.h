// Who is calling and which tenant a request may touch.
//
// A platform key (no tenant) may onboard and manage every tenant; it names the tenant a request
// acts on. A tenant key acts only on its own tenant: it may leave tenant_id empty, and naming any
// other tenant answers NOT_FOUND, exactly as if that tenant did not exist, so a tenant cannot
// probe for other tenants. Resources are then always looked up by (tenant, id), so another
// tenant's resource id is NOT_FOUND as well.
//
//   auto tenant = ResolveTenant(principal, req.tenant_id());
//   if (!tenant.ok()) return tenant.status();
//   repo.Get(*tenant, id);
#pragma once

#include <optional>
#include <string_view>

#include "domain/model.h"
#include "switchboard/core/status.h"

namespace sb::admin {

struct Principal {
  ApiKeyId key_id;
  std::optional<TenantId> tenant;  // none: platform key
  bool is_platform() const { return !tenant.has_value(); }
};

// The tenant a request acts on (see above). INVALID_ARGUMENT when the id is malformed or a
// platform key leaves it empty; NOT_FOUND for a tenant key naming another tenant.
Result<TenantId> ResolveTenant(const Principal& principal, std::string_view requested,
                               std::string_view field = "tenant_id");

// PERMISSION_DENIED unless the principal holds a platform key.
Status RequirePlatform(const Principal& principal, std::string_view what);

}  // namespace sb::admin
