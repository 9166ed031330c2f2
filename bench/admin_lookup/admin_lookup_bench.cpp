// bench_admin_lookup: credential lookups (sb.cmd.admin.lookup_credentials) over NATS request/reply
// against a running AdminServer whose Redis cache is warm, from C client threads, each with its
// own NATS connection, as registrar replicas would send them.
//
//   bench_admin_lookup [--clients N] [--workers W] [--seconds S] [--extensions E] [--local L]
//                      [--inflight K]
//
// --local is the size of admin's in-process lookup cache (0: off, every hit is a Redis GET).
// --inflight 1 (the default) is the registrar's model: each client thread sends a blocking
// request and waits for its reply (sb-signaling runs 8 such worker threads). --inflight K > 1
// keeps K requests outstanding per client connection instead (each with its own reply subject,
// the next one sent from the reply's delivery), which is what an asynchronous caller could do;
// its latency is per request, from publish to reply.
//
// Starts private nats-server, redis-server and PostgreSQL (libs/testing), onboards one tenant
// with E extensions through the real provisioning path, warms the cache with one lookup per
// extension, then runs the clients for S seconds and prints lookups/s, p50/p90/p99/max and the
// CPU time and context switches per lookup of this process (admin and clients; nats-server,
// Redis and PostgreSQL are separate processes and not counted).
#include <sys/resource.h>

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

struct Usage {
  double cpu_seconds = 0;
  int64_t context_switches = 0;  // voluntary and involuntary, all threads of this process
};

Usage ProcessUsage() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
              static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6,
          u.ru_nvcsw + u.ru_nivcsw};
}

// One client connection with `inflight` requests outstanding: slot i waits on reply subject
// <prefix>.<i>; its reply's delivery records the latency and sends the slot's next request.
class PipelinedClient {
 public:
  PipelinedClient(sb::bus::Bus& bus, std::string subject, int id, int inflight,
                  std::function<std::string(int)> request, std::vector<double>& latencies,
                  std::atomic<uint64_t>& failures, const std::atomic<bool>& stop)
      : bus_(bus),
        subject_(std::move(subject)),
        prefix_("bench.reply." + std::to_string(id)),
        request_(std::move(request)),
        sent_at_(inflight),
        latencies_(latencies),
        failures_(failures),
        stop_(stop) {}

  bool Start() {
    auto sub =
        bus_.Subscribe(prefix_ + ".*", "", [this](const sb::bus::Message& m) { OnReply(m); });
    if (!sub.ok()) return false;
    sub_ = std::move(*sub);
    for (int slot = 0; slot < static_cast<int>(sent_at_.size()); ++slot) Send(slot);
    return true;
  }
  // Stops the deliveries; the latencies are complete afterwards.
  void Stop() { sub_.reset(); }
  // Replies still missing when stopped (at most one per slot: each slot waits for its reply).
  int Outstanding() const { return outstanding_.load(); }

 private:
  void Send(int slot) {
    sent_at_[slot] = Clock::now();
    outstanding_.fetch_add(1);
    const auto s = bus_.Publish({.subject = subject_,
                                 .reply = prefix_ + "." + std::to_string(slot),
                                 .data = request_(next_.fetch_add(1))});
    if (!s.ok()) failures_.fetch_add(1);
  }

  void OnReply(const sb::bus::Message& m) {
    const auto now = Clock::now();
    const int slot = std::atoi(m.subject.c_str() + prefix_.size() + 1);
    if (slot < 0 || slot >= static_cast<int>(sent_at_.size())) return;
    outstanding_.fetch_sub(1);
    latencies_.push_back(std::chrono::duration<double, std::micro>(now - sent_at_[slot]).count());
    pb::LookupCredentialsReply reply;
    if (!reply.ParseFromString(m.data) || reply.ha1_md5().empty()) failures_.fetch_add(1);
    if (!stop_.load(std::memory_order_relaxed)) Send(slot);
  }

  sb::bus::Bus& bus_;
  const std::string subject_;
  const std::string prefix_;
  std::function<std::string(int)> request_;
  std::vector<Clock::time_point> sent_at_;  // touched by Start, then only by the delivery thread
  std::atomic<int> next_{0};                // Start's sends may overlap the first replies
  std::vector<double>& latencies_;
  std::atomic<uint64_t>& failures_;
  const std::atomic<bool>& stop_;
  std::atomic<int> outstanding_{0};
  std::unique_ptr<sb::bus::Subscription> sub_;
};

}  // namespace

int main(int argc, char** argv) {
  const int clients = Flag(argc, argv, "--clients", 8);
  const int workers = Flag(argc, argv, "--workers", 4);
  const int seconds = Flag(argc, argv, "--seconds", 10);
  const int extensions = Flag(argc, argv, "--extensions", 200);
  const int local_entries = Flag(argc, argv, "--local", 100000);
  const int inflight = std::max(1, Flag(argc, argv, "--inflight", 1));
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
  auto request = [&](int i) {
    pb::LookupCredentialsRequest req;
    req.set_sip_domain("bench.sip.bench.example");
    req.set_sip_username(std::to_string(10000 + i % extensions));
    return req;
  };
  auto lookup = [&](sb::bus::Bus& bus, int i) {
    return sb::bus::RequestProto<pb::LookupCredentialsReply>(bus, subject, request(i),
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
  std::atomic<int> outstanding{0};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  const Usage usage_start = ProcessUsage();
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto bus = Connect(nats.url());
      if (inflight > 1) {
        PipelinedClient client(
            *bus, subject, c, inflight,
            [&, c](int i) { return request(c + i * clients).SerializeAsString(); }, latencies[c],
            failures, stop);
        if (!client.Start()) failures.fetch_add(1);
        while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        // The last replies (at most `inflight`) get a moment to arrive before the count.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        client.Stop();
        outstanding.fetch_add(client.Outstanding());
        return;
      }
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
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const Usage usage_end = ProcessUsage();
  const double cpu = usage_end.cpu_seconds - usage_start.cpu_seconds;
  const auto switches =
      static_cast<double>(usage_end.context_switches - usage_start.context_switches);
  for (auto& t : threads) t.join();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[size_t(p * (all.size() - 1))]; };
  const double hits =
      metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "hit"}}).value();
  const double misses =
      metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "miss"}}).value();
  std::printf("clients=%d inflight=%d workers=%d seconds=%.1f extensions=%d\n", clients, inflight,
              workers, elapsed, extensions);
  std::printf("lookups=%zu failures=%llu unanswered=%d throughput=%.0f/s\n", all.size(),
              static_cast<unsigned long long>(failures.load()), outstanding.load(),
              all.size() / elapsed);
  const double n = all.empty() ? 1.0 : static_cast<double>(all.size());
  std::printf(
      "cpu_s=%.2f (admin and clients, this process) cpu_us_per_lookup=%.1f "
      "context_switches_per_lookup=%.2f\n",
      cpu, cpu * 1e6 / n, switches / n);
  std::printf("latency_us p50=%.0f p90=%.0f p99=%.0f max=%.0f\n", pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());
  const double local_hits = metrics.Counter("sb_admin_lookup_local_hits_total", "").value();
  std::printf("cache hits=%.0f (in-process %.0f) misses=%.0f local_cache_entries=%d\n", hits,
              local_hits, misses, local_entries);
  (*server)->Stop();
  return failures.load() == 0 && outstanding.load() == 0 ? 0 : 1;
}
