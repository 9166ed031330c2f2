#include "domain/audit_log.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "domain/validation.h"

namespace sb::admin {
namespace {

// The resource types the repositories write (store/, WriteAudit).
constexpr std::array<std::string_view, 5> kResourceTypes = {"tenant", "api_key", "extension",
                                                            "number", "trunk"};

Status ValidateResourceType(std::string_view type) {
  if (type.empty() ||
      std::find(kResourceTypes.begin(), kResourceTypes.end(), type) != kResourceTypes.end()) {
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "resource_type must be one of tenant, api_key, extension, number, trunk", "resource_type");
}

// Filters are optional: an empty id matches anything.
Status ValidateOptionalId(std::string_view id, std::string_view field) {
  return id.empty() ? Status::Ok() : ValidateId(id, field);
}

}  // namespace

bool IsAuditEntryId(std::string_view text) {
  return !text.empty() && text.size() <= 18 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

Result<Page<AuditRecord>> AuditLogReader::List(const Principal& p, const AuditQuery& query,
                                               const PageQuery& page) {
  std::optional<TenantId> tenant;
  if (!p.is_platform() || !query.tenant_id.empty()) {
    auto resolved = ResolveTenant(p, query.tenant_id);
    if (!resolved.ok()) return resolved.status();
    tenant = *resolved;
  }
  SB_RETURN_IF_ERROR(ValidateResourceType(query.resource_type));
  SB_RETURN_IF_ERROR(ValidateOptionalId(query.resource_id, "resource_id"));
  SB_RETURN_IF_ERROR(ValidateOptionalId(query.actor_key_id, "actor_key_id"));
  if (query.since && query.until && *query.until <= *query.since) {
    return Status::InvalidArgument("until must be after since", "until");
  }
  return repository_.List(tenant,
                          {.resource_type = query.resource_type,
                           .resource_id = query.resource_id,
                           .actor_key_id = query.actor_key_id,
                           .since = query.since,
                           .until = query.until},
                          page);
}

}  // namespace sb::admin
