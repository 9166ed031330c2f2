// A running admin service for integration tests: its own database on the shared PostgreSQL, a
// private nats-server and redis-server (so that lookup subjects and cache keys of tests running
// in parallel cannot meet), the AdminServer on a free port, and gRPC stubs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "rpc/admin_server.h"
#include "switchboard/admin/v1/api_key.grpc.pb.h"
#include "switchboard/admin/v1/audit.grpc.pb.h"
#include "switchboard/admin/v1/extension.grpc.pb.h"
#include "switchboard/admin/v1/number.grpc.pb.h"
#include "switchboard/admin/v1/tenant.grpc.pb.h"
#include "switchboard/admin/v1/trunk.grpc.pb.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/core/logger.h"
#include "switchboard/testing/servers.h"

namespace sb::admin::testing {

namespace pb = ::switchboard::admin::v1;

inline const std::string kPlatformKey = "sbk_" + std::string(43, 'P');
inline const std::string kSecretKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct AdminFixture {
  explicit AdminFixture(int64_t rate_limit = 10000)
      : nats(sb::testing::NatsServer::Start()),
        redis(sb::testing::RedisServer::Start()),
        log("admin-test", null_out, core::LogLevel::kError, clock) {
    bus::NatsBusOptions options;
    options.url = nats.url();
    auto b = bus::NatsBus::Connect(options);
    if (!b.ok()) throw std::runtime_error(b.status().ToString());
    bus_ = std::move(*b);
    rpc::AdminServerConfig config;
    config.pg_dsn = sb::testing::FreshDatabase("admin");
    config.redis_url = redis.url();
    config.platform_domain = "sip.test.example";
    config.bootstrap_key = kPlatformKey;
    config.migrations_dir = ADMIN_MIGRATIONS_DIR;
    config.secret_key = kSecretKey;
    config.pg_connections = 4;
    config.lookup_workers = 2;
    config.rate_limit_per_second = rate_limit;
    config.outbox_poll_ms = 100;
    dsn = config.pg_dsn;
    this->config = config;
    auto s = rpc::AdminServer::Start(config, *bus_, clock, metrics, log);
    if (!s.ok()) throw std::runtime_error(s.status().ToString());
    server = std::move(*s);
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->grpc_port()),
                                  grpc::InsecureChannelCredentials());
    tenants = pb::TenantService::NewStub(channel);
    keys = pb::ApiKeyService::NewStub(channel);
    extensions = pb::ExtensionService::NewStub(channel);
    numbers = pb::NumberService::NewStub(channel);
    trunks = pb::TrunkService::NewStub(channel);
    audit = pb::AuditService::NewStub(channel);
  }

  ~AdminFixture() {
    server.reset();
    bus_.reset();
  }

  bus::Bus& bus() { return *bus_; }

  // Waits (bounded) until every event so far is published and applied to this replica's caches:
  // an event applied late drops entries cached after the change, which a test counting cache
  // hits must not see.
  void Settle() {
    if (!server->WaitOutboxEmpty(std::chrono::seconds(20))) {
      throw std::runtime_error("outbox not drained");
    }
    const auto published =
        static_cast<uint64_t>(metrics.Counter("sb_admin_outbox_published_total", "").value());
    if (!server->WaitCacheEventsApplied(published, std::chrono::seconds(20))) {
      throw std::runtime_error("events not applied");
    }
  }

  // Another replica of admin on the same database and NATS (its own cache-invalidation consumer,
  // named after `source`), with its own Redis when redis_url is given.
  std::unique_ptr<rpc::AdminServer> StartReplica(const std::string& source,
                                                 core::MetricsRegistry& replica_metrics,
                                                 const std::string& redis_url = "") {
    rpc::AdminServerConfig c = config;
    c.source = source;
    c.bootstrap_key.clear();
    if (!redis_url.empty()) c.redis_url = redis_url;
    auto s = rpc::AdminServer::Start(c, *bus_, clock, replica_metrics, log);
    if (!s.ok()) throw std::runtime_error(s.status().ToString());
    return std::move(*s);
  }

  // Onboards a tenant through the API; returns its first key.
  std::string Onboard(const std::string& slug, pb::Tenant* out = nullptr) {
    grpc::ClientContext ctx;
    Authorize(ctx, kPlatformKey);
    pb::CreateTenantRequest req;
    req.set_slug(slug);
    pb::CreateTenantResponse resp;
    grpc::Status s = tenants->CreateTenant(&ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("onboarding " + slug + ": " + s.error_message());
    if (out) *out = resp.tenant();
    return resp.first_api_key().secret();
  }

  static void Authorize(grpc::ClientContext& ctx, const std::string& key) {
    ctx.AddMetadata("authorization", "Bearer " + key);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  sb::testing::NatsServer nats;
  sb::testing::RedisServer redis;
  core::FakeClock clock;
  std::ostringstream null_out;
  core::Logger log;
  core::MetricsRegistry metrics;
  std::string dsn;
  rpc::AdminServerConfig config;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<rpc::AdminServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::TenantService::Stub> tenants;
  std::unique_ptr<pb::ApiKeyService::Stub> keys;
  std::unique_ptr<pb::ExtensionService::Stub> extensions;
  std::unique_ptr<pb::NumberService::Stub> numbers;
  std::unique_ptr<pb::TrunkService::Stub> trunks;
  std::unique_ptr<pb::AuditService::Stub> audit;
};

// One call with a key: `Call(f, key, &Stub::Method, req, &resp)` returns the grpc::Status and
// (through field) the "sb-field" trailing metadata.
template <typename Stub, typename Req, typename Resp>
grpc::Status Call(const std::unique_ptr<Stub>& stub, const std::string& key,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Resp* resp, std::string* field = nullptr) {
  grpc::ClientContext ctx;
  if (!key.empty()) AdminFixture::Authorize(ctx, key);
  grpc::Status s = ((*stub).*method)(&ctx, req, resp);
  if (field) {
    field->clear();
    const auto& md = ctx.GetServerTrailingMetadata();
    auto it = md.find("sb-field");
    if (it != md.end()) field->assign(it->second.data(), it->second.size());
  }
  return s;
}

}  // namespace sb::admin::testing
