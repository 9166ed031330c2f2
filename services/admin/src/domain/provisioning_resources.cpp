// Provisioning: extensions, numbers and trunks of a tenant.
#include <nlohmann/json.hpp>

#include "domain/provisioning.h"
#include "domain/validation.h"
#include "switchboard/sip/digest.h"

namespace sb::admin {
namespace {

std::string Indexed(std::string_view field, size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

Status ValidateCallerId(std::string_view caller_id, std::string_view field) {
  return caller_id.empty() ? Status::Ok() : ValidateE164(caller_id, field);
}

}  // namespace

Status ValidateExtensionFields(const Extension& ext) {
  SB_RETURN_IF_ERROR(ValidateExtensionNumber(ext.number, "number"));
  SB_RETURN_IF_ERROR(ValidateCanonicalSipUser(ext.sip_username, "sip_username"));
  SB_RETURN_IF_ERROR(ValidateDisplayText(ext.display_name, "display_name", 64, true));
  return ValidateCallerId(ext.caller_id, "caller_id");
}

Status ValidateTrunk(const Trunk& t) {
  SB_RETURN_IF_ERROR(ValidateName(t.name, "name"));
  SB_RETURN_IF_ERROR(ValidateHost(t.host, "host"));
  // 0: located by DNS SRV (RFC 3263), as signaling does.
  if (t.port != 0) SB_RETURN_IF_ERROR(ValidatePort(t.port, "port"));
  if (!t.username.empty()) SB_RETURN_IF_ERROR(ValidateSipUser(t.username, "username"));
  if (!t.password.empty() && t.username.empty()) {
    return Status::InvalidArgument("username is required with a password", "username");
  }
  if (!t.password.empty()) SB_RETURN_IF_ERROR(ValidatePassword(t.password, "password"));
  if (t.inbound_sources.size() > 32) {
    return Status::InvalidArgument("inbound_sources may list at most 32 ranges", "inbound_sources");
  }
  for (size_t i = 0; i < t.inbound_sources.size(); ++i) {
    auto canonical = CanonicalCidr(t.inbound_sources[i], Indexed("inbound_sources", i));
    if (!canonical.ok()) return canonical.status();
  }
  if (t.prefix_rules.size() > 32) {
    return Status::InvalidArgument("prefix_rules may list at most 32 rules", "prefix_rules");
  }
  for (size_t i = 0; i < t.prefix_rules.size(); ++i) {
    SB_RETURN_IF_ERROR(ValidatePrefixRule(t.prefix_rules[i], Indexed("prefix_rules", i)));
  }
  if (t.caller_id_policy == CallerIdPolicy::kFixed) {
    SB_RETURN_IF_ERROR(ValidateE164(t.fixed_caller_id, "fixed_caller_id"));
  } else if (!t.fixed_caller_id.empty()) {
    return Status::InvalidArgument("fixed_caller_id is only used with the FIXED caller id policy",
                                   "fixed_caller_id");
  }
  return Status::Ok();
}

// --- extensions ---

Result<Extension> Provisioning::CreateExtension(const Principal& p, const ExtensionInput& in) {
  auto tenant_id = ResolveTenant(p, in.tenant_id);
  if (!tenant_id.ok()) return tenant_id.status();
  Extension e;
  e.tenant_id = *tenant_id;
  e.number = in.number;
  e.display_name = in.display_name;
  e.sip_username = in.sip_username.empty() ? in.number : in.sip_username;
  e.caller_id = in.caller_id;
  e.enabled = in.enabled.value_or(true);
  SB_RETURN_IF_ERROR(ValidateExtensionFields(e));
  SB_RETURN_IF_ERROR(ValidatePassword(in.password, "password"));
  auto tenant = deps_.tenants.Get(e.tenant_id);
  if (!tenant.ok()) return tenant.status();
  e.ha1_md5 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, e.sip_username,
                                  tenant->sip_domain, in.password);
  e.ha1_sha256 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, e.sip_username,
                                     tenant->sip_domain, in.password);
  e.id = ExtensionId(deps_.ids.Next());
  e.created_at = e.updated_at = deps_.clock.WallNow();
  AuditEntry audit = Audit(p, e.tenant_id, "extension.create", e.id.str());
  audit.details_json =
      nlohmann::json{{"number", e.number}, {"sip_username", e.sip_username}}.dump();
  SB_RETURN_IF_ERROR(deps_.extensions.Create(e, audit));
  deps_.sink.ExtensionChanged(Change::kCreated, e, tenant->sip_domain);
  return e;
}

Result<Extension> Provisioning::GetExtension(const Principal& p, std::string_view tenant_id,
                                             std::string_view id) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  return deps_.extensions.Get(*tenant, ExtensionId(std::string(id)));
}

