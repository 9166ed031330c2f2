#include "domain/access.h"

#include <string>

#include "domain/validation.h"

namespace sb::admin {

Result<TenantId> ResolveTenant(const Principal& principal, std::string_view requested,
                               std::string_view field) {
  if (requested.empty()) {
    if (principal.tenant) return *principal.tenant;
    return Status::InvalidArgument(std::string(field) + " is required with a platform key",
                                   std::string(field));
  }
  SB_RETURN_IF_ERROR(ValidateId(requested, field));
  if (principal.tenant && principal.tenant->str() != requested) {
    return Status::NotFound("tenant " + std::string(requested) + " not found");
  }
  return TenantId(std::string(requested));
}

Status RequirePlatform(const Principal& principal, std::string_view what) {
  if (principal.is_platform()) return Status::Ok();
  return Status::PermissionDenied(std::string(what) + " needs a platform API key");
}

}  // namespace sb::admin
