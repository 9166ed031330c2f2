#include "routing/originators.h"

#include <string>

namespace sb::signaling {

Result<b2bua::Caller> AdminOriginators::Resolve(const TenantId& tenant, std::string_view domain,
                                                std::string_view extension) {
  auto owner = admin_.Domain(domain);
  // Another tenant's domain is answered as an unknown one: a command learns nothing about it.
  if ((!owner.ok() && owner.status().code() == StatusCode::kNotFound) ||
      (owner.ok() && owner->tenant != tenant)) {
    return Status::NotFound("tenant " + tenant.str() + " has no SIP domain " + std::string(domain));
  }
  if (!owner.ok()) return Status::Unavailable("admin did not answer: " + owner.status().message());
  if (owner->tenant_suspended) {
    return Status::FailedPrecondition("tenant " + tenant.str() + " is suspended");
  }
  auto me = admin_.Extension(domain, extension);
  if (!me.ok()) {
    if (me.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("tenant " + tenant.str() + " has no extension " +
                              std::string(extension));
    }
    return Status::Unavailable("admin did not answer: " + me.status().message());
  }
  if (!me->enabled) {
    return Status::FailedPrecondition("extension " + std::string(extension) + " is disabled");
  }
  return b2bua::Caller{.tenant = tenant,
                       .domain = std::string(domain),
                       .extension = me->sip_username,
                       .trunk_id = {}};
}

Result<b2bua::Caller> AdminOriginators::AsTenant(const TenantId& tenant) {
  auto found = admin_.Tenant(tenant);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no tenant " + tenant.str());
    }
    return Status::Unavailable("admin did not answer: " + found.status().message());
  }
  if (found->suspended)
    return Status::FailedPrecondition("tenant " + tenant.str() + " is suspended");
  return b2bua::Caller{
      .tenant = tenant, .domain = found->sip_domain, .extension = {}, .trunk_id = {}};
}

}  // namespace sb::signaling
