// Reading the audit log. Every mutation writes its entry in its own transaction (store/,
// AuditEntry in domain/repositories.h); this is the one way back out: filtered by resource, actor
// and time, paged oldest first, and scoped like every other read: a tenant key sees only its own
// tenant's entries (naming another tenant is NOT_FOUND), a platform key sees one tenant's or,
// naming none, all of them together with the platform-level ones (platform API keys).
//
//   AuditLogReader reader(audit_repository);
//   auto page = reader.List(principal, {.resource_type = "extension"}, page_query);
//
// Thread-safe when the repository is.
#pragma once

#include <optional>
#include <string>

#include "domain/access.h"
#include "domain/model.h"

namespace sb::admin {

// Decimal, increasing in commit order within one database.
using AuditEntryId = Id<struct AuditEntryIdTag>;

// One entry as stored.
struct AuditRecord {
  AuditEntryId id{};
  std::optional<TenantId> tenant{};  // none: a platform-level change
  std::string actor_key_id{};        // empty: admin itself (bootstrap)
  std::string action{};
  std::string resource_type{};
  std::string resource_id{};
  std::string details_json{};
  WallTime at{};
};

// The filters of a read, as the caller gave them (validated by AuditLogReader::List).
struct AuditQuery {
  std::string tenant_id{};  // empty: the key's own tenant, or everything for a platform key
  std::string resource_type{};
  std::string resource_id{};
  std::string actor_key_id{};
  std::optional<WallTime> since{};  // at >= since
  std::optional<WallTime> until{};  // at < until
};

// Validated filters; empty strings match anything.
struct AuditFilter {
  std::string resource_type{};
  std::string resource_id{};
  std::string actor_key_id{};
  std::optional<WallTime> since{};
  std::optional<WallTime> until{};
};

class AuditLogRepository {
 public:
  virtual ~AuditLogRepository() = default;
  // The entries of `tenant`, or of every tenant and the platform when it is nullopt, oldest
  // first, after page.after. UNAVAILABLE when the database cannot be reached.
  virtual Result<Page<AuditRecord>> List(const std::optional<TenantId>& tenant,
                                         const AuditFilter& filter, const PageQuery& page) = 0;
};

class AuditLogReader {
 public:
  explicit AuditLogReader(AuditLogRepository& repository) : repository_(repository) {}

  // INVALID_ARGUMENT naming the field for a malformed tenant_id, resource_id or actor_key_id,
  // an unknown resource_type, or until not after since; NOT_FOUND for a tenant key naming
  // another tenant.
  Result<Page<AuditRecord>> List(const Principal& p, const AuditQuery& query,
                                 const PageQuery& page);

 private:
  AuditLogRepository& repository_;
};

// True for the decimal ids audit entries have (page tokens of the audit list).
bool IsAuditEntryId(std::string_view text);

}  // namespace sb::admin
