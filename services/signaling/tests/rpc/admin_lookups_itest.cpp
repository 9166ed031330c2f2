// The signaling node's admin lookups against a real AdminServer (its NATS lookup responders, Redis
// cache and PostgreSQL) provisioned through its gRPC API: the HA1s a registrar checks, the tenant
// status it refuses, NOT_FOUND for what does not exist, and UNAVAILABLE (never a hang) when admin
// is silent or absent; with the node's cache, admin's change events reaching it long before the
// cache's TTL.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "rpc/admin_change_listener.h"
#include "rpc/admin_lookup_cache.h"
#include "rpc/admin_lookups.h"
#include "rpc/admin_server.h"
#include "switchboard/admin/v1/extension.grpc.pb.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/admin/v1/number.grpc.pb.h"
#include "switchboard/admin/v1/tenant.grpc.pb.h"
#include "switchboard/admin/v1/trunk.grpc.pb.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/core/logger.h"
#include "switchboard/sip/digest.h"
#include "switchboard/testing/servers.h"

namespace {

namespace pb = ::switchboard::admin::v1;
using namespace std::chrono_literals;

const std::string kPlatformKey = "sbk_" + std::string(43, 'R');

std::unique_ptr<sb::bus::Bus> Connect(const std::string& url) {
  sb::bus::NatsBusOptions options;
  options.url = url;
  auto bus = sb::bus::NatsBus::Connect(options);
  REQUIRE(bus.ok());
  return std::move(*bus);
}

struct Admin {
  sb::core::SystemClock clock;
  sb::core::MetricsRegistry metrics;
  std::ostringstream quiet;
  sb::core::Logger log{"admin-test", quiet, sb::core::LogLevel::kError, clock};
  // A NATS of its own: admins of other tests on a shared one would answer these lookups from
  // their own databases (they all serve sb.cmd.admin.lookup_* in queue group "admin").
  sb::testing::NatsServer nats = sb::testing::NatsServer::Start();
  std::unique_ptr<sb::bus::Bus> bus = Connect(nats.url());
  std::unique_ptr<sb::admin::rpc::AdminServer> server;
  std::unique_ptr<pb::TenantService::Stub> tenants;
  std::unique_ptr<pb::ExtensionService::Stub> extensions;
  std::unique_ptr<pb::NumberService::Stub> numbers;
  std::unique_ptr<pb::TrunkService::Stub> trunks;

