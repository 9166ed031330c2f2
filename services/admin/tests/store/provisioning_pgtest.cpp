// The admin use cases against real PostgreSQL: what is stored, what is refused, and that
// uniqueness holds under concurrency.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "domain/credentials.h"
#include "store/fixture.h"
#include "switchboard/sip/digest.h"

namespace sb::admin {
namespace {

using testing::PgFixture;

int64_t Count(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  return w.exec1(sql)[0].as<int64_t>();
}

TEST_CASE("onboarding creates the tenant, its SIP domain and a first key for it", "[pg]") {
  PgFixture f;
  auto o = f.provisioning.CreateTenant(f.platform, {.slug = "acme", .name = "Acme Inc"});
  REQUIRE(o.ok());
  CHECK(o->tenant.sip_domain == "acme.sip.test.example");
  CHECK(o->tenant.name == "Acme Inc");
  CHECK(o->tenant.status == TenantStatus::kActive);
  CHECK(o->tenant.max_extensions == 100);
  CHECK(LooksLikeApiKey(o->first_key.secret));

  auto principal = f.provisioning.Authenticate("Bearer " + o->first_key.secret);
  REQUIRE(principal.ok());
  REQUIRE(principal->tenant.has_value());
  CHECK(principal->tenant->str() == o->tenant.id.str());

  // Only the hash is stored.
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.api_keys WHERE secret_hash = '" +
                         HashApiKey(o->first_key.secret) + "'") == 1);
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.api_keys WHERE secret_hash LIKE '%" +
                         o->first_key.secret.substr(4, 20) + "%'") == 0);
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.audit_log WHERE action = 'tenant.create'") == 1);
  CHECK(f.sink.changes() == std::vector<std::string>{"created tenant " + o->tenant.id.str()});

  auto by_domain = f.tenants.GetByDomain("ACME.sip.test.example");
  REQUIRE(by_domain.ok());
  CHECK(by_domain->id == o->tenant.id);
}

TEST_CASE("tenant creation is refused for bad input, duplicates and tenant keys", "[pg]") {
  PgFixture f;
  CHECK(f.provisioning.CreateTenant(f.platform, {.slug = "Bad Slug"}).status().field() == "slug");
  CHECK(
      f.provisioning.CreateTenant(f.platform, {.slug = "okay", .name = "a\"b"}).status().field() ==
      "name");
  CHECK(f.provisioning.CreateTenant(f.platform, {.slug = "okay", .max_extensions = -3})
            .status()
            .field() == "max_extensions");
  Principal acme = f.Onboard("acme");
  CHECK(f.provisioning.CreateTenant(f.platform, {.slug = "acme"}).status().code() ==
        StatusCode::kAlreadyExists);
  CHECK(f.provisioning.CreateTenant(acme, {.slug = "other"}).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.tenants") == 1);
}

TEST_CASE("unknown, malformed and revoked keys do not authenticate", "[pg]") {
  PgFixture f;
  CHECK(f.provisioning.Authenticate("").status().code() == StatusCode::kUnauthenticated);
  CHECK(f.provisioning.Authenticate("Bearer nope").status().code() == StatusCode::kUnauthenticated);
  CHECK(f.provisioning.Authenticate("Bearer sbk_" + std::string(43, 'Z')).status().code() ==
        StatusCode::kUnauthenticated);

  Tenant acme_t;
  Principal acme = f.Onboard("acme", &acme_t);
  auto second = f.provisioning.CreateApiKey(acme, "", "ci");
  REQUIRE(second.ok());
  CHECK(second->key.tenant_id == acme_t.id);
  REQUIRE(f.provisioning.Authenticate("Bearer " + second->secret).ok());
  CHECK(f.provisioning.RevokeApiKey(acme, "", second->key.id.str()).ok());
  CHECK(f.provisioning.Authenticate("Bearer " + second->secret).status().code() ==
        StatusCode::kUnauthenticated);
  // A key cannot revoke itself.
  CHECK(f.provisioning.RevokeApiKey(acme, "", acme.key_id.str()).status().code() ==
        StatusCode::kFailedPrecondition);
  auto listed = f.provisioning.ListApiKeys(acme, "", false, {10, ""});
  REQUIRE(listed.ok());
  CHECK(listed->items.size() == 1);
  auto all = f.provisioning.ListApiKeys(acme, "", true, {10, ""});
  CHECK(all->items.size() == 2);
}

TEST_CASE("the bootstrap key is created once and is a platform key", "[pg]") {
  PgFixture f;
  const std::string secret = "sbk_" + std::string(43, 'P');
  CHECK(f.provisioning.EnsureBootstrapKey(secret).ok());
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.api_keys WHERE tenant_id IS NULL") == 1);
  CHECK(f.platform.is_platform());
  CHECK(f.provisioning.EnsureBootstrapKey("short").field() == "SB_ADMIN_BOOTSTRAP_KEY");
  CHECK(*f.keys.HasActivePlatformKey());
}

TEST_CASE("an extension's password is stored only as HA1 with the tenant's domain as realm",
          "[pg]") {
  PgFixture f;
  Tenant t;
  Principal acme = f.Onboard("acme", &t);
  auto ext = f.provisioning.CreateExtension(
      acme, {.number = "1001", .display_name = "Alice", .password = "correct horse"});
  REQUIRE(ext.ok());
  CHECK(ext->sip_username == "1001");
  CHECK(ext->enabled);
  CHECK(ext->ha1_md5 == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "1001",
                                            "acme.sip.test.example", "correct horse"));
  CHECK(ext->ha1_sha256 == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, "1001",
                                               "acme.sip.test.example", "correct horse"));
  CHECK(Count(f.dsn,
              "SELECT count(*) FROM admin.extensions WHERE ha1_md5 LIKE '%horse%' OR "
              "display_name LIKE '%horse%'") == 0);

  auto by_user = f.extensions.GetByUsername(t.id, "1001");
  REQUIRE(by_user.ok());
  CHECK(by_user->id == ext->id);

  auto updated = f.provisioning.UpdateExtension(acme, "", ext->id.str(),
                                                {.password = "battery staple", .enabled = false});
  REQUIRE(updated.ok());
  CHECK(!updated->enabled);
  CHECK(updated->ha1_md5 == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "1001",
                                                "acme.sip.test.example", "battery staple"));
  CHECK(f.provisioning.GetExtension(acme, "", ext->id.str())->ha1_md5 == updated->ha1_md5);
}

