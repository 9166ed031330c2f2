// Provisioning: authentication, tenants and API keys.
#include <nlohmann/json.hpp>

#include "domain/provisioning.h"
#include "domain/validation.h"

namespace sb::admin {
namespace {

Status ValidateLimits(int32_t max_extensions, int32_t max_calls) {
  if (max_extensions < 1 || max_extensions > 100000) {
    return Status::InvalidArgument("max_extensions must be between 1 and 100000", "max_extensions");
  }
  if (max_calls < 1 || max_calls > 100000) {
    return Status::InvalidArgument("max_concurrent_calls must be between 1 and 100000",
                                   "max_concurrent_calls");
  }
  return Status::Ok();
}

}  // namespace

Provisioning::Provisioning(ProvisioningConfig config, ProvisioningDeps deps)
    : config_(std::move(config)), deps_(deps) {}

AuditEntry Provisioning::Audit(const Principal& p, const std::optional<TenantId>& tenant,
                               std::string action, std::string resource_id) const {
  AuditEntry a;
  a.tenant = tenant;
  a.actor_key_id = p.key_id.str();
  a.action = std::move(action);
  a.resource_id = std::move(resource_id);
  return a;
}

IssuedKey Provisioning::NewKey(std::optional<TenantId> tenant, std::string name) {
  NewApiKey generated = GenerateApiKey(deps_.random);
  IssuedKey issued;
  issued.key.id = ApiKeyId(deps_.ids.Next());
  issued.key.tenant_id = std::move(tenant);
  issued.key.name = std::move(name);
  issued.key.prefix = generated.prefix;
  issued.key.secret_hash = generated.hash;
  issued.key.created_at = deps_.clock.WallNow();
  issued.secret = std::move(generated.secret);
  return issued;
}

Result<Principal> Provisioning::Authenticate(std::string_view authorization) {
  auto secret = ParseBearer(authorization);
  if (!secret.ok()) return secret.status();
  auto key = deps_.keys.FindActiveByHash(HashApiKey(*secret));
  if (!key.ok()) {
    if (key.status().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("unknown or revoked API key");
    }
    return key.status();
  }
  return Principal{key->id, key->tenant_id};
}

Status Provisioning::EnsureBootstrapKey(std::string_view secret) {
  if (!LooksLikeApiKey(secret)) {
    return Status::InvalidArgument(
        "SB_ADMIN_BOOTSTRAP_KEY must look like sbk_ followed by 43 base64url characters",
        "SB_ADMIN_BOOTSTRAP_KEY");
  }
  const std::string hash = HashApiKey(secret);
  auto existing = deps_.keys.FindActiveByHash(hash);
  if (existing.ok()) {
    if (existing->tenant_id) {
      return Status::FailedPrecondition("SB_ADMIN_BOOTSTRAP_KEY is a tenant's key");
    }
    return Status::Ok();
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  ApiKey key;
  key.id = ApiKeyId(deps_.ids.Next());
  key.name = "bootstrap";
  key.prefix = std::string(secret.substr(0, 12));
  key.secret_hash = hash;
  key.created_at = deps_.clock.WallNow();
  AuditEntry audit;
  audit.action = "api_key.bootstrap";
  audit.resource_id = key.id.str();
  Status s = deps_.keys.Create(key, audit);
  // Another replica starting at the same moment created it.
  if (s.code() == StatusCode::kAlreadyExists) return Status::Ok();
  return s;
}

Result<Onboarded> Provisioning::CreateTenant(const Principal& p, const TenantInput& in) {
  SB_RETURN_IF_ERROR(RequirePlatform(p, "creating a tenant"));
  SB_RETURN_IF_ERROR(ValidateSlug(in.slug, "slug"));
  Tenant t;
  t.slug = in.slug;
  t.name = in.name.empty() ? in.slug : in.name;
  SB_RETURN_IF_ERROR(ValidateDisplayText(t.name, "name", 128, false));
  t.max_extensions = in.max_extensions == 0 ? config_.default_max_extensions : in.max_extensions;
  t.max_concurrent_calls =
      in.max_concurrent_calls == 0 ? config_.default_max_concurrent_calls : in.max_concurrent_calls;
  SB_RETURN_IF_ERROR(ValidateLimits(t.max_extensions, t.max_concurrent_calls));
  t.sip_domain = TenantSipDomain(t.slug, config_.platform_domain);
  SB_RETURN_IF_ERROR(ValidateDomain(t.sip_domain, "slug"));
  t.id = TenantId(deps_.ids.Next());
  t.created_at = t.updated_at = deps_.clock.WallNow();

  IssuedKey key = NewKey(t.id, "first");
  AuditEntry audit = Audit(p, t.id, "tenant.create", t.id.str());
  audit.details_json = nlohmann::json{{"slug", t.slug}, {"first_key_id", key.key.id.str()}}.dump();
  SB_RETURN_IF_ERROR(deps_.tenants.Create(t, key.key, audit));
  deps_.sink.TenantChanged(Change::kCreated, t);
  return Onboarded{t, std::move(key)};
}

Result<Tenant> Provisioning::GetTenant(const Principal& p, std::string_view id) {
  auto tenant = ResolveTenant(p, id, "id");
  if (!tenant.ok()) return tenant.status();
  return deps_.tenants.Get(*tenant);
}

Result<Page<Tenant>> Provisioning::ListTenants(const Principal& p, const TenantFilter& filter,
                                               const PageQuery& page) {
  SB_RETURN_IF_ERROR(RequirePlatform(p, "listing tenants"));
  return deps_.tenants.List(filter, page);
}

Result<Tenant> Provisioning::UpdateTenant(const Principal& p, std::string_view id,
                                          const TenantChanges& in) {
  auto tenant = ResolveTenant(p, id, "id");
  if (!tenant.ok()) return tenant.status();
  // Limits are what the platform sells; a tenant may only rename itself.
  if (!p.is_platform() && (in.max_extensions || in.max_concurrent_calls)) {
    return Status::PermissionDenied("changing a tenant's limits needs a platform API key");
  }
  auto updated = deps_.tenants.Update(
      *tenant,
      [&](Tenant& t) {
        if (in.name) t.name = *in.name;
        if (in.max_extensions) t.max_extensions = *in.max_extensions;
        if (in.max_concurrent_calls) t.max_concurrent_calls = *in.max_concurrent_calls;
        SB_RETURN_IF_ERROR(ValidateDisplayText(t.name, "name", 128, false));
        SB_RETURN_IF_ERROR(ValidateLimits(t.max_extensions, t.max_concurrent_calls));
        t.updated_at = deps_.clock.WallNow();
        return Status::Ok();
      },
      Audit(p, *tenant, "tenant.update", tenant->str()));
  if (updated.ok()) deps_.sink.TenantChanged(Change::kUpdated, *updated);
  return updated;
}

Result<Tenant> Provisioning::SuspendTenant(const Principal& p, std::string_view id,
                                           std::string_view reason) {
  SB_RETURN_IF_ERROR(RequirePlatform(p, "suspending a tenant"));
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  SB_RETURN_IF_ERROR(ValidateDisplayText(reason, "reason", 256, true));
  TenantId tenant{std::string(id)};
  auto updated = deps_.tenants.Update(
      tenant,
      [&](Tenant& t) {
        t.status = TenantStatus::kSuspended;
        t.suspend_reason = std::string(reason);
        t.updated_at = deps_.clock.WallNow();
        return Status::Ok();
      },
      Audit(p, tenant, "tenant.suspend", tenant.str()));
  if (updated.ok()) deps_.sink.TenantChanged(Change::kUpdated, *updated);
  return updated;
}

Result<Tenant> Provisioning::ResumeTenant(const Principal& p, std::string_view id) {
  SB_RETURN_IF_ERROR(RequirePlatform(p, "resuming a tenant"));
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  TenantId tenant{std::string(id)};
  auto updated = deps_.tenants.Update(
      tenant,
      [&](Tenant& t) {
        t.status = TenantStatus::kActive;
        t.suspend_reason.clear();
        t.updated_at = deps_.clock.WallNow();
        return Status::Ok();
      },
      Audit(p, tenant, "tenant.resume", tenant.str()));
  if (updated.ok()) deps_.sink.TenantChanged(Change::kUpdated, *updated);
  return updated;
}

Status Provisioning::DeleteTenant(const Principal& p, std::string_view id) {
  SB_RETURN_IF_ERROR(RequirePlatform(p, "deleting a tenant"));
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  TenantId tenant{std::string(id)};
  auto deleted = deps_.tenants.Delete(tenant, Audit(p, tenant, "tenant.delete", tenant.str()));
  if (!deleted.ok()) return deleted.status();
  deps_.sink.TenantChanged(Change::kDeleted, *deleted);
  return Status::Ok();
}

Result<IssuedKey> Provisioning::CreateApiKey(const Principal& p, std::string_view tenant_id,
                                             std::string_view name) {
  std::optional<TenantId> tenant;
  if (!(p.is_platform() && tenant_id.empty())) {
    auto resolved = ResolveTenant(p, tenant_id);
    if (!resolved.ok()) return resolved.status();
    tenant = *resolved;
  }
  SB_RETURN_IF_ERROR(ValidateName(name, "name"));
  IssuedKey key = NewKey(tenant, std::string(name));
  SB_RETURN_IF_ERROR(
      deps_.keys.Create(key.key, Audit(p, tenant, "api_key.create", key.key.id.str())));
  return key;
}

Result<Page<ApiKey>> Provisioning::ListApiKeys(const Principal& p, std::string_view tenant_id,
                                               bool include_revoked, const PageQuery& page) {
  std::optional<TenantId> tenant;
  if (!(p.is_platform() && tenant_id.empty())) {
    auto resolved = ResolveTenant(p, tenant_id);
    if (!resolved.ok()) return resolved.status();
    tenant = *resolved;
  }
  return deps_.keys.List(tenant, include_revoked, page);
}

Result<ApiKey> Provisioning::RevokeApiKey(const Principal& p, std::string_view tenant_id,
                                          std::string_view id) {
  std::optional<TenantId> tenant;
  if (!(p.is_platform() && tenant_id.empty())) {
    auto resolved = ResolveTenant(p, tenant_id);
    if (!resolved.ok()) return resolved.status();
    tenant = *resolved;
  }
  SB_RETURN_IF_ERROR(ValidateId(id, "id"));
  // Revoking the key that makes the request would lock a tenant out by accident.
  if (p.key_id.str() == id) {
    return Status::FailedPrecondition("an API key cannot revoke itself; use another key");
  }
  return deps_.keys.Revoke(tenant, ApiKeyId(std::string(id)), deps_.clock.WallNow(),
                           Audit(p, tenant, "api_key.revoke", std::string(id)));
}

}  // namespace sb::admin
