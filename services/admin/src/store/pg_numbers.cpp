#include "store/pg_common.h"
#include "store/pg_repositories.h"

namespace sb::admin {
namespace {

using internal::MakePage;
using internal::OptionalText;
using internal::WriteAudit;

constexpr const char* kColumns =
    "number_id::text, tenant_id::text, e164, target,"
    " (extract(epoch from created_at) * 1000000)::bigint,"
    " (extract(epoch from updated_at) * 1000000)::bigint";

PhoneNumber FromRow(const pqxx::row& r) {
  PhoneNumber n;
  n.id = NumberId(r[0].as<std::string>());
  n.tenant_id = TenantId(r[1].as<std::string>());
  n.e164 = r[2].as<std::string>();
  n.target = r[3].as<std::string>();
  n.created_at = FromMicros(r[4].as<int64_t>());
  n.updated_at = FromMicros(r[5].as<int64_t>());
  return n;
}

Result<PhoneNumber> One(const pqxx::result& rows, std::string_view what) {
  if (rows.empty()) return Status::NotFound("number " + std::string(what) + " not found");
  return FromRow(rows[0]);
}

}  // namespace

Status PgNumberRepository::Create(const PhoneNumber& n, const AuditEntry& audit) {
  return internal::TransactStatus(pool_, [&](pqxx::transaction_base& w) {
    auto rows = w.exec_params(
        "INSERT INTO admin.numbers (number_id, tenant_id, e164, target, created_at, updated_at)"
        " SELECT $1::uuid, $2::uuid, $3, $4, to_timestamp($5::float8 / 1e6),"
        " to_timestamp($6::float8 / 1e6)"
        " WHERE EXISTS (SELECT 1 FROM admin.tenants WHERE tenant_id = $2::uuid) RETURNING 1",
        n.id.str(), n.tenant_id.str(), n.e164, n.target, ToMicros(n.created_at),
        ToMicros(n.updated_at));
    if (rows.empty()) return Status::NotFound("tenant " + n.tenant_id.str() + " not found");
    if (events_) SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Number(Change::kCreated, n)));
    WriteAudit(w, audit, "number");
    return Status::Ok();
  });
}

Result<PhoneNumber> PgNumberRepository::Get(const TenantId& tenant, const NumberId& id) {
  return internal::Transact<PhoneNumber>(pool_, [&](pqxx::transaction_base& w) {
    return One(w.exec_params(std::string("SELECT ") + kColumns +
                                 " FROM admin.numbers WHERE tenant_id = $1::uuid"
                                 " AND number_id = $2::uuid",
                             tenant.str(), id.str()),
               id.str());
  });
}

Result<PhoneNumber> PgNumberRepository::FindByE164(std::string_view e164) {
  return internal::Transact<PhoneNumber>(pool_, [&](pqxx::transaction_base& w) {
    return One(
        w.exec_params(std::string("SELECT ") + kColumns + " FROM admin.numbers WHERE e164 = $1",
                      std::string(e164)),
        e164);
  });
}

Result<Page<PhoneNumber>> PgNumberRepository::List(const TenantId& tenant,
                                                   std::string_view e164_prefix,
                                                   const PageQuery& page) {
  return internal::Transact<Page<PhoneNumber>>(
      pool_, [&](pqxx::transaction_base& w) -> Result<Page<PhoneNumber>> {
        auto rows = w.exec_params(std::string("SELECT ") + kColumns +
                                      " FROM admin.numbers WHERE tenant_id = $1::uuid AND e164 LIKE"
                                      " $2 AND ($3::uuid IS NULL OR number_id > $3::uuid)"
                                      " ORDER BY number_id LIMIT $4",
                                  tenant.str(), internal::LikePrefix(e164_prefix),
                                  OptionalText(page.after), page.size + 1);
        return MakePage<PhoneNumber>(rows, page.size, FromRow);
      });
}

Result<PhoneNumber> PgNumberRepository::Update(const TenantId& tenant, const NumberId& id,
                                               const std::function<Status(PhoneNumber&)>& change,
                                               const AuditEntry& audit) {
  return internal::Transact<PhoneNumber>(
      pool_, [&](pqxx::transaction_base& w) -> Result<PhoneNumber> {
        auto current = One(w.exec_params(std::string("SELECT ") + kColumns +
                                             " FROM admin.numbers WHERE tenant_id = $1::uuid"
                                             " AND number_id = $2::uuid FOR UPDATE",
                                         tenant.str(), id.str()),
                           id.str());
        if (!current.ok()) return current.status();
        PhoneNumber n = *current;
        SB_RETURN_IF_ERROR(change(n));
        w.exec_params(
            "UPDATE admin.numbers SET target = $3, updated_at = to_timestamp($4::float8 / 1e6)"
            " WHERE tenant_id = $1::uuid AND number_id = $2::uuid",
            tenant.str(), id.str(), n.target, ToMicros(n.updated_at));
        if (events_)
          SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Number(Change::kUpdated, n)));
        WriteAudit(w, audit, "number");
        return n;
      });
}

Result<PhoneNumber> PgNumberRepository::Delete(const TenantId& tenant, const NumberId& id,
                                               const AuditEntry& audit) {
  return internal::Transact<PhoneNumber>(
      pool_, [&](pqxx::transaction_base& w) -> Result<PhoneNumber> {
        auto n =
            One(w.exec_params(std::string("DELETE FROM admin.numbers WHERE tenant_id = $1::uuid"
                                          " AND number_id = $2::uuid RETURNING ") +
                                  kColumns,
                              tenant.str(), id.str()),
                id.str());
        if (!n.ok()) return n.status();
        if (events_)
          SB_RETURN_IF_ERROR(internal::WriteOutbox(w, events_->Number(Change::kDeleted, *n)));
        WriteAudit(w, audit, "number");
        return n;
      });
}

}  // namespace sb::admin