Result<Page<Extension>> Provisioning::ListExtensions(const Principal& p, std::string_view tenant_id,
                                                     const ExtensionFilter& filter,
                                                     const PageQuery& page) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  return deps_.extensions.List(*tenant, filter, page);
}

Result<Extension> Provisioning::UpdateExtension(const Principal& p, std::string_view tenant_id,
                                                std::string_view id, const ExtensionChanges& in) {
  auto tenant_id_r = ResolveTenant(p, tenant_id);
  if (!tenant_id_r.ok()) return tenant_id_r.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  if (in.password) SB_RETURN_IF_ERROR(ValidatePassword(*in.password, "password"));
  auto tenant = deps_.tenants.Get(*tenant_id_r);
  if (!tenant.ok()) return tenant.status();
  ExtensionId ext_id{std::string(id)};
  auto updated = deps_.extensions.Update(
      *tenant_id_r, ext_id,
      [&](Extension& e) {
        if (in.display_name) e.display_name = *in.display_name;
        if (in.caller_id) e.caller_id = *in.caller_id;
        if (in.enabled) e.enabled = *in.enabled;
        if (in.password) {
          e.ha1_md5 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, e.sip_username,
                                          tenant->sip_domain, *in.password);
          e.ha1_sha256 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, e.sip_username,
                                             tenant->sip_domain, *in.password);
        }
        SB_RETURN_IF_ERROR(ValidateExtensionFields(e));
        e.updated_at = deps_.clock.WallNow();
        return Status::Ok();
      },
      Audit(p, *tenant_id_r, "extension.update", ext_id.str()));
  if (updated.ok()) deps_.sink.ExtensionChanged(Change::kUpdated, *updated, tenant->sip_domain);
  return updated;
}

Status Provisioning::DeleteExtension(const Principal& p, std::string_view tenant_id,
                                     std::string_view id) {
  auto tenant_id_r = ResolveTenant(p, tenant_id);
  if (!tenant_id_r.ok()) return tenant_id_r.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  auto tenant = deps_.tenants.Get(*tenant_id_r);
  if (!tenant.ok()) return tenant.status();
  auto deleted =
      deps_.extensions.Delete(*tenant_id_r, ExtensionId(std::string(id)),
                              Audit(p, *tenant_id_r, "extension.delete", std::string(id)));
  if (!deleted.ok()) return deleted.status();
  deps_.sink.ExtensionChanged(Change::kDeleted, *deleted, tenant->sip_domain);
  return Status::Ok();
}

// --- numbers ---

Status Provisioning::CheckTarget(const TenantId& tenant, const std::string& target) {
  SB_RETURN_IF_ERROR(ValidateTarget(target, "target"));
  if (target.empty()) return Status::Ok();
  auto ext = deps_.extensions.GetByNumber(tenant, target.substr(4));
  if (ext.status().code() == StatusCode::kNotFound) {
    return Status::FailedPrecondition("target " + target + ": the tenant has no such extension");
  }
  return ext.status();
}

Result<PhoneNumber> Provisioning::AddNumber(const Principal& p, const NumberInput& in) {
  auto tenant = ResolveTenant(p, in.tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateE164(in.e164, "e164"));
  SB_RETURN_IF_ERROR(CheckTarget(*tenant, in.target));
  PhoneNumber n;
  n.id = NumberId(deps_.ids.Next());
  n.tenant_id = *tenant;
  n.e164 = in.e164;
  n.target = in.target;
  n.created_at = n.updated_at = deps_.clock.WallNow();
  AuditEntry audit = Audit(p, n.tenant_id, "number.add", n.id.str());
  audit.details_json = nlohmann::json{{"e164", n.e164}, {"target", n.target}}.dump();
  SB_RETURN_IF_ERROR(deps_.numbers.Create(n, audit));
  deps_.sink.NumberChanged(Change::kCreated, n);
  return n;
}

Result<PhoneNumber> Provisioning::GetNumber(const Principal& p, std::string_view tenant_id,
                                            std::string_view id) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  return deps_.numbers.Get(*tenant, NumberId(std::string(id)));
}

Result<Page<PhoneNumber>> Provisioning::ListNumbers(const Principal& p, std::string_view tenant_id,
                                                    std::string_view e164_prefix,
                                                    const PageQuery& page) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  return deps_.numbers.List(*tenant, e164_prefix, page);
}