  Admin() {
    sb::admin::rpc::AdminServerConfig config;
    config.pg_dsn = sb::testing::FreshDatabase("sig_lookups");
    config.redis_url = sb::testing::Shared().redis_url;
    config.platform_domain = "sip.lookups.test";
    config.bootstrap_key = kPlatformKey;
    config.migrations_dir = ADMIN_MIGRATIONS_DIR;
    config.lookup_workers = 1;
    config.secret_key = std::string(64, '7');  // admin requires one (trunk passwords at rest)
    auto started = sb::admin::rpc::AdminServer::Start(config, *bus, clock, metrics, log);
    REQUIRE(started.ok());
    server = std::move(*started);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->grpc_port()),
                                       grpc::InsecureChannelCredentials());
    tenants = pb::TenantService::NewStub(channel);
    extensions = pb::ExtensionService::NewStub(channel);
    numbers = pb::NumberService::NewStub(channel);
    trunks = pb::TrunkService::NewStub(channel);
  }

  // One provisioning call with the platform key; it must succeed.
  template <typename Stub, typename Request, typename Reply>
  Reply Call(Stub& stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Reply*),
             const Request& req) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + kPlatformKey);
    Reply out;
    auto status = (stub.*rpc)(&ctx, req, &out);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return out;
  }

  pb::Tenant CreateTenant() {
    std::string slug = sb::testing::UniqueName("lk");
    std::replace(slug.begin(), slug.end(), '_', '-');
    pb::CreateTenantRequest req;
    req.set_slug(slug);
    return Call(*tenants, &pb::TenantService::Stub::CreateTenant, req).tenant();
  }
  pb::Extension CreateExtension(const pb::Tenant& tenant, const std::string& number,
                                const std::string& password) {
    pb::CreateExtensionRequest req;
    req.set_tenant_id(tenant.id());
    req.set_number(number);
    req.set_password(password);
    return Call(*extensions, &pb::ExtensionService::Stub::CreateExtension, req);
  }
  void ChangePassword(const pb::Extension& ext, const std::string& password) {
    pb::UpdateExtensionRequest req;
    req.set_tenant_id(ext.tenant_id());
    req.set_id(ext.id());
    req.set_password(password);
    Call(*extensions, &pb::ExtensionService::Stub::UpdateExtension, req);
  }
  // A trunk "carrier" to `host`:5080 whose calls also come from `host`; "00" dials out as "+".
  pb::Trunk CreateTrunk(const pb::Tenant& tenant, const std::string& host) {
    pb::CreateTrunkRequest req;
    req.set_tenant_id(tenant.id());
    req.set_name("carrier");
    req.set_host(host);
    req.set_port(5080);
    req.set_username("acme-out");
    req.set_password("trunk-secret");
    req.add_inbound_sources(host + "/32");
    auto* rule = req.add_prefix_rules();
    rule->set_match("00");
    rule->set_strip(2);
    rule->set_prepend("+");
    req.set_caller_id_policy(pb::CALLER_ID_POLICY_FIXED);
    req.set_fixed_caller_id("+15557770001");
    return Call(*trunks, &pb::TrunkService::Stub::CreateTrunk, req);
  }
  pb::PhoneNumber AddNumber(const pb::Tenant& tenant, const std::string& e164,
                            const std::string& target) {
    pb::AddNumberRequest req;
    req.set_tenant_id(tenant.id());
    req.set_e164(e164);
    req.set_target(target);
    return Call(*numbers, &pb::NumberService::Stub::AddNumber, req);
  }
  void RouteNumber(const pb::PhoneNumber& number, const std::string& target) {
    pb::UpdateNumberRequest req;
    req.set_tenant_id(number.tenant_id());
    req.set_id(number.id());
    req.set_target(target);
    Call(*numbers, &pb::NumberService::Stub::UpdateNumber, req);
  }
  void DeleteNumber(const pb::PhoneNumber& number) {
    pb::DeleteNumberRequest req;
    req.set_tenant_id(number.tenant_id());
    req.set_id(number.id());
    Call(*numbers, &pb::NumberService::Stub::DeleteNumber, req);
  }
  void Suspend(const pb::Tenant& tenant) {
    pb::SuspendTenantRequest req;
    req.set_id(tenant.id());
    Call(*tenants, &pb::TenantService::Stub::SuspendTenant, req);
  }
};

}  // namespace

TEST_CASE("credentials come back with the HA1s of the tenant's domain", "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  admin.CreateExtension(tenant, "1001", "correct-horse-1001");
  auto client_bus = Connect(admin.nats.url());
  sb::signaling::AdminLookups lookups(*client_bus, 2000ms);

  auto creds = lookups.Credentials(tenant.sip_domain(), "1001");
  REQUIRE(creds.ok());
  CHECK(creds->tenant.str() == tenant.id());
  CHECK_FALSE(creds->tenant_suspended);
  CHECK(creds->enabled);
  CHECK(creds->extension_number == "1001");
  CHECK(creds->ha1_md5 == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "1001",
                                              tenant.sip_domain(), "correct-horse-1001"));
  CHECK(creds->ha1_sha256 == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, "1001",
                                                 tenant.sip_domain(), "correct-horse-1001"));

  auto domain = lookups.Domain(tenant.sip_domain());
  REQUIRE(domain.ok());
  CHECK(domain->tenant.str() == tenant.id());
  CHECK_FALSE(domain->tenant_suspended);
}

TEST_CASE("unknown users and domains are NOT_FOUND", "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  auto client_bus = Connect(admin.nats.url());
  sb::signaling::AdminLookups lookups(*client_bus, 2000ms);
  CHECK(lookups.Credentials(tenant.sip_domain(), "4242").status().code() ==
        sb::StatusCode::kNotFound);
  CHECK(lookups.Domain("nobody.sip.lookups.test").status().code() == sb::StatusCode::kNotFound);
}

