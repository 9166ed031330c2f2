// Postgres implementations of the admin repositories (domain/repositories.h) over schema `admin`
// (services/admin/migrations). Each query filters by tenant_id; each mutation writes its audit
// row in the same transaction.
//
//   sb::pg::Pool pool({.dsn = dsn, .max_connections = 8});
//   SB_RETURN_IF_ERROR(ApplyAdminMigrations(pool, migrations_dir));
//   PgExtensionRepository extensions(pool);
//   auto ext = extensions.Get(tenant, id);
#pragma once

#include <string>

#include "domain/audit_log.h"
#include "domain/repositories.h"
#include "domain/secret_box.h"
#include "switchboard/pg/pool.h"

namespace sb::admin {

// The PostgreSQL schema admin owns; its applied migrations are in admin.schema_migrations.
inline constexpr char kAdminSchema[] = "admin";

// Applies services/admin/migrations (the folder `dir`) to schema admin with libs/pg's runner.
Status ApplyAdminMigrations(pg::Pool& pool, const std::string& dir);

class PgTenantRepository final : public TenantRepository {
 public:
  // With `events`, each mutation also writes its event to admin.outbox in its transaction.
  explicit PgTenantRepository(pg::Pool& pool, const EventEncoder* events = nullptr)
      : pool_(pool), events_(events) {}
  Status Create(const Tenant& tenant, const ApiKey& first_key, const AuditEntry& audit) override;
  Result<Tenant> Get(const TenantId& id) override;
  Result<Tenant> GetByDomain(std::string_view sip_domain) override;
  Result<Page<Tenant>> List(const TenantFilter& filter, const PageQuery& page) override;
  Result<Tenant> Update(const TenantId& id, const std::function<Status(Tenant&)>& change,
                        const AuditEntry& audit) override;
  Result<Tenant> Delete(const TenantId& id, const AuditEntry& audit) override;

 private:
  pg::Pool& pool_;
  const EventEncoder* events_;
};

class PgApiKeyRepository final : public ApiKeyRepository {
 public:
  explicit PgApiKeyRepository(pg::Pool& pool) : pool_(pool) {}
  Status Create(const ApiKey& key, const AuditEntry& audit) override;
  Result<ApiKey> FindActiveByHash(std::string_view secret_hash) override;
  Result<Page<ApiKey>> List(const std::optional<TenantId>& tenant, bool include_revoked,
                            const PageQuery& page) override;
  Result<ApiKey> Revoke(const std::optional<TenantId>& tenant, const ApiKeyId& id, WallTime at,
                        const AuditEntry& audit) override;
  Result<bool> HasActivePlatformKey() override;

 private:
  pg::Pool& pool_;
};

// Reads admin.audit_log (the repositories above write it).
class PgAuditLogRepository final : public AuditLogRepository {
 public:
  explicit PgAuditLogRepository(pg::Pool& pool) : pool_(pool) {}
  Result<Page<AuditRecord>> List(const std::optional<TenantId>& tenant, const AuditFilter& filter,
                                 const PageQuery& page) override;

 private:
  pg::Pool& pool_;
};

class PgExtensionRepository final : public ExtensionRepository {
 public:
  // With `events`, each mutation also writes its event to admin.outbox in its transaction.
  explicit PgExtensionRepository(pg::Pool& pool, const EventEncoder* events = nullptr)
      : pool_(pool), events_(events) {}
  Status Create(const Extension& ext, const AuditEntry& audit) override;
  Result<Extension> Get(const TenantId& tenant, const ExtensionId& id) override;
  Result<Extension> GetByNumber(const TenantId& tenant, std::string_view number) override;
  Result<Extension> GetByUsername(const TenantId& tenant, std::string_view user) override;
  Result<Page<Extension>> List(const TenantId& tenant, const ExtensionFilter& filter,
                               const PageQuery& page) override;
  Result<Extension> Update(const TenantId& tenant, const ExtensionId& id,
                           const std::function<Status(Extension&)>& change,
                           const AuditEntry& audit) override;
  Result<Extension> Delete(const TenantId& tenant, const ExtensionId& id,
                           const AuditEntry& audit) override;

 private:
  Result<Extension> GetWhere(const TenantId& tenant, const std::string& column,
                             std::string_view value);
  pg::Pool& pool_;
  const EventEncoder* events_;
};

class PgNumberRepository final : public NumberRepository {
 public:
  // With `events`, each mutation also writes its event to admin.outbox in its transaction.
  explicit PgNumberRepository(pg::Pool& pool, const EventEncoder* events = nullptr)
      : pool_(pool), events_(events) {}
  Status Create(const PhoneNumber& number, const AuditEntry& audit) override;
  Result<PhoneNumber> Get(const TenantId& tenant, const NumberId& id) override;
  Result<PhoneNumber> FindByE164(std::string_view e164) override;
  Result<Page<PhoneNumber>> List(const TenantId& tenant, std::string_view e164_prefix,
                                 const PageQuery& page) override;
  Result<PhoneNumber> Update(const TenantId& tenant, const NumberId& id,
                             const std::function<Status(PhoneNumber&)>& change,
                             const AuditEntry& audit) override;
  Result<PhoneNumber> Delete(const TenantId& tenant, const NumberId& id,
                             const AuditEntry& audit) override;

 private:
  pg::Pool& pool_;
  const EventEncoder* events_;
};

class PgTrunkRepository final : public TrunkRepository {
 public:
  // With `events`, each mutation also writes its event to admin.outbox in its transaction.
  // Outbound passwords are stored sealed with `box` (domain/secret_box.h).
  PgTrunkRepository(pg::Pool& pool, const SecretBox& box, const EventEncoder* events = nullptr)
      : pool_(pool), box_(box), events_(events) {}
  // Seals passwords stored in clear by versions before encryption at rest; run at start-up.
  Status SealLegacyPasswords();
  Status Create(const Trunk& trunk, const AuditEntry& audit) override;
  Result<Trunk> Get(const TenantId& tenant, const TrunkId& id) override;
  Result<Trunk> FindBySource(std::string_view ip) override;
  Result<Page<Trunk>> List(const TenantId& tenant, std::string_view name_prefix,
                           const PageQuery& page) override;
  Result<Trunk> Update(const TenantId& tenant, const TrunkId& id,
                       const std::function<Status(Trunk&)>& change,
                       const AuditEntry& audit) override;
  Result<Trunk> Delete(const TenantId& tenant, const TrunkId& id, const AuditEntry& audit) override;

 private:
  Result<std::string> Seal(const Trunk& t) const;
  Result<Trunk> Opened(Result<Trunk> t) const;
  pg::Pool& pool_;
  const SecretBox& box_;
  const EventEncoder* events_;
};

}  // namespace sb::admin
