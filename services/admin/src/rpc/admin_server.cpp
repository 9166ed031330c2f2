#include "rpc/admin_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>

#include "cache/lookup_cache.h"
#include "cache/redis_rate_limiter.h"
#include "domain/lookups.h"
#include "domain/provisioning.h"
#include "rpc/admin_services.h"
#include "rpc/change_publisher.h"
#include "rpc/lookup_server.h"
#include "rpc/outbox_relay.h"
#include "store/pg_repositories.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/bus/streams.h"
#include "switchboard/pg/transaction.h"
#include "switchboard/redis/client.h"

namespace sb::admin::rpc {

struct AdminServer::Parts {
  Parts(const AdminServerConfig& c, bus::Bus& b, const core::Clock& clk, core::MetricsRegistry& m,
        const core::Logger& l, redis::ClientOptions redis_options, SecretBox secret_box)
      : config(c),
        bus(b),
        clock(clk),
        metrics(m),
        log(l),
        ids(clock),
        pool({.dsn = c.pg_dsn, .max_connections = std::max(1, c.pg_connections)}),
        event_factory(clock, ids, c.source),
        encoder(event_factory),
        box(secret_box),
        tenants(pool, &encoder),
        keys(pool),
        extensions(pool, &encoder),
        numbers(pool, &encoder),
        trunks(pool, box, &encoder),
        audit_log(pool),
        redis_options(std::move(redis_options)),
        limiter_redis(this->redis_options),
        cache_redis(this->redis_options),
        limiter(limiter_redis, clock, c.rate_limit_per_second, log),
        local(clock,
              {.max_entries = static_cast<size_t>(std::max<int64_t>(0, c.local_cache_entries)),
               .ttl = std::chrono::milliseconds(c.local_cache_ttl_ms)}),
        cache(cache_redis, std::chrono::milliseconds(c.cache_ttl_ms), box, &local),
        publisher(
            cache,
            [this] {
              if (relay) relay->Nudge();
            },
            metrics, log),
        provisioning(ProvisioningConfig{.platform_domain = c.platform_domain},
                     ProvisioningDeps{tenants, keys, extensions, numbers, trunks, publisher, clock,
                                      ids, random}),
        audit_reader(audit_log),
        lookups(tenants, extensions, numbers, trunks),
        gate(provisioning, limiter, metrics, log),
        services(provisioning, audit_reader, gate) {}

  AdminServerConfig config;
  bus::Bus& bus;
  const core::Clock& clock;
  core::MetricsRegistry& metrics;
  const core::Logger& log;
  core::UuidV7Generator ids;
  core::OpenSslRandom random;
  pg::Pool pool;
  bus::EventFactory event_factory;
  ProtoEventEncoder encoder;
  SecretBox box;
  PgTenantRepository tenants;
  PgApiKeyRepository keys;
  PgExtensionRepository extensions;
  PgNumberRepository numbers;
  PgTrunkRepository trunks;
  PgAuditLogRepository audit_log;
  redis::ClientOptions redis_options;
  redis::Client limiter_redis;
  redis::Client cache_redis;
  RedisRateLimiter limiter;
  LocalLookupCache local;
  LookupCache cache;
  ChangePublisher publisher;
  Provisioning provisioning;
  AuditLogReader audit_reader;
  Lookups lookups;
  Gate gate;
  AdminServices services;
  std::unique_ptr<OutboxRelay> relay;
  std::unique_ptr<CacheInvalidator> invalidator;
  std::unique_ptr<LookupServer> lookup_server;
  std::unique_ptr<grpc::Server> grpc;
  int port = 0;
};

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminServerConfig& config,
                                                        bus::Bus& bus, const core::Clock& clock,
                                                        core::MetricsRegistry& metrics,
                                                        const core::Logger& log) {
  auto redis_options = redis::OptionsFromUrl(config.redis_url, "admin:");
  if (!redis_options.ok()) return redis_options.status();
  auto box = SecretBox::FromHexKey(config.secret_key);
  if (!box.ok()) return box.status();
  auto parts = std::make_unique<Parts>(config, bus, clock, metrics, log, *redis_options, *box);

  Status migrated = ApplyAdminMigrations(parts->pool, config.migrations_dir);
  if (!migrated.ok()) return migrated;
  SB_RETURN_IF_ERROR(parts->trunks.SealLegacyPasswords());
  if (!config.bootstrap_key.empty()) {
    SB_RETURN_IF_ERROR(parts->provisioning.EnsureBootstrapKey(config.bootstrap_key));
  }
  SB_RETURN_IF_ERROR(bus.EnsureStream(bus::EventsStream()));
  // Consuming first, so that this replica also hears the events its own relay sends first.
  auto invalidator = CacheInvalidator::Start(bus, parts->cache, config.source, metrics, log);
  if (!invalidator.ok()) return invalidator.status();
  parts->invalidator = std::move(*invalidator);
  // Events left in the outbox by a previous run (crash, NATS outage) go out first.
  parts->relay = OutboxRelay::Start(
      parts->pool, bus,
      {.poll = std::chrono::milliseconds(std::max<int64_t>(10, config.outbox_poll_ms))}, metrics,
      log);

  auto lookup_server = LookupServer::Start(
      bus, parts->lookups, parts->redis_options, parts->box,
      {.workers = config.lookup_workers,
       .max_waiting = static_cast<size_t>(std::max<int64_t>(0, config.lookup_max_waiting)),
       .cache_ttl = std::chrono::milliseconds(config.cache_ttl_ms),
       .local = &parts->local},
      metrics, log);
  if (!lookup_server.ok()) return lookup_server.status();
  parts->lookup_server = std::move(*lookup_server);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.grpc_address, grpc::InsecureServerCredentials(), &parts->port);
  parts->services.Register(builder);
  parts->grpc = builder.BuildAndStart();
  if (!parts->grpc || parts->port == 0) {
    return Status::Unavailable("cannot listen for gRPC on " + config.grpc_address);
  }
  parts->grpc->GetHealthCheckService()->SetServingStatus(true);
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(parts)));
}

AdminServer::AdminServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

AdminServer::~AdminServer() { Stop(); }

int AdminServer::grpc_port() const { return parts_->port; }

Status AdminServer::Ready() {
  return pg::RunInTransaction(parts_->pool, [](pqxx::transaction_base& w) {
    w.exec("SELECT 1");
    return Status::Ok();
  });
}

void AdminServer::Stop() {
  if (parts_->grpc) {
    parts_->grpc->GetHealthCheckService()->SetServingStatus(false);
    // In-flight RPCs get a few seconds to finish; new ones are refused at once.
    parts_->grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    parts_->grpc->Wait();
    parts_->grpc.reset();
  }
  parts_->lookup_server.reset();
  parts_->invalidator.reset();
  parts_->relay.reset();
}

bool AdminServer::WaitOutboxEmpty(std::chrono::steady_clock::duration timeout) {
  return parts_->relay && parts_->relay->WaitUntilEmpty(timeout);
}

uint64_t AdminServer::CacheEventsApplied() const {
  return parts_->invalidator ? parts_->invalidator->applied() : 0;
}

bool AdminServer::WaitCacheEventsApplied(uint64_t count,
                                         std::chrono::steady_clock::duration timeout) {
  return parts_->invalidator && parts_->invalidator->WaitApplied(count, timeout);
}

Result<int64_t> AdminServer::OutboxPending() {
  if (!parts_->relay) return Status::FailedPrecondition("the server is stopped");
  return parts_->relay->Pending();
}

}  // namespace sb::admin::rpc