Result<PhoneNumber> Provisioning::UpdateNumber(const Principal& p, std::string_view tenant_id,
                                               std::string_view id,
                                               std::optional<std::string> target) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  if (target) SB_RETURN_IF_ERROR(CheckTarget(*tenant, *target));
  auto updated = deps_.numbers.Update(
      *tenant, NumberId(std::string(id)),
      [&](PhoneNumber& n) {
        if (target) n.target = *target;
        n.updated_at = deps_.clock.WallNow();
        return Status::Ok();
      },
      Audit(p, *tenant, "number.update", std::string(id)));
  if (updated.ok()) deps_.sink.NumberChanged(Change::kUpdated, *updated);
  return updated;
}

Status Provisioning::DeleteNumber(const Principal& p, std::string_view tenant_id,
                                  std::string_view id) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  auto deleted = deps_.numbers.Delete(*tenant, NumberId(std::string(id)),
                                      Audit(p, *tenant, "number.delete", std::string(id)));
  if (!deleted.ok()) return deleted.status();
  deps_.sink.NumberChanged(Change::kDeleted, *deleted);
  return Status::Ok();
}

// --- trunks ---

namespace {

void Canonicalise(Trunk& t) {
  for (auto& source : t.inbound_sources) {
    auto canonical = CanonicalCidr(source, "inbound_sources");
    if (canonical.ok()) source = *canonical;
  }
}

}  // namespace

Result<Trunk> Provisioning::CreateTrunk(const Principal& p, const TrunkInput& in) {
  auto tenant = ResolveTenant(p, in.tenant_id);
  if (!tenant.ok()) return tenant.status();
  Trunk t;
  t.tenant_id = *tenant;
  t.name = in.name;
  t.host = in.host;
  t.transport = in.transport;
  t.port = in.port;
  t.username = in.username;
  t.password = in.password;
  t.inbound_sources = in.inbound_sources;
  t.prefix_rules = in.prefix_rules;
  t.caller_id_policy = in.caller_id_policy;
  t.fixed_caller_id = in.fixed_caller_id;
  SB_RETURN_IF_ERROR(ValidateTrunk(t));
  Canonicalise(t);
  t.id = TrunkId(deps_.ids.Next());
  t.created_at = t.updated_at = deps_.clock.WallNow();
  AuditEntry audit = Audit(p, t.tenant_id, "trunk.create", t.id.str());
  audit.details_json = nlohmann::json{{"name", t.name}, {"host", t.host}}.dump();
  SB_RETURN_IF_ERROR(deps_.trunks.Create(t, audit));
  deps_.sink.TrunkChanged(Change::kCreated, t);
  return t;
}

Result<Trunk> Provisioning::GetTrunk(const Principal& p, std::string_view tenant_id,
                                     std::string_view id) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  return deps_.trunks.Get(*tenant, TrunkId(std::string(id)));
}

Result<Page<Trunk>> Provisioning::ListTrunks(const Principal& p, std::string_view tenant_id,
                                             std::string_view name_prefix, const PageQuery& page) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  return deps_.trunks.List(*tenant, name_prefix, page);
}

Result<Trunk> Provisioning::UpdateTrunk(const Principal& p, std::string_view tenant_id,
                                        std::string_view id, const TrunkChanges& in) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  auto updated = deps_.trunks.Update(
      *tenant, TrunkId(std::string(id)),
      [&](Trunk& t) {
        if (in.host) t.host = *in.host;
        if (in.port) t.port = *in.port;
        if (in.transport) t.transport = *in.transport;
        if (in.username) t.username = *in.username;
        if (in.password) t.password = *in.password;
        if (in.inbound_sources) t.inbound_sources = *in.inbound_sources;
        if (in.prefix_rules) t.prefix_rules = *in.prefix_rules;
        if (in.caller_id_policy) t.caller_id_policy = *in.caller_id_policy;
        if (in.fixed_caller_id) t.fixed_caller_id = *in.fixed_caller_id;
        SB_RETURN_IF_ERROR(ValidateTrunk(t));
        Canonicalise(t);
        t.updated_at = deps_.clock.WallNow();
        return Status::Ok();
      },
      Audit(p, *tenant, "trunk.update", std::string(id)));
  if (updated.ok()) deps_.sink.TrunkChanged(Change::kUpdated, *updated);
  return updated;
}

Status Provisioning::DeleteTrunk(const Principal& p, std::string_view tenant_id,
                                 std::string_view id) {
  auto tenant = ResolveTenant(p, tenant_id);
  if (!tenant.ok()) return tenant.status();
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  auto deleted = deps_.trunks.Delete(*tenant, TrunkId(std::string(id)),
                                     Audit(p, *tenant, "trunk.delete", std::string(id)));
  if (!deleted.ok()) return deleted.status();
  deps_.sink.TrunkChanged(Change::kDeleted, *deleted);
  return Status::Ok();
}

}  // namespace sb::admin