TEST_CASE("a suspended tenant is reported as suspended", "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  admin.CreateExtension(tenant, "1001", "correct-horse-1001");
  admin.Suspend(tenant);
  auto client_bus = Connect(admin.nats.url());
  sb::signaling::AdminLookups lookups(*client_bus, 2000ms);
  auto domain = lookups.Domain(tenant.sip_domain());
  REQUIRE(domain.ok());
  CHECK(domain->tenant_suspended);
}

TEST_CASE(
    "routing lookups - a number and its target - a trunk by source address - an extension - "
    "an outbound route with the rewritten number and credentials",
    "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  admin.CreateExtension(tenant, "1001", "correct-horse-1001");
  admin.AddNumber(tenant, "+15557770001", "ext:1001");
  const auto carrier = admin.CreateTrunk(tenant, "127.0.0.9");
  auto client_bus = Connect(admin.nats.url());
  sb::signaling::AdminLookups lookups(*client_bus, 2000ms);

  auto number = lookups.Number("+15557770001");
  REQUIRE(number.ok());
  CHECK(number->tenant.id.str() == tenant.id());
  CHECK(number->tenant.sip_domain == tenant.sip_domain());
  CHECK(number->target == "ext:1001");
  CHECK(lookups.Number("+15557770002").status().code() == sb::StatusCode::kNotFound);

  auto trunk = lookups.TrunkBySource("127.0.0.9");
  REQUIRE(trunk.ok());
  CHECK(trunk->tenant.id.str() == tenant.id());
  CHECK(trunk->tenant.sip_domain == tenant.sip_domain());
  CHECK(trunk->trunk_name == "carrier");
  CHECK(lookups.TrunkBySource("127.0.0.10").status().code() == sb::StatusCode::kNotFound);

  auto extension = lookups.Extension(tenant.sip_domain(), "1001");
  REQUIRE(extension.ok());
  CHECK(extension->sip_username == "1001");
  CHECK(extension->enabled);

  const sb::TenantId id(tenant.id());
  auto route = lookups.Outbound({id, "00442071234567", "", {}});
  REQUIRE(route.ok());
  CHECK(route->trunk_id == carrier.id());
  CHECK(route->tenant.sip_domain == tenant.sip_domain());
  CHECK(route->gateway == sb::sip::Destination{"127.0.0.9", 5080, sb::sip::Transport::kUdp});
  CHECK(route->dialed == "+442071234567");
  CHECK(route->caller_id == "+15557770001");
  CHECK_FALSE(route->caller_id_blocked);
  CHECK(route->username == "acme-out");
  CHECK(route->password == "trunk-secret");
  CHECK(lookups.Outbound({id, "1234", "", {}}).status().code() == sb::StatusCode::kNotFound);

  // Through the trunk named: its rules only; a trunk the tenant does not have is NOT_FOUND.
  auto named = lookups.Outbound({id, "00442071234567", "", carrier.id()});
  REQUIRE(named.ok());
  CHECK(named->dialed == "+442071234567");
  CHECK(lookups.Outbound({id, "00442071234567", "", "7d0c8f0e-4a57-4f3e-9a51-2b1f0c9e6d11"})
            .status()
            .code() == sb::StatusCode::kNotFound);
  CHECK(lookups.Outbound({id, "00442071234567", "", "not-a-uuid"}).status().field() == "trunk_id");

  // The tenant by id, with its domain (an originate command names the tenant only).
  auto found = lookups.Tenant(id);
  REQUIRE(found.ok());
  CHECK(found->sip_domain == tenant.sip_domain());
  CHECK_FALSE(found->suspended);
  CHECK(lookups.Tenant(sb::TenantId("7d0c8f0e-4a57-4f3e-9a51-2b1f0c9e6d11")).status().code() ==
        sb::StatusCode::kNotFound);
}

