#include "store/pg_common.h"
#include "store/pg_repositories.h"

namespace sb::admin {
namespace {

AuditRecord FromRow(const pqxx::row& r) {
  AuditRecord a;
  a.id = AuditEntryId(r[0].as<std::string>());
  if (!r[1].is_null()) a.tenant = TenantId(r[1].as<std::string>());
  if (!r[2].is_null()) a.actor_key_id = r[2].as<std::string>();
  a.action = r[3].as<std::string>();
  a.resource_type = r[4].as<std::string>();
  a.resource_id = r[5].as<std::string>();
  a.details_json = r[6].as<std::string>();
  a.at = FromMicros(r[7].as<int64_t>());
  return a;
}

std::optional<int64_t> Micros(const std::optional<WallTime>& t) {
  if (!t) return std::nullopt;
  return ToMicros(*t);
}

}  // namespace

Result<Page<AuditRecord>> PgAuditLogRepository::List(const std::optional<TenantId>& tenant,
                                                     const AuditFilter& filter,
                                                     const PageQuery& page) {
  std::optional<std::string> tenant_text;
  if (tenant) tenant_text = tenant->str();
  std::optional<int64_t> after;
  if (!page.after.empty()) after = std::stoll(page.after);
  return internal::Transact<Page<AuditRecord>>(
      pool_, [&](pqxx::transaction_base& w) -> Result<Page<AuditRecord>> {
        // With no tenant (a platform key asking for everything) the first condition is true.
        auto rows = w.exec_params(
            "SELECT audit_id::text, tenant_id::text, actor_key_id::text, action, resource_type,"
            " resource_id, details::text, (extract(epoch from at) * 1000000)::bigint"
            " FROM admin.audit_log"
            " WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid)"
            " AND ($2 = '' OR resource_type = $2) AND ($3 = '' OR resource_id = $3)"
            " AND ($4::uuid IS NULL OR actor_key_id = $4::uuid)"
            " AND ($5::bigint IS NULL OR at >= to_timestamp($5::float8 / 1e6))"
            " AND ($6::bigint IS NULL OR at < to_timestamp($6::float8 / 1e6))"
            " AND ($7::bigint IS NULL OR audit_id > $7::bigint)"
            " ORDER BY audit_id LIMIT $8",
            tenant_text, filter.resource_type, filter.resource_id,
            internal::OptionalText(filter.actor_key_id), Micros(filter.since), Micros(filter.until),
            after, page.size + 1);
        return internal::MakePage<AuditRecord>(rows, page.size, FromRow);
      });
}

}  // namespace sb::admin
