#include "store/pg_common.h"

#include <map>

#include "store/pg_repositories.h"
#include "switchboard/core/hex.h"
#include "switchboard/pg/migrations.h"

namespace sb::admin {

int64_t ToMicros(WallTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

WallTime FromMicros(int64_t micros) {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(micros)));
}

Status ApplyAdminMigrations(pg::Pool& pool, const std::string& dir) {
  auto applied = pg::ApplyMigrations(pool, {.schema = kAdminSchema, .dir = dir});
  return applied.ok() ? Status::Ok() : applied.status();
}

}  // namespace sb::admin

namespace sb::admin::internal {
namespace {

// Constraint name -> what a person reads in ALREADY_EXISTS.
const std::map<std::string, std::string>& ConstraintMessages() {
  static const std::map<std::string, std::string> kMessages = {
      {"tenants_slug_key", "a tenant with this slug already exists"},
      {"tenants_sip_domain_key", "a tenant with this SIP domain already exists"},
      {"extensions_number_key", "an extension with this number already exists in the tenant"},
      {"extensions_sip_username_key",
       "an extension with this SIP username already exists in the tenant"},
      {"numbers_e164_key", "this number is already assigned"},
      {"trunks_name_key", "a trunk with this name already exists in the tenant"},
      {"trunk_sources_no_overlap", "an inbound source overlaps another trunk's inbound sources"},
      {"trunk_sources_pkey", "an inbound source is listed twice"},
  };
  return kMessages;
}

std::string ConstraintOf(const std::string& what) {
  // libpq's message: ... violates unique constraint "name" ... (libpqxx 6.4 does not expose the
  // constraint field, so it is read from the first double-quoted word after "constraint").
  auto pos = what.find("constraint \"");
  if (pos == std::string::npos) return {};
  pos += 12;
  auto end = what.find('"', pos);
  return end == std::string::npos ? std::string() : what.substr(pos, end - pos);
}

}  // namespace

std::optional<Status> ConstraintViolation(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  if (state != "23505" && state != "23P01") return std::nullopt;
  const auto& messages = ConstraintMessages();
  auto it = messages.find(ConstraintOf(e.what()));
  return Status::AlreadyExists(it != messages.end() ? it->second : "already exists");
}

Status TransactStatus(pg::Pool& pool, const std::function<Status(pqxx::transaction_base&)>& fn) {
  return pg::RunInTransaction(pool, [&](pqxx::transaction_base& w) -> Status {
    try {
      return fn(w);
    } catch (const pqxx::sql_error& e) {
      if (auto s = ConstraintViolation(e)) return *s;
      throw;
    }
  });
}

void WriteAudit(pqxx::transaction_base& w, const AuditEntry& audit,
                std::string_view resource_type) {
  std::optional<std::string> tenant;
  if (audit.tenant) tenant = audit.tenant->str();
  w.exec_params(
      "INSERT INTO admin.audit_log (tenant_id, actor_key_id, action, resource_type, resource_id,"
      " details, at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, clock_timestamp())",
      tenant, OptionalText(audit.actor_key_id), audit.action, std::string(resource_type),
      audit.resource_id, audit.details_json);
}

Status WriteOutbox(pqxx::transaction_base& w, const Result<OutboxEvent>& event) {
  if (!event.ok()) return event.status();
  w.exec_params(
      "INSERT INTO admin.outbox (event_id, subject, payload) VALUES ($1::uuid, $2,"
      " decode($3, 'hex'))",
      event->event_id, event->subject,
      core::ToHex(
          {reinterpret_cast<const unsigned char*>(event->payload.data()), event->payload.size()}));
  return Status::Ok();
}

std::string LikePrefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

std::optional<std::string> OptionalText(std::string_view text) {
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

}  // namespace sb::admin::internal