TEST_CASE("admin silent or absent is UNAVAILABLE by the deadline", "[nats]") {
  // A private NATS: on it no admin serves lookups, and a silent responder is set up below.
  auto nats = sb::testing::NatsServer::Start();
  auto bus = Connect(nats.url());
  sb::signaling::AdminLookups lookups(*bus, 300ms);

  auto absent_started = std::chrono::steady_clock::now();
  auto absent = lookups.Credentials("acme.sip.test", "1001");
  CHECK(absent.status().code() == sb::StatusCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - absent_started < 2s);

  auto silent = bus->Subscribe("sb.cmd.admin.lookup_credentials", "", [](const auto&) {});
  REQUIRE(silent.ok());
  auto started = std::chrono::steady_clock::now();
  auto late = lookups.Credentials("acme.sip.test", "1001");
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(late.status().code() == sb::StatusCode::kUnavailable);
  CHECK(waited >= 250ms);  // it did wait for an answer (timers are not exact)
  CHECK(waited < 2s);
}

// A signaling node's view of admin: lookups through its cache (TTL one hour, so only admin's
// events can refresh an answer), kept in step by its change listener.
struct CachedLookups {
  CachedLookups(Admin& admin, const std::string& node_id) : bus(Connect(admin.nats.url())) {
    auto started = sb::signaling::AdminChangeListener::Start(*bus, cache, node_id, log);
    REQUIRE(started.ok());
    listener = std::move(*started);
  }

  std::unique_ptr<sb::bus::Bus> bus;
  sb::core::SystemClock clock;
  std::ostringstream quiet;
  sb::core::Logger log{"lookups-test", quiet, sb::core::LogLevel::kError, clock};
  sb::signaling::AdminLookupCache cache{clock, std::chrono::hours(1)};
  std::unique_ptr<sb::signaling::AdminChangeListener> listener;
  sb::signaling::AdminLookups lookups{*bus, 2000ms, &cache};
};

// Polls `done` (bounded): what the cache answers changes only once the event has arrived.
template <typename Done>
bool Within(std::chrono::milliseconds limit, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

TEST_CASE(
    "cached lookups follow admin's events - a new password and a suspension long before the TTL",
    "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  auto ext = admin.CreateExtension(tenant, "1001", "correct-horse-1001");
  CachedLookups node(admin, "lk-node");
  auto& cache = node.cache;
  auto& lookups = node.lookups;

  auto ha1 = [&](const std::string& password) {
    return sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "1001", tenant.sip_domain(),
                               password);
  };
  auto before = lookups.Credentials(tenant.sip_domain(), "1001");
  REQUIRE(before.ok());
  CHECK(before->ha1_md5 == ha1("correct-horse-1001"));
  // Kept once the events of the set-up (tenant and extension created) have passed by.
  CHECK(Within(5s, [&] {
    return lookups.Domain(tenant.sip_domain()).ok() &&
           lookups.Credentials(tenant.sip_domain(), "1001").ok() && cache.size() == 2;
  }));

  admin.ChangePassword(ext, "battery-staple-1001");
  CHECK(Within(5s, [&] {
    auto now = lookups.Credentials(tenant.sip_domain(), "1001");
    return now.ok() && now->ha1_md5 == ha1("battery-staple-1001");
  }));

  admin.Suspend(tenant);
  CHECK(Within(5s, [&] {
    auto domain = lookups.Domain(tenant.sip_domain());
    auto creds = lookups.Credentials(tenant.sip_domain(), "1001");
    return domain.ok() && domain->tenant_suspended && creds.ok() && creds->tenant_suspended;
  }));
}

TEST_CASE(
    "cached trunk-by-source and extension answers follow admin's events - a new trunk and a new "
    "extension are found long before the TTL",
    "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  CachedLookups node(admin, "lk-trunks");
  auto& cache = node.cache;
  auto& lookups = node.lookups;
  const std::string domain = tenant.sip_domain();

  // NOT_FOUND is kept too (once the set-up's own events have passed by).
  CHECK(Within(5s, [&] {
    (void)lookups.TrunkBySource("127.0.0.11");
    (void)lookups.Extension(domain, "1002");
    auto trunk = cache.TrunkBySource("127.0.0.11");
    auto extension = cache.Extension(domain, "1002");
    return trunk && trunk->status().code() == sb::StatusCode::kNotFound && extension &&
           extension->status().code() == sb::StatusCode::kNotFound;
  }));

  admin.CreateTrunk(tenant, "127.0.0.11");
  CHECK(Within(5s, [&] {
    auto trunk = lookups.TrunkBySource("127.0.0.11");
    return trunk.ok() && trunk->tenant.id.str() == tenant.id();
  }));
  admin.CreateExtension(tenant, "1002", "correct-horse-1002");
  CHECK(Within(5s, [&] {
    auto extension = lookups.Extension(domain, "1002");
    return extension.ok() && extension->sip_username == "1002";
  }));
  // And now both are answered from the cache.
  CHECK(cache.TrunkBySource("127.0.0.11").has_value());
  CHECK(cache.Extension(domain, "1002").has_value());
}