TEST_CASE("extension input errors name the field", "[pg]") {
  PgFixture f;
  Principal acme = f.Onboard("acme");
  struct Case {
    ExtensionInput in;
    std::string field;
  };
  std::vector<Case> cases = {
      {{.number = "1", .password = "long enough"}, "number"},
      {{.number = "1001", .sip_username = "a b", .password = "long enough"}, "sip_username"},
      {{.number = "1001", .password = "short"}, "password"},
      {{.number = "1001", .display_name = "x\ny", .password = "long enough"}, "display_name"},
      {{.number = "1001", .password = "long enough", .caller_id = "555"}, "caller_id"},
      {{.tenant_id = "garbage", .number = "1001", .password = "long enough"}, "tenant_id"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.field) {
      auto r = f.provisioning.CreateExtension(acme, c.in);
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
      CHECK(r.status().field() == c.field);
    }
  }
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.extensions") == 0);
}

TEST_CASE("two simultaneous creates of the same extension: exactly one succeeds", "[pg]") {
  PgFixture f;
  Principal acme = f.Onboard("acme");
  for (int round = 0; round < 5; ++round) {
    const std::string number = "20" + std::to_string(round);
    std::vector<Status> results(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        results[i] =
            f.provisioning.CreateExtension(acme, {.number = number, .password = "long enough"})
                .status();
      });
    }
    for (auto& t : threads) t.join();
    int ok = (results[0].ok() ? 1 : 0) + (results[1].ok() ? 1 : 0);
    CHECK(ok == 1);
    for (const auto& s : results) {
      if (!s.ok()) CHECK(s.code() == StatusCode::kAlreadyExists);
    }
  }
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.extensions") == 5);
}

