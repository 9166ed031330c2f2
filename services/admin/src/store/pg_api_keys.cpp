#include "store/pg_common.h"
#include "store/pg_repositories.h"

namespace sb::admin {
namespace {

using internal::MakePage;
using internal::OptionalText;
using internal::WriteAudit;

constexpr const char* kColumns =
    "key_id::text, tenant_id::text, name, prefix, secret_hash,"
    " (extract(epoch from created_at) * 1000000)::bigint,"
    " (extract(epoch from revoked_at) * 1000000)::bigint";

ApiKey FromRow(const pqxx::row& r) {
  ApiKey k;
  k.id = ApiKeyId(r[0].as<std::string>());
  if (!r[1].is_null()) k.tenant_id = TenantId(r[1].as<std::string>());
  k.name = r[2].as<std::string>();
  k.prefix = r[3].as<std::string>();
  k.secret_hash = r[4].as<std::string>();
  k.created_at = FromMicros(r[5].as<int64_t>());
  if (!r[6].is_null()) {
    k.revoked = true;
    k.revoked_at = FromMicros(r[6].as<int64_t>());
  }
  return k;
}

std::optional<std::string> TenantText(const std::optional<TenantId>& t) {
  if (!t) return std::nullopt;
  return t->str();
}

}  // namespace

Status PgApiKeyRepository::Create(const ApiKey& key, const AuditEntry& audit) {
  return internal::TransactStatus(pool_, [&](pqxx::transaction_base& w) {
    auto rows = w.exec_params(
        "INSERT INTO admin.api_keys (key_id, tenant_id, name, prefix, secret_hash, created_at)"
        " SELECT $1::uuid, $2::uuid, $3, $4, $5, to_timestamp($6::float8 / 1e6)"
        " WHERE $2::uuid IS NULL OR EXISTS"
        " (SELECT 1 FROM admin.tenants WHERE tenant_id = $2::uuid) RETURNING 1",
        key.id.str(), TenantText(key.tenant_id), key.name, key.prefix, key.secret_hash,
        ToMicros(key.created_at));
    if (rows.empty()) return Status::NotFound("tenant " + key.tenant_id->str() + " not found");
    WriteAudit(w, audit, "api_key");
    return Status::Ok();
  });
}

Result<ApiKey> PgApiKeyRepository::FindActiveByHash(std::string_view secret_hash) {
  return internal::Transact<ApiKey>(pool_, [&](pqxx::transaction_base& w) -> Result<ApiKey> {
    auto rows = w.exec_params(std::string("SELECT ") + kColumns +
                                  " FROM admin.api_keys WHERE secret_hash = $1"
                                  " AND revoked_at IS NULL",
                              std::string(secret_hash));
    if (rows.empty()) return Status::NotFound("no such API key");
    return FromRow(rows[0]);
  });
}

Result<Page<ApiKey>> PgApiKeyRepository::List(const std::optional<TenantId>& tenant,
                                              bool include_revoked, const PageQuery& page) {
  return internal::Transact<Page<ApiKey>>(
      pool_, [&](pqxx::transaction_base& w) -> Result<Page<ApiKey>> {
        auto rows = w.exec_params(
            std::string("SELECT ") + kColumns +
                " FROM admin.api_keys WHERE tenant_id IS NOT DISTINCT FROM $1::uuid"
                " AND ($2 OR revoked_at IS NULL) AND ($3::uuid IS NULL OR key_id > $3::uuid)"
                " ORDER BY key_id LIMIT $4",
            TenantText(tenant), include_revoked, OptionalText(page.after), page.size + 1);
        return MakePage<ApiKey>(rows, page.size, FromRow);
      });
}

Result<ApiKey> PgApiKeyRepository::Revoke(const std::optional<TenantId>& tenant, const ApiKeyId& id,
                                          WallTime at, const AuditEntry& audit) {
  return internal::Transact<ApiKey>(pool_, [&](pqxx::transaction_base& w) -> Result<ApiKey> {
    auto rows =
        w.exec_params(std::string("UPDATE admin.api_keys SET revoked_at = coalesce(revoked_at,"
                                  " to_timestamp($3::float8 / 1e6)) WHERE key_id = $1::uuid"
                                  " AND tenant_id IS NOT DISTINCT FROM $2::uuid RETURNING ") +
                          kColumns,
                      id.str(), TenantText(tenant), ToMicros(at));
    if (rows.empty()) return Status::NotFound("API key " + id.str() + " not found");
    WriteAudit(w, audit, "api_key");
    return FromRow(rows[0]);
  });
}

Result<bool> PgApiKeyRepository::HasActivePlatformKey() {
  return internal::Transact<bool>(pool_, [&](pqxx::transaction_base& w) -> Result<bool> {
    return !w.exec(
                 "SELECT 1 FROM admin.api_keys WHERE tenant_id IS NULL AND revoked_at IS NULL"
                 " LIMIT 1")
                .empty();
  });
}

}  // namespace sb::admin
