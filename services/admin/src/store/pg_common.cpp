#include "store/pg_common.h"

namespace sb::admin::internal {

void WriteAudit(pqxx::work& w, const AuditEntry& audit, std::string_view resource_type) {
  std::optional<std::string> tenant;
  if (audit.tenant) tenant = audit.tenant->str();
  w.exec_params(
      "INSERT INTO admin.audit_log (tenant_id, actor_key_id, action, resource_type, resource_id,"
      " details, at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, clock_timestamp())",
      tenant, OptionalText(audit.actor_key_id), audit.action, std::string(resource_type),
      audit.resource_id, audit.details_json);
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
