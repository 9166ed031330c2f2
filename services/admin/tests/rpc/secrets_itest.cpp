// Trunk outbound passwords at rest: sealed with SB_ADMIN_SECRET_KEY in PostgreSQL and in the Redis
// lookup cache, given back in clear only to the outbound-route lookup, unreadable with another
// key, and required to start.
#include <catch2/catch.hpp>
#include <map>
#include <pqxx/pqxx>

#include "rpc/admin_fixture.h"
#include "rpc/lookup_server.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/bus/typed.h"
#include "switchboard/redis/client.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
namespace pb = ::switchboard::admin::v1;

std::string StoredPassword(const std::string& dsn, const std::string& trunk_id) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  return w.exec_params1("SELECT password FROM admin.trunks WHERE trunk_id = $1::uuid", trunk_id)[0]
      .as<std::string>();
}

pb::Trunk CreateTrunk(AdminFixture& f, const std::string& key, const std::string& password) {
  pb::CreateTrunkRequest ct;
  ct.set_name("carrier");
  ct.set_host("sip.carrier.example");
  ct.set_username("acme");
  ct.set_password(password);
  pb::PrefixRule* all = ct.add_prefix_rules();
  all->set_match("");
  pb::Trunk trunk;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::CreateTrunk, ct, &trunk).ok());
  return trunk;
}

std::string RoutePassword(AdminFixture& f, const std::string& tenant_id) {
  auto subject = rpc::LookupSubject("lookup_outbound_route");
  REQUIRE(subject.ok());
  pb::LookupOutboundRouteRequest req;
  req.set_tenant_id(tenant_id);
  req.set_dialed("+15551230001");
  auto reply = bus::RequestProto<pb::LookupOutboundRouteReply>(f.bus(), *subject, req,
                                                               std::chrono::seconds(5));
  REQUIRE(reply.ok());
  return reply->password();
}

TEST_CASE("trunk passwords are stored sealed and given back only to the route lookup",
          "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  pb::Trunk trunk = CreateTrunk(f, key, "carrier secret one");
  CHECK(trunk.has_password());

  const std::string stored = StoredPassword(f.dsn, trunk.id());
  CHECK(stored.rfind("v1:", 0) == 0);
  CHECK(stored.find("carrier secret one") == std::string::npos);
  CHECK(RoutePassword(f, tenant.id()) == "carrier secret one");

  // An update that leaves the password alone keeps it; a new one is sealed afresh.
  pb::UpdateTrunkRequest ut;
  ut.set_id(trunk.id());
  ut.set_host("sip2.carrier.example");
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::UpdateTrunk, ut, &trunk).ok());
  CHECK(RoutePassword(f, tenant.id()) == "carrier secret one");
  ut.set_password("carrier secret two");
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::UpdateTrunk, ut, &trunk).ok());
  const std::string restored = StoredPassword(f.dsn, trunk.id());
  CHECK(restored.rfind("v1:", 0) == 0);
  CHECK(restored != stored);
  CHECK(RoutePassword(f, tenant.id()) == "carrier secret two");

  // The gRPC API never returns it.
  pb::GetTrunkRequest gt;
  gt.set_id(trunk.id());
  pb::Trunk got;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::GetTrunk, gt, &got).ok());
  CHECK(got.has_password());
  CHECK(got.SerializeAsString().find("carrier secret") == std::string::npos);
}

// Every cached outbound route in the fixture's Redis: key -> stored value.
std::map<std::string, std::string> CachedRoutes(AdminFixture& f) {
  auto options = redis::OptionsFromUrl(f.redis.url());
  REQUIRE(options.ok());
  redis::Client client(*options);
  auto keys = client.Run(redis::Command("KEYS").Arg("admin:lk:out:*"));
  REQUIRE(keys.ok());
  std::map<std::string, std::string> routes;
  REQUIRE(keys->array());
  for (const auto& k : *keys->array()) {
    auto value = client.Run(redis::Command("GET").Key(*k.str()));
    REQUIRE(value.ok());
    REQUIRE(value->str());
    routes[*k.str()] = *value->str();
  }
  return routes;
}

double CacheHits(core::MetricsRegistry& metrics) {
  return metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "hit"}}).value();
}