// A number no other test uses: admins of tests running alongside share the Redis that holds
// admin's own lookup cache, keyed by E.164.
std::string UniqueE164() {
  std::random_device random;
  return "+1999" + std::to_string(1000000 + random() % 9000000);
}

// The lookup_number requests admin receives, seen by a plain (queue-less) subscriber.
class NumberRequests {
 public:
  explicit NumberRequests(sb::bus::Bus& bus) : plain_(bus, 2000ms) {
    auto sub = bus.Subscribe("sb.cmd.admin.lookup_number", "", [this](const sb::bus::Message& m) {
      // (Catch's assertions are not for this NATS thread: an unreadable request is kept as such.)
      pb::LookupNumberRequest request;
      const bool readable = request.ParseFromString(m.data);
      std::lock_guard lock(mu_);
      seen_.push_back(readable ? request.e164() : "unreadable request");
    });
    REQUIRE(sub.ok());
    sub_ = std::move(*sub);
  }

  // How many asked admin for `e164` so far. An uncached lookup of a fresh number goes first:
  // requests reach the subscriber in order, so once it is seen every earlier one has been.
  long For(const std::string& e164) {
    const std::string marker = UniqueE164();
    (void)plain_.Number(marker);
    REQUIRE(Within(5s, [&] {
      std::lock_guard lock(mu_);
      return std::find(seen_.begin(), seen_.end(), marker) != seen_.end();
    }));
    std::lock_guard lock(mu_);
    return std::count(seen_.begin(), seen_.end(), e164);
  }

 private:
  sb::signaling::AdminLookups plain_;
  std::mutex mu_;
  std::vector<std::string> seen_;
  std::unique_ptr<sb::bus::Subscription> sub_;
};

TEST_CASE(
    "cached number answers are used until admin re-routes the number or deletes it - long "
    "before the TTL",
    "[pg][redis]") {
  Admin admin;
  auto tenant = admin.CreateTenant();
  admin.CreateExtension(tenant, "1001", "correct-horse-1001");
  admin.CreateExtension(tenant, "1002", "correct-horse-1002");
  const std::string e164 = UniqueE164();
  auto number = admin.AddNumber(tenant, e164, "ext:1001");
  CachedLookups node(admin, "lk-numbers");
  auto& cache = node.cache;
  auto& lookups = node.lookups;
  NumberRequests admin_asked(*node.bus);

  // Kept once the set-up's own event (number created) has passed by.
  REQUIRE(Within(5s, [&] {
    auto route = lookups.Number(e164);
    return route.ok() && route->target == "ext:1001" && cache.Number(e164).has_value();
  }));
  const long asked = admin_asked.For(e164);
  for (int i = 0; i < 5; ++i) {
    auto route = lookups.Number(e164);
    REQUIRE(route.ok());
    CHECK(route->target == "ext:1001");
    CHECK(route->tenant.sip_domain == tenant.sip_domain());
  }
  CHECK(admin_asked.For(e164) == asked);

  admin.RouteNumber(number, "ext:1002");
  CHECK(Within(5s, [&] {
    auto route = lookups.Number(e164);
    return route.ok() && route->target == "ext:1002";
  }));
  CHECK(admin_asked.For(e164) > asked);

  admin.DeleteNumber(number);
  CHECK(Within(5s,
               [&] { return lookups.Number(e164).status().code() == sb::StatusCode::kNotFound; }));
  // NOT_FOUND is kept too.
  const long after_delete = admin_asked.For(e164);
  CHECK(lookups.Number(e164).status().code() == sb::StatusCode::kNotFound);
  CHECK(admin_asked.For(e164) == after_delete);
}
