// A Provisioning over real PostgreSQL (a fresh database of the shared test server, migrated),
// for the *_pgtest files. The change sink records what it was told, to check events are emitted.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "domain/provisioning.h"
#include "store/pg_repositories.h"
#include "switchboard/testing/servers.h"

namespace sb::admin::testing {

class RecordingSink final : public ChangeSink {
 public:
  void TenantChanged(Change c, const Tenant& t) override { Add(c, "tenant", t.id.str()); }
  void ExtensionChanged(Change c, const Extension& e, const std::string&) override {
    Add(c, "extension", e.id.str());
  }
  void NumberChanged(Change c, const PhoneNumber& n) override { Add(c, "number", n.id.str()); }
  void TrunkChanged(Change c, const Trunk& t) override { Add(c, "trunk", t.id.str()); }

  // "created extension <id>", in order.
  std::vector<std::string> changes() const {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  void Add(Change c, const char* kind, const std::string& id) {
    static const char* kNames[] = {"created", "updated", "deleted"};
    std::lock_guard lock(mu_);
    changes_.push_back(std::string(kNames[static_cast<int>(c)]) + " " + kind + " " + id);
  }
  mutable std::mutex mu_;
  std::vector<std::string> changes_;
};

// Every test gets its own database, so tests run in parallel against one server.
struct PgFixture {
  PgFixture()
      : dsn(sb::testing::FreshDatabase("admin")),
        pool({.dsn = dsn, .max_connections = 4}),
        ids(clock),
        tenants(pool),
        keys(pool),
        extensions(pool),
        numbers(pool),
        box(*SecretBox::FromHexKey(std::string(64, 'a'))),
        trunks(pool, box),
        provisioning(ProvisioningConfig{.platform_domain = "sip.test.example"},
                     ProvisioningDeps{tenants, keys, extensions, numbers, trunks, sink, clock, ids,
                                      random}) {
    Status migrated = ApplyAdminMigrations(pool, ADMIN_MIGRATIONS_DIR);
    if (!migrated.ok()) throw std::runtime_error(migrated.ToString());
    const std::string secret = "sbk_" + std::string(43, 'P');
    Status boot = provisioning.EnsureBootstrapKey(secret);
    if (!boot.ok()) throw std::runtime_error(boot.ToString());
    platform = *provisioning.Authenticate("Bearer " + secret);
  }

  // Onboards a tenant and returns its first key's principal.
  Principal Onboard(const std::string& slug, Tenant* out = nullptr) {
    auto o = provisioning.CreateTenant(platform, {.slug = slug});
    if (!o.ok()) throw std::runtime_error(o.status().ToString());
    if (out) *out = o->tenant;
    return *provisioning.Authenticate("Bearer " + o->first_key.secret);
  }

  std::string dsn;
  pg::Pool pool;
  core::SystemClock clock;
  core::UuidV7Generator ids;
  sb::core::OpenSslRandom random;
  RecordingSink sink;
  PgTenantRepository tenants;
  PgApiKeyRepository keys;
  PgExtensionRepository extensions;
  PgNumberRepository numbers;
  SecretBox box;
  PgTrunkRepository trunks;
  Provisioning provisioning;
  Principal platform;
};

}  // namespace sb::admin::testing