TEST_CASE("a tenant cannot exceed its extension limit", "[pg]") {
  PgFixture f;
  auto o = f.provisioning.CreateTenant(f.platform, {.slug = "tiny", .max_extensions = 2});
  REQUIRE(o.ok());
  Principal tiny = *f.provisioning.Authenticate("Bearer " + o->first_key.secret);
  CHECK(f.provisioning.CreateExtension(tiny, {.number = "10", .password = "long enough"}).ok());
  CHECK(f.provisioning.CreateExtension(tiny, {.number = "11", .password = "long enough"}).ok());
  CHECK(f.provisioning.CreateExtension(tiny, {.number = "12", .password = "long enough"})
            .status()
            .code() == StatusCode::kFailedPrecondition);
  // A tenant key may not raise its own limit.
  CHECK(f.provisioning.UpdateTenant(tiny, "", {.max_extensions = 10}).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK(f.provisioning.UpdateTenant(f.platform, o->tenant.id.str(), {.max_extensions = 3}).ok());
  CHECK(f.provisioning.CreateExtension(tiny, {.number = "12", .password = "long enough"}).ok());
}

TEST_CASE("numbers are unique on the platform and route to an existing extension", "[pg]") {
  PgFixture f;
  Tenant acme_t;
  Principal acme = f.Onboard("acme", &acme_t);
  Principal beta = f.Onboard("beta");
  CHECK(f.provisioning.AddNumber(acme, {.e164 = "+15551230001", .target = "ext:1001"})
            .status()
            .code() == StatusCode::kFailedPrecondition);
  REQUIRE(f.provisioning.CreateExtension(acme, {.number = "1001", .password = "long enough"}).ok());
  auto n = f.provisioning.AddNumber(acme, {.e164 = "+15551230001", .target = "ext:1001"});
  REQUIRE(n.ok());
  CHECK(f.provisioning.AddNumber(beta, {.e164 = "+15551230001"}).status().code() ==
        StatusCode::kAlreadyExists);
  CHECK(f.provisioning.AddNumber(acme, {.e164 = "5551230001"}).status().field() == "e164");
  CHECK(f.provisioning.AddNumber(acme, {.e164 = "+15551230002", .target = "sip:x"})
            .status()
            .field() == "target");
  auto found = f.numbers.FindByE164("+15551230001");
  REQUIRE(found.ok());
  CHECK(found->tenant_id == acme_t.id);
  CHECK(found->target == "ext:1001");
  auto unrouted = f.provisioning.UpdateNumber(acme, "", n->id.str(), std::string());
  REQUIRE(unrouted.ok());
  CHECK(unrouted->target.empty());
}

TEST_CASE("trunks: validation, defaults, source ranges unique across the platform", "[pg]") {
  PgFixture f;
  Tenant acme_t;
  Principal acme = f.Onboard("acme", &acme_t);
  Principal beta = f.Onboard("beta");
  auto t = f.provisioning.CreateTrunk(acme, {.name = "carrier-1",
                                             .host = "sip.carrier.example",
                                             .transport = Transport::kTls,
                                             .username = "acme",
                                             .password = "trunk-secret",
                                             .inbound_sources = {"203.0.113.0/24", "198.51.100.7"},
                                             .prefix_rules = {{"00", 2, "+"}},
                                             .caller_id_policy = CallerIdPolicy::kFixed,
                                             .fixed_caller_id = "+15551230000"});
  REQUIRE(t.ok());
  CHECK(t->port == 0);  // none given: signaling asks DNS SRV, else 5061 for TLS
  auto stored = f.provisioning.GetTrunk(acme, "", t->id.str());
  REQUIRE(stored.ok());
  CHECK(stored->inbound_sources == std::vector<std::string>{"198.51.100.7/32", "203.0.113.0/24"});
  CHECK(stored->prefix_rules == std::vector<PrefixRule>{{"00", 2, "+"}});
  CHECK(stored->caller_id_policy == CallerIdPolicy::kFixed);
  CHECK(stored->password == "trunk-secret");

  auto found = f.trunks.FindBySource("203.0.113.99");
  REQUIRE(found.ok());
  CHECK(found->id == t->id);
  CHECK(f.trunks.FindBySource("192.0.2.1").status().code() == StatusCode::kNotFound);

  // Another tenant's trunk cannot claim an overlapping range.
  auto clash = f.provisioning.CreateTrunk(
      beta, {.name = "c", .host = "10.0.0.1", .inbound_sources = {"203.0.113.128/25"}});
  CHECK(clash.status().code() == StatusCode::kAlreadyExists);
  CHECK(clash.status().message().find("overlaps") != std::string::npos);

  struct Case {
    TrunkInput in;
    std::string field;
  };
  std::vector<Case> bad = {
      {{.name = "", .host = "h.example"}, "name"},
      {{.name = "n", .host = "bad_host"}, "host"},
      {{.name = "n", .host = "h.example", .port = 70000}, "port"},
      {{.name = "n", .host = "h.example", .username = "a b"}, "username"},
      {{.name = "n", .host = "h.example", .password = "longenough"}, "username"},
      {{.name = "n", .host = "h.example", .username = "u", .password = "short"}, "password"},
      {{.name = "n", .host = "h.example", .inbound_sources = {"10.0.0.0/8", "10.0.0.1/8"}},
       "inbound_sources[1]"},
      {{.name = "n", .host = "h.example", .prefix_rules = {{"x", 0, ""}}}, "prefix_rules[0].match"},
      {{.name = "n", .host = "h.example", .caller_id_policy = CallerIdPolicy::kFixed},
       "fixed_caller_id"},
  };
  for (const auto& c : bad) {
    DYNAMIC_SECTION(c.field) {
      auto r = f.provisioning.CreateTrunk(acme, c.in);
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
      CHECK(r.status().field() == c.field);
    }
  }

  auto moved = f.provisioning.UpdateTrunk(
      acme, "", t->id.str(), {.inbound_sources = std::vector<std::string>{"192.0.2.0/24"}});
  REQUIRE(moved.ok());
  CHECK(f.trunks.FindBySource("203.0.113.99").status().code() == StatusCode::kNotFound);
  CHECK(f.trunks.FindBySource("192.0.2.1")->id == t->id);
}

TEST_CASE("lists page through everything once, with filters", "[pg]") {
  PgFixture f;
  Principal acme = f.Onboard("acme");
  for (int i = 0; i < 7; ++i) {
    REQUIRE(f.provisioning
                .CreateExtension(acme, {.number = std::to_string(100 + i),
                                        .password = "long enough",
                                        .enabled = i % 2 == 0})
                .ok());
  }
  std::vector<std::string> seen;
  PageQuery q{3, ""};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = f.provisioning.ListExtensions(acme, "", {}, q);
    REQUIRE(page.ok());
    for (const auto& e : page->items) seen.push_back(e.number);
    if (page->next_after.empty()) break;
    q.after = page->next_after;
  }
  CHECK(seen == std::vector<std::string>{"100", "101", "102", "103", "104", "105", "106"});
  auto enabled = f.provisioning.ListExtensions(acme, "", {.enabled = true}, {50, ""});
  CHECK(enabled->items.size() == 4);
  auto prefix = f.provisioning.ListExtensions(acme, "", {.number_prefix = "10"}, {50, ""});
  CHECK(prefix->items.size() == 7);
  auto none = f.provisioning.ListExtensions(acme, "", {.number_prefix = "1%"}, {50, ""});
  CHECK(none->items.empty());

  f.Onboard("acme2");
  f.Onboard("zulu");
  auto tenants = f.provisioning.ListTenants(f.platform, {.slug_prefix = "acme"}, {50, ""});
  CHECK(tenants->items.size() == 2);
}

