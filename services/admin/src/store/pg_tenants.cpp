#include "store/pg_common.h"
#include "store/pg_repositories.h"

namespace sb::admin {
namespace {

using internal::MakePage;
using internal::OptionalText;
using internal::WriteAudit;

constexpr const char* kColumns =
    "tenant_id::text, slug, name, sip_domain, status, suspend_reason, max_extensions,"
    " max_concurrent_calls, (extract(epoch from created_at) * 1000000)::bigint,"
    " (extract(epoch from updated_at) * 1000000)::bigint";

std::string StatusText(TenantStatus s) {
  return s == TenantStatus::kSuspended ? "suspended" : "active";
}

Tenant FromRow(const pqxx::row& r) {
  Tenant t;
  t.id = TenantId(r[0].as<std::string>());
  t.slug = r[1].as<std::string>();
  t.name = r[2].as<std::string>();
  t.sip_domain = r[3].as<std::string>();
  t.status =
      r[4].as<std::string>() == "suspended" ? TenantStatus::kSuspended : TenantStatus::kActive;
  t.suspend_reason = r[5].as<std::string>();
  t.max_extensions = r[6].as<int32_t>();
  t.max_concurrent_calls = r[7].as<int32_t>();
  t.created_at = FromMicros(r[8].as<int64_t>());
  t.updated_at = FromMicros(r[9].as<int64_t>());
  return t;
}

Result<Tenant> One(const pqxx::result& rows, std::string_view what) {
  if (rows.empty()) return Status::NotFound("tenant " + std::string(what) + " not found");
  return FromRow(rows[0]);
}

}  // namespace

Status PgTenantRepository::Create(const Tenant& t, const ApiKey& key, const AuditEntry& audit) {
  return internal::TransactStatus(pool_, [&](pqxx::transaction_base& w) {
    w.exec_params(
        "INSERT INTO admin.tenants (tenant_id, slug, name, sip_domain, status, suspend_reason,"
        " max_extensions, max_concurrent_calls, created_at, updated_at)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::float8 / 1e6),"
        " to_timestamp($10::float8 / 1e6))",
        t.id.str(), t.slug, t.name, t.sip_domain, StatusText(t.status), t.suspend_reason,
        t.max_extensions, t.max_concurrent_calls, ToMicros(t.created_at), ToMicros(t.updated_at));
    w.exec_params(
        "INSERT INTO admin.api_keys (key_id, tenant_id, name, prefix, secret_hash, created_at)"
        " VALUES ($1::uuid, $2::uuid, $3, $4, $5, to_timestamp($6::float8 / 1e6))",
        key.id.str(), t.id.str(), key.name, key.prefix, key.secret_hash, ToMicros(key.created_at));
    if (events_) SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Tenant(Change::kCreated, t)));
    WriteAudit(w, audit, "tenant");
    return Status::Ok();
  });
}

Result<Tenant> PgTenantRepository::Get(const TenantId& id) {
  return internal::Transact<Tenant>(pool_, [&](pqxx::transaction_base& w) {
    return One(w.exec_params(std::string("SELECT ") + kColumns +
                                 " FROM admin.tenants WHERE tenant_id = $1::uuid",
                             id.str()),
               id.str());
  });
}

Result<Tenant> PgTenantRepository::GetByDomain(std::string_view sip_domain) {
  return internal::Transact<Tenant>(pool_, [&](pqxx::transaction_base& w) {
    return One(w.exec_params(std::string("SELECT ") + kColumns +
                                 " FROM admin.tenants WHERE sip_domain = lower($1)",
                             std::string(sip_domain)),
               "with domain " + std::string(sip_domain));
  });
}

Result<Page<Tenant>> PgTenantRepository::List(const TenantFilter& filter, const PageQuery& page) {
  return internal::Transact<Page<Tenant>>(
      pool_, [&](pqxx::transaction_base& w) -> Result<Page<Tenant>> {
        std::optional<std::string> status;
        if (filter.status) status = StatusText(*filter.status);
        auto rows =
            w.exec_params(std::string("SELECT ") + kColumns +
                              " FROM admin.tenants WHERE ($1::text IS NULL OR status = $1)"
                              " AND slug LIKE $2 AND ($3::uuid IS NULL OR tenant_id > $3::uuid)"
                              " ORDER BY tenant_id LIMIT $4",
                          status, internal::LikePrefix(filter.slug_prefix),
                          OptionalText(page.after), page.size + 1);
        return MakePage<Tenant>(rows, page.size, FromRow);
      });
}

Result<Tenant> PgTenantRepository::Update(const TenantId& id,
                                          const std::function<Status(Tenant&)>& change,
                                          const AuditEntry& audit) {
  return internal::Transact<Tenant>(pool_, [&](pqxx::transaction_base& w) -> Result<Tenant> {
    auto current = One(w.exec_params(std::string("SELECT ") + kColumns +
                                         " FROM admin.tenants WHERE tenant_id = $1::uuid"
                                         " FOR UPDATE",
                                     id.str()),
                       id.str());
    if (!current.ok()) return current.status();
    Tenant t = *current;
    SB_RETURN_IF_ERROR(change(t));
    w.exec_params(
        "UPDATE admin.tenants SET name = $2, status = $3, suspend_reason = $4,"
        " max_extensions = $5, max_concurrent_calls = $6,"
        " updated_at = to_timestamp($7::float8 / 1e6) WHERE tenant_id = $1::uuid",
        id.str(), t.name, StatusText(t.status), t.suspend_reason, t.max_extensions,
        t.max_concurrent_calls, ToMicros(t.updated_at));
    if (events_) SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Tenant(Change::kUpdated, t)));
    WriteAudit(w, audit, "tenant");
    return t;
  });
}

Result<Tenant> PgTenantRepository::Delete(const TenantId& id, const AuditEntry& audit) {
  return internal::Transact<Tenant>(pool_, [&](pqxx::transaction_base& w) -> Result<Tenant> {
    // Trunk sources carry tenant_id without a foreign key to tenants; they go with their trunks.
    auto rows = w.exec_params(std::string("DELETE FROM admin.tenants WHERE tenant_id = $1::uuid"
                                          " RETURNING ") +
                                  kColumns,
                              id.str());
    auto t = One(rows, id.str());
    if (!t.ok()) return t.status();
    if (events_)
      SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Tenant(Change::kDeleted, *t)));
    WriteAudit(w, audit, "tenant");
    return t;
  });
}

}  // namespace sb::admin
