// bench_admin_lookup: credential lookups (sb.cmd.admin.lookup_credentials) over NATS request/reply
// against a running AdminServer whose Redis cache is warm, from C client threads, each with its
// own NATS connection, as registrar replicas would send them.
//
//   bench_admin_lookup [--clients N] [--workers W] [--seconds S] [--extensions E] [--local L]
//
// --local is the size of admin's in-process lookup cache (0: off, every hit is a Redis GET).
//
// Starts private nats-server, redis-server and PostgreSQL (libs/testing), onboards one tenant
// with E extensions through the real provisioning path, warms the cache with one lookup per
// extension, then runs the clients for S seconds and prints lookups/s and p50/p90/p99/max.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "rpc/admin_server.h"
#include "rpc/lookup_server.h"
#include "switchboard/admin/v1/extension.grpc.pb.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/admin/v1/tenant.grpc.pb.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/typed.h"
#include "switchboard/testing/servers.h"

namespace {

namespace pb = ::switchboard::admin::v1;
using Clock = std::chrono::steady_clock;

int Flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

std::unique_ptr<sb::bus::Bus> Connect(const std::string& url) {
  sb::bus::NatsBusOptions options;
  options.url = url;
  auto bus = sb::bus::NatsBus::Connect(options);
  if (!bus.ok()) {
    std::cerr << "nats: " << bus.status().ToString() << "\n";
    std::exit(1);
  }
  return std::move(*bus);
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = Flag(argc, argv, "--clients", 8);
  const int workers = Flag(argc, argv, "--workers", 4);
  const int seconds = Flag(argc, argv, "--seconds", 10);
  const int extensions = Flag(argc, argv, "--extensions", 200);
  const int local_entries = Flag(argc, argv, "--local", 100000);
  const std::string platform_key = "sbk_" + std::string(43, 'B');

  auto nats = sb::testing::NatsServer::Start();
  auto redis = sb::testing::RedisServer::Start();
  auto pg = sb::testing::PostgresServer::Start();
  sb::core::SystemClock clock;
  sb::core::MetricsRegistry metrics;
  std::ostringstream quiet;
  sb::core::Logger log("admin-bench", quiet, sb::core::LogLevel::kError, clock);
  auto server_bus = Connect(nats.url());
  sb::admin::rpc::AdminServerConfig config;
  config.pg_dsn = pg.dsn();
  config.redis_url = redis.url();
  config.platform_domain = "sip.bench.example";
  config.bootstrap_key = platform_key;
  config.migrations_dir = ADMIN_MIGRATIONS_DIR;
  config.secret_key = std::string(64, '7');
  config.lookup_workers = workers;
  config.rate_limit_per_second = 1000000;
  config.cache_ttl_ms = 600000;
  config.local_cache_entries = local_entries;
  config.local_cache_ttl_ms = 600000;
  auto server = sb::admin::rpc::AdminServer::Start(config, *server_bus, clock, metrics, log);
  if (!server.ok()) {
    std::cerr << "admin: " << server.status().ToString() << "\n";
    return 1;
  }

  // Provision through the public API, as an operator would.
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto tenants = pb::TenantService::NewStub(channel);
  auto exts = pb::ExtensionService::NewStub(channel);
  pb::CreateTenantResponse onboarded;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + platform_key);
    pb::CreateTenantRequest req;
    req.set_slug("bench");
    req.set_max_extensions(extensions + 1);
    if (!tenants->CreateTenant(&ctx, req, &onboarded).ok()) return 1;
  }
  for (int i = 0; i < extensions; ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + onboarded.first_api_key().secret());
    pb::CreateExtensionRequest req;
    req.set_number(std::to_string(10000 + i));
    req.set_password("bench-password");
    pb::Extension ext;
    if (!exts->CreateExtension(&ctx, req, &ext).ok()) return 1;
  }

  auto subject = *sb::admin::rpc::LookupSubject("lookup_credentials");
  auto lookup = [&](sb::bus::Bus& bus, int i) {
    pb::LookupCredentialsRequest req;
    req.set_sip_domain("bench.sip.bench.example");
    req.set_sip_username(std::to_string(10000 + i % extensions));
    return sb::bus::RequestProto<pb::LookupCredentialsReply>(bus, subject, req,
                                                             std::chrono::seconds(2));
  };
  {
    auto warm_bus = Connect(nats.url());
    for (int i = 0; i < extensions; ++i) {
      auto r = lookup(*warm_bus, i);
      if (!r.ok() || r->ha1_md5().empty()) {
        std::cerr << "warm-up lookup failed\n";
        return 1;
      }
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failures{0};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto bus = Connect(nats.url());
      for (int i = c; !stop.load(std::memory_order_relaxed); i += clients) {
        const auto t0 = Clock::now();
        auto r = lookup(*bus, i);
        const auto t1 = Clock::now();
        if (!r.ok() || r->ha1_md5().empty()) failures.fetch_add(1);
        latencies[c].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measurement window
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[size_t(p * (all.size() - 1))]; };
  const double hits =
      metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "hit"}}).value();
  const double misses =
      metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "miss"}}).value();
  std::printf("clients=%d workers=%d seconds=%.1f extensions=%d\n", clients, workers, elapsed,
              extensions);
  std::printf("lookups=%zu failures=%llu throughput=%.0f/s\n", all.size(),
              static_cast<unsigned long long>(failures.load()), all.size() / elapsed);
  std::printf("latency_us p50=%.0f p90=%.0f p99=%.0f max=%.0f\n", pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());
  const double local_hits = metrics.Counter("sb_admin_lookup_local_hits_total", "").value();
  std::printf("cache hits=%.0f (in-process %.0f) misses=%.0f local_cache_entries=%d\n", hits,
              local_hits, misses, local_entries);
  (*server)->Stop();
  return failures.load() == 0 ? 0 : 1;
}