TEST_CASE("suspending and deleting a tenant", "[pg]") {
  PgFixture f;
  Tenant t;
  Principal acme = f.Onboard("acme", &t);
  REQUIRE(f.provisioning.CreateExtension(acme, {.number = "1001", .password = "long enough"}).ok());
  CHECK(f.provisioning.SuspendTenant(acme, t.id.str(), "").status().code() ==
        StatusCode::kPermissionDenied);
  auto s = f.provisioning.SuspendTenant(f.platform, t.id.str(), "unpaid invoices");
  REQUIRE(s.ok());
  CHECK(s->status == TenantStatus::kSuspended);
  CHECK(f.tenants.Get(t.id)->suspend_reason == "unpaid invoices");
  CHECK(f.provisioning.ResumeTenant(f.platform, t.id.str())->status == TenantStatus::kActive);

  REQUIRE(f.provisioning.DeleteTenant(f.platform, t.id.str()).ok());
  CHECK(f.tenants.Get(t.id).status().code() == StatusCode::kNotFound);
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.extensions") == 0);
  // Its keys went with it.
  CHECK(f.provisioning.GetTenant(acme, "").status().code() == StatusCode::kNotFound);
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.audit_log WHERE action = 'tenant.delete'") == 1);
  CHECK(f.provisioning.DeleteTenant(f.platform, t.id.str()).code() == StatusCode::kNotFound);
}

TEST_CASE("migrations are applied once however often they run", "[pg]") {
  PgFixture f;
  CHECK(ApplyAdminMigrations(f.pool, ADMIN_MIGRATIONS_DIR).ok());
  // 0001 schema, 0002 outbox, 0003 trunk port 0 (DNS SRV)
  CHECK(Count(f.dsn, "SELECT count(*) FROM admin.schema_migrations") == 3);
  CHECK(ApplyAdminMigrations(f.pool, "/nonexistent").code() == StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sb::admin