TEST_CASE("cached route lookups hold the trunk password sealed in Redis", "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  CreateTrunk(f, key, "carrier secret one");
  f.Settle();  // no late event may drop the entry the lookup caches
  REQUIRE(RoutePassword(f, tenant.id()) == "carrier secret one");

  auto routes = CachedRoutes(f);
  REQUIRE(routes.size() == 1);
  const std::string sealed = routes.begin()->second;
  CHECK(sealed.rfind("v1:", 0) == 0);
  CHECK(sealed.find("carrier secret") == std::string::npos);

  // A replica without an in-process cache answers from the sealed Redis entry.
  f.server.reset();
  f.config.local_cache_entries = 0;
  core::MetricsRegistry metrics;
  auto replica = f.StartReplica("admin/redis-only", metrics);
  CHECK(RoutePassword(f, tenant.id()) == "carrier secret one");
  CHECK(CacheHits(metrics) == 1);

  // An entry left in clear by an older admin does not open: it is answered from the database
  // and replaced by a sealed one.
  auto options = redis::OptionsFromUrl(f.redis.url());
  REQUIRE(options.ok());
  redis::Client client(*options);
  pb::LookupOutboundRouteReply clear;
  clear.set_password("stale clear password");
  REQUIRE(
      client.Run(redis::Command("SET").Key(routes.begin()->first).Arg(clear.SerializeAsString()))
          .ok());
  CHECK(RoutePassword(f, tenant.id()) == "carrier secret one");
  CHECK(CacheHits(metrics) == 1);
  routes = CachedRoutes(f);
  REQUIRE(routes.size() == 1);
  CHECK(routes.begin()->second.rfind("v1:", 0) == 0);
  CHECK(routes.begin()->second != sealed);  // a fresh nonce
  CHECK(routes.begin()->second.find("stale clear") == std::string::npos);
}

TEST_CASE("an admin with another key cannot read the passwords and says why", "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  pb::Trunk trunk = CreateTrunk(f, key, "carrier secret");

  core::MetricsRegistry metrics;
  rpc::AdminServerConfig other = f.config;
  other.source = "admin/other-key";
  other.bootstrap_key.clear();
  other.secret_key = std::string(64, 'e');
  auto server = rpc::AdminServer::Start(other, f.bus(), f.clock, metrics, f.log);
  REQUIRE(server.ok());
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = pb::TrunkService::NewStub(channel);
  pb::GetTrunkRequest gt;
  gt.set_id(trunk.id());
  pb::Trunk got;
  grpc::Status s = Call(stub, key, &pb::TrunkService::Stub::GetTrunk, gt, &got);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find("SB_ADMIN_SECRET_KEY") != std::string::npos);
}

TEST_CASE("admin does not start without a valid secret key", "[integration]") {
  AdminFixture f;
  core::MetricsRegistry metrics;
  for (const std::string& bad : {std::string(), std::string("not-hex"), std::string(62, 'a')}) {
    rpc::AdminServerConfig c = f.config;
    c.source = "admin/no-key";
    c.secret_key = bad;
    auto server = rpc::AdminServer::Start(c, f.bus(), f.clock, metrics, f.log);
    CHECK(server.status().code() == StatusCode::kInvalidArgument);
    CHECK(server.status().message().find("SB_ADMIN_SECRET_KEY") != std::string::npos);
  }
}

TEST_CASE("passwords stored in clear by an older admin are sealed at start-up", "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  pb::Trunk trunk = CreateTrunk(f, key, "placeholder");
  {
    pqxx::connection c(f.dsn);
    pqxx::work w(c);
    w.exec_params("UPDATE admin.trunks SET password = 'legacy secret' WHERE trunk_id = $1::uuid",
                  trunk.id());
    w.commit();
  }
  core::MetricsRegistry metrics;
  auto next = f.StartReplica("admin/upgraded", metrics);
  const std::string stored = StoredPassword(f.dsn, trunk.id());
  CHECK(stored.rfind("v1:", 0) == 0);
  CHECK(stored.find("legacy secret") == std::string::npos);
  pb::GetTrunkRequest gt;
  gt.set_id(trunk.id());
  pb::Trunk got;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::GetTrunk, gt, &got).ok());
  CHECK(got.has_password());
}

}  // namespace
}  // namespace sb::admin
