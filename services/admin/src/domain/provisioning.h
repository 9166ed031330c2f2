// The admin use cases: onboarding and managing tenants, API keys, extensions, numbers and
// trunks. Each call takes the Principal of the request (authorization is decided here, from
// domain/access.h, not in the transport) and plain inputs; it validates every field (the error
// names it), applies the change through a repository, then reports it to the ChangeSink (events,
// cache invalidation).
//
//   Provisioning p(deps);
//   auto onboarded = p.CreateTenant(platform, {.slug = "acme"});
//   auto ext = p.CreateExtension(onboarded->principal, {.number = "1001", .password = "..."});
//
// Thread-safe when the repositories and the sink are.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/access.h"
#include "domain/credentials.h"
#include "domain/repositories.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/ids.h"

namespace sb::admin {

// Told about every committed change. Implementations must not block for long: they run on the
// request's thread after the commit.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void TenantChanged(Change change, const Tenant& tenant) = 0;
  virtual void ExtensionChanged(Change change, const Extension& ext,
                                const std::string& sip_domain) = 0;
  virtual void NumberChanged(Change change, const PhoneNumber& number) = 0;
  virtual void TrunkChanged(Change change, const Trunk& trunk) = 0;
};

struct ProvisioningConfig {
  std::string platform_domain{};  // tenants get <slug>.<platform_domain>
  int32_t default_max_extensions = 100;
  int32_t default_max_concurrent_calls = 10;
};

struct ProvisioningDeps {
  TenantRepository& tenants;
  ApiKeyRepository& keys;
  ExtensionRepository& extensions;
  NumberRepository& numbers;
  TrunkRepository& trunks;
  ChangeSink& sink;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::RandomSource& random;
};

struct TenantInput {
  std::string slug{};
  std::string name{};
  int32_t max_extensions = 0;
  int32_t max_concurrent_calls = 0;
};

struct TenantChanges {
  std::optional<std::string> name{};
  std::optional<int32_t> max_extensions{};
  std::optional<int32_t> max_concurrent_calls{};
};

struct IssuedKey {
  ApiKey key;
  std::string secret{};  // shown once
};

struct Onboarded {
  Tenant tenant;
  IssuedKey first_key;
};

struct ExtensionInput {
  std::string tenant_id{};
  std::string number{};
  std::string display_name{};
  std::string sip_username{};
  std::string password{};
  std::string caller_id{};
  std::optional<bool> enabled{};
};

struct ExtensionChanges {
  std::optional<std::string> display_name{};
  std::optional<std::string> password{};
  std::optional<std::string> caller_id{};
  std::optional<bool> enabled{};
};

struct NumberInput {
  std::string tenant_id{};
  std::string e164{};
  std::string target{};
};

struct TrunkInput {
  std::string tenant_id{};
  std::string name{};
  std::string host{};
  int32_t port = 0;  // 0: located by DNS SRV (RFC 3263), else 5060 (5061 for TLS)
  Transport transport = Transport::kUdp;
  std::string username{};
  std::string password{};
  std::vector<std::string> inbound_sources{};
  std::vector<PrefixRule> prefix_rules{};
  CallerIdPolicy caller_id_policy = CallerIdPolicy::kPassthrough;
  std::string fixed_caller_id{};
};

struct TrunkChanges {
  std::optional<std::string> host{};
  std::optional<int32_t> port{};
  std::optional<Transport> transport{};
  std::optional<std::string> username{};
  std::optional<std::string> password{};
  std::optional<std::vector<std::string>> inbound_sources{};
  std::optional<std::vector<PrefixRule>> prefix_rules{};
  std::optional<CallerIdPolicy> caller_id_policy{};
  std::optional<std::string> fixed_caller_id{};
};

class Provisioning {
 public:
  Provisioning(ProvisioningConfig config, ProvisioningDeps deps);

  // "authorization" metadata -> the caller. UNAUTHENTICATED for a missing, malformed, unknown
  // or revoked key.
  Result<Principal> Authenticate(std::string_view authorization);
  // Makes `secret` a platform key unless it already is one (first start of a platform).
  Status EnsureBootstrapKey(std::string_view secret);

  Result<Onboarded> CreateTenant(const Principal& p, const TenantInput& in);
  Result<Tenant> GetTenant(const Principal& p, std::string_view id);
  Result<Page<Tenant>> ListTenants(const Principal& p, const TenantFilter& filter,
                                   const PageQuery& page);
  Result<Tenant> UpdateTenant(const Principal& p, std::string_view id, const TenantChanges& in);
  Result<Tenant> SuspendTenant(const Principal& p, std::string_view id, std::string_view reason);
  Result<Tenant> ResumeTenant(const Principal& p, std::string_view id);
  Status DeleteTenant(const Principal& p, std::string_view id);

  // An empty tenant_id with a platform key means the platform's own keys.
  Result<IssuedKey> CreateApiKey(const Principal& p, std::string_view tenant_id,
                                 std::string_view name);
  Result<Page<ApiKey>> ListApiKeys(const Principal& p, std::string_view tenant_id,
                                   bool include_revoked, const PageQuery& page);
  Result<ApiKey> RevokeApiKey(const Principal& p, std::string_view tenant_id, std::string_view id);

  Result<Extension> CreateExtension(const Principal& p, const ExtensionInput& in);
  Result<Extension> GetExtension(const Principal& p, std::string_view tenant_id,
                                 std::string_view id);
  Result<Page<Extension>> ListExtensions(const Principal& p, std::string_view tenant_id,
                                         const ExtensionFilter& filter, const PageQuery& page);
  Result<Extension> UpdateExtension(const Principal& p, std::string_view tenant_id,
                                    std::string_view id, const ExtensionChanges& in);
  Status DeleteExtension(const Principal& p, std::string_view tenant_id, std::string_view id);

  Result<PhoneNumber> AddNumber(const Principal& p, const NumberInput& in);
  Result<PhoneNumber> GetNumber(const Principal& p, std::string_view tenant_id,
                                std::string_view id);
  Result<Page<PhoneNumber>> ListNumbers(const Principal& p, std::string_view tenant_id,
                                        std::string_view e164_prefix, const PageQuery& page);
  Result<PhoneNumber> UpdateNumber(const Principal& p, std::string_view tenant_id,
                                   std::string_view id, std::optional<std::string> target);
  Status DeleteNumber(const Principal& p, std::string_view tenant_id, std::string_view id);

  Result<Trunk> CreateTrunk(const Principal& p, const TrunkInput& in);
  Result<Trunk> GetTrunk(const Principal& p, std::string_view tenant_id, std::string_view id);
  Result<Page<Trunk>> ListTrunks(const Principal& p, std::string_view tenant_id,
                                 std::string_view name_prefix, const PageQuery& page);
  Result<Trunk> UpdateTrunk(const Principal& p, std::string_view tenant_id, std::string_view id,
                            const TrunkChanges& in);
  Status DeleteTrunk(const Principal& p, std::string_view tenant_id, std::string_view id);

 private:
  AuditEntry Audit(const Principal& p, const std::optional<TenantId>& tenant, std::string action,
                   std::string resource_id) const;
  IssuedKey NewKey(std::optional<TenantId> tenant, std::string name);
  Status CheckTarget(const TenantId& tenant, const std::string& target);

  const ProvisioningConfig config_;
  ProvisioningDeps deps_;
};

// Field checks shared by create and update (exposed for unit tests).
Status ValidateTrunk(const Trunk& trunk);
Status ValidateExtensionFields(const Extension& ext);

}  // namespace sb::admin
