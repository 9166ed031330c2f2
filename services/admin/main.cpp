// sb-admin: the admin service. Composition root only: settings, bus, the AdminServer (database,
// cache, gRPC API, NATS lookups), the ops HTTP server; then wait for SIGTERM and drain.
#include <unistd.h>

#include "domain/secret_box.h"
#include "rpc/admin_server.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/core/http_server.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/settings.h"
#include "switchboard/core/shutdown.h"

namespace {

sb::Status IsDomain(std::string_view v) {
  if (v.empty() || v.find_first_of(" /:@") != std::string_view::npos || v.front() == '.' ||
      v.back() == '.') {
    return sb::Status::InvalidArgument("a DNS domain such as sip.example.com");
  }
  return sb::Status::Ok();
}

sb::Status IsKeyOrEmpty(std::string_view v) {
  if (v.empty() || (v.size() == 47 && v.substr(0, 4) == "sbk_")) return sb::Status::Ok();
  return sb::Status::InvalidArgument("empty, or sbk_ followed by 43 base64url characters");
}

sb::Status IsSecretKey(std::string_view v) { return sb::admin::SecretBox::FromHexKey(v).status(); }

}  // namespace

int main(int argc, char** argv) {
  sb::core::ShutdownSignal shutdown;
  const sb::core::SettingSpec kSpecs[] = {
      sb::core::NatsUrlSetting(),
      sb::core::PostgresDsnSetting(),
      sb::core::RedisUrlSetting(),
      sb::core::HttpPortSetting("8081"),
      sb::core::LogLevelSetting(),
      {"grpc-addr", "SB_ADMIN_GRPC_ADDR", "gRPC listen address", "127.0.0.1:7100",
       sb::core::IsHostPort},
      {"platform-domain", "SB_ADMIN_PLATFORM_DOMAIN",
       "tenants get SIP domain <slug>.<platform domain>", std::nullopt, IsDomain},
      {"bootstrap-key", "SB_ADMIN_BOOTSTRAP_KEY", "platform API key to create at first start", "",
       IsKeyOrEmpty},
      {"migrations-dir", "SB_ADMIN_MIGRATIONS_DIR", "directory of admin's SQL migrations",
       SB_ADMIN_DEFAULT_MIGRATIONS_DIR, sb::core::IsNonEmpty},
      {"pg-connections", "SB_ADMIN_PG_CONNECTIONS", "Postgres connection pool size", "8",
       sb::core::IsPositiveInt},
      {"lookup-workers", "SB_ADMIN_LOOKUP_WORKERS", "NATS lookup workers (each a Redis conn)", "4",
       sb::core::IsPositiveInt},
      {"lookup-max-waiting", "SB_ADMIN_LOOKUP_MAX_WAITING",
       "lookups waiting for a worker (cache miss) before more are refused UNAVAILABLE", "10000",
       sb::core::IsPositiveInt},
      {"rate-limit", "SB_ADMIN_RATE_LIMIT", "gRPC requests per second per API key", "100",
       sb::core::IsPositiveInt},
      {"cache-ttl-ms", "SB_ADMIN_CACHE_TTL_MS", "lookup cache entry lifetime", "60000",
       sb::core::IsPositiveInt},
      {"secret-key", "SB_ADMIN_SECRET_KEY",
       "64 hex digits: AES-256-GCM key for trunk passwords at rest (openssl rand -hex 32)",
       std::nullopt, IsSecretKey},
      {"outbox-poll-ms", "SB_ADMIN_OUTBOX_POLL_MS", "outbox relay pass interval", "500",
       sb::core::IsPositiveInt},
      {"replica", "SB_ADMIN_REPLICA",
       "this replica's name (its event consumer); empty: the host name", "", nullptr},
  };
  auto settings = sb::core::LoadSettingsOrExit("sb-admin", kSpecs, argc, argv);
  sb::core::Logger log("admin", sb::core::ParseLogLevel(settings.Get("log-level")));
  sb::core::SystemClock clock;
  sb::core::MetricsRegistry metrics;

  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  sb::bus::NatsBusOptions bus_options;
  bus_options.url = settings.Get("nats-url");
  bus_options.name = std::string("admin/") + host;
  auto bus = sb::bus::NatsBus::Connect(bus_options);
  if (!bus.ok()) {
    log.Error("cannot connect to NATS", {{"error", bus.status().ToString()}});
    return 1;
  }

  sb::admin::rpc::AdminServerConfig config;
  config.pg_dsn = settings.Get("pg-dsn");
  config.redis_url = settings.Get("redis-url");
  config.grpc_address = settings.Get("grpc-addr");
  config.platform_domain = settings.Get("platform-domain");
  config.bootstrap_key = settings.Get("bootstrap-key");
  config.migrations_dir = settings.Get("migrations-dir");
  config.secret_key = settings.Get("secret-key");
  const std::string replica = settings.Get("replica");
  config.source = "admin/" + (replica.empty() ? std::string(host) : replica);
  config.pg_connections = static_cast<int>(settings.GetInt("pg-connections"));
  config.lookup_workers = static_cast<int>(settings.GetInt("lookup-workers"));
  config.lookup_max_waiting = settings.GetInt("lookup-max-waiting");
  config.rate_limit_per_second = settings.GetInt("rate-limit");
  config.cache_ttl_ms = settings.GetInt("cache-ttl-ms");
  config.outbox_poll_ms = settings.GetInt("outbox-poll-ms");
  auto server = sb::admin::rpc::AdminServer::Start(config, **bus, clock, metrics, log);
  if (!server.ok()) {
    log.Error("cannot start", {{"error", server.status().ToString()}});
    return 1;
  }

  sb::core::OpsServer ops(metrics, [&] { return (*server)->Ready(); });
  auto http_port = ops.Start("0.0.0.0", static_cast<int>(settings.GetInt("http-port")));
  if (!http_port.ok()) {
    log.Error("cannot serve HTTP", {{"error", http_port.status().ToString()}});
    return 1;
  }
  log.Info("admin started", {{"grpc_port", (*server)->grpc_port()}, {"http_port", *http_port}});

  shutdown.Wait();
  log.Info("draining", {{"signal", shutdown.signal()}});
  (*server)->Stop();
  ops.Stop();
  log.Info("stopped");
  return 0;
}
