#include "store/pg_common.h"
#include "store/pg_repositories.h"

namespace sb::admin {
namespace {

using internal::MakePage;
using internal::OptionalText;
using internal::WriteAudit;

constexpr const char* kColumns =
    "extension_id::text, tenant_id::text, number, display_name, sip_username, ha1_md5,"
    " ha1_sha256, caller_id, enabled, (extract(epoch from created_at) * 1000000)::bigint,"
    " (extract(epoch from updated_at) * 1000000)::bigint";

Extension FromRow(const pqxx::row& r) {
  Extension e;
  e.id = ExtensionId(r[0].as<std::string>());
  e.tenant_id = TenantId(r[1].as<std::string>());
  e.number = r[2].as<std::string>();
  e.display_name = r[3].as<std::string>();
  e.sip_username = r[4].as<std::string>();
  e.ha1_md5 = r[5].as<std::string>();
  e.ha1_sha256 = r[6].as<std::string>();
  e.caller_id = r[7].as<std::string>();
  e.enabled = r[8].as<bool>();
  e.created_at = FromMicros(r[9].as<int64_t>());
  e.updated_at = FromMicros(r[10].as<int64_t>());
  return e;
}

Result<Extension> One(const pqxx::result& rows, std::string_view what) {
  if (rows.empty()) return Status::NotFound("extension " + std::string(what) + " not found");
  return FromRow(rows[0]);
}

// The realm of the extension's credentials, carried by its events.
std::string DomainOf(pqxx::transaction_base& w, const TenantId& tenant) {
  auto rows = w.exec_params("SELECT sip_domain FROM admin.tenants WHERE tenant_id = $1::uuid",
                            tenant.str());
  return rows.empty() ? std::string() : rows[0][0].as<std::string>();
}

}  // namespace

Status PgExtensionRepository::Create(const Extension& e, const AuditEntry& audit) {
  return internal::TransactStatus(pool_, [&](pqxx::transaction_base& w) {
    // The tenant row lock serialises creates within a tenant, so the limit check cannot be
    // overtaken by a concurrent insert; the unique constraints decide between duplicates.
    auto tenant = w.exec_params(
        "SELECT max_extensions, sip_domain FROM admin.tenants WHERE tenant_id = $1::uuid"
        " FOR NO KEY UPDATE",
        e.tenant_id.str());
    if (tenant.empty()) return Status::NotFound("tenant " + e.tenant_id.str() + " not found");
    auto count = w.exec_params("SELECT count(*) FROM admin.extensions WHERE tenant_id = $1::uuid",
                               e.tenant_id.str());
    const int64_t max = tenant[0][0].as<int64_t>();
    if (count[0][0].as<int64_t>() >= max) {
      return Status::FailedPrecondition("the tenant has reached its limit of " +
                                        std::to_string(max) + " extensions");
    }
    w.exec_params(
        "INSERT INTO admin.extensions (extension_id, tenant_id, number, display_name,"
        " sip_username, ha1_md5, ha1_sha256, caller_id, enabled, created_at, updated_at)"
        " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9,"
        " to_timestamp($10::float8 / 1e6), to_timestamp($11::float8 / 1e6))",
        e.id.str(), e.tenant_id.str(), e.number, e.display_name, e.sip_username, e.ha1_md5,
        e.ha1_sha256, e.caller_id, e.enabled, ToMicros(e.created_at), ToMicros(e.updated_at));
    if (events_)
      SB_RETURN_IF_ERROR(internal::WriteOutbox(
          w, events_->Extension(Change::kCreated, e, tenant[0][1].as<std::string>())));
    WriteAudit(w, audit, "extension");
    return Status::Ok();
  });
}

Result<Extension> PgExtensionRepository::GetWhere(const TenantId& tenant, const std::string& column,
                                                  std::string_view value) {
  return internal::Transact<Extension>(pool_, [&](pqxx::transaction_base& w) {
    return One(w.exec_params(std::string("SELECT ") + kColumns +
                                 " FROM admin.extensions WHERE tenant_id = $1::uuid AND " + column +
                                 " = $2",
                             tenant.str(), std::string(value)),
               value);
  });
}

Result<Extension> PgExtensionRepository::Get(const TenantId& tenant, const ExtensionId& id) {
  return GetWhere(tenant, "extension_id::text", id.str());
}

Result<Extension> PgExtensionRepository::GetByNumber(const TenantId& tenant,
                                                     std::string_view number) {
  return GetWhere(tenant, "number", number);
}

Result<Extension> PgExtensionRepository::GetByUsername(const TenantId& tenant,
                                                       std::string_view user) {
  return GetWhere(tenant, "sip_username", user);
}

Result<Page<Extension>> PgExtensionRepository::List(const TenantId& tenant,
                                                    const ExtensionFilter& filter,
                                                    const PageQuery& page) {
  return internal::Transact<Page<Extension>>(
      pool_, [&](pqxx::transaction_base& w) -> Result<Page<Extension>> {
        auto rows =
            w.exec_params(std::string("SELECT ") + kColumns +
                              " FROM admin.extensions WHERE tenant_id = $1::uuid AND number LIKE $2"
                              " AND ($3::boolean IS NULL OR enabled = $3) AND ($4::uuid IS NULL OR"
                              " extension_id > $4::uuid) ORDER BY extension_id LIMIT $5",
                          tenant.str(), internal::LikePrefix(filter.number_prefix), filter.enabled,
                          OptionalText(page.after), page.size + 1);
        return MakePage<Extension>(rows, page.size, FromRow);
      });
}

Result<Extension> PgExtensionRepository::Update(const TenantId& tenant, const ExtensionId& id,
                                                const std::function<Status(Extension&)>& change,
                                                const AuditEntry& audit) {
  return internal::Transact<Extension>(pool_, [&](pqxx::transaction_base& w) -> Result<Extension> {
    auto current = One(w.exec_params(std::string("SELECT ") + kColumns +
                                         " FROM admin.extensions WHERE tenant_id = $1::uuid"
                                         " AND extension_id = $2::uuid FOR UPDATE",
                                     tenant.str(), id.str()),
                       id.str());
    if (!current.ok()) return current.status();
    Extension e = *current;
    SB_RETURN_IF_ERROR(change(e));
    w.exec_params(
        "UPDATE admin.extensions SET display_name = $3, ha1_md5 = $4, ha1_sha256 = $5,"
        " caller_id = $6, enabled = $7, updated_at = to_timestamp($8::float8 / 1e6)"
        " WHERE tenant_id = $1::uuid AND extension_id = $2::uuid",
        tenant.str(), id.str(), e.display_name, e.ha1_md5, e.ha1_sha256, e.caller_id, e.enabled,
        ToMicros(e.updated_at));
    if (events_)
      SB_RETURN_IF_ERROR(
          internal::WriteOutbox(w, events_->Extension(Change::kUpdated, e, DomainOf(w, tenant))));
    WriteAudit(w, audit, "extension");
    return e;
  });
}

Result<Extension> PgExtensionRepository::Delete(const TenantId& tenant, const ExtensionId& id,
                                                const AuditEntry& audit) {
  return internal::Transact<Extension>(pool_, [&](pqxx::transaction_base& w) -> Result<Extension> {
    auto e = One(w.exec_params(std::string("DELETE FROM admin.extensions WHERE tenant_id ="
                                           " $1::uuid AND extension_id = $2::uuid RETURNING ") +
                                   kColumns,
                               tenant.str(), id.str()),
                 id.str());
    if (!e.ok()) return e.status();
    if (events_)
      SB_RETURN_IF_ERROR(
          internal::WriteOutbox(w, events_->Extension(Change::kDeleted, *e, DomainOf(w, tenant))));
    WriteAudit(w, audit, "extension");
    return e;
  });
}

}  // namespace sb::admin
