// Bus benchmarks over loopback NATS, against a nats-server of its own (sb::testing::NatsServer,
// JetStream on file storage). Fixed, bounded message counts; prints one markdown table row per
// figure, to paste into bench/RESULTS.md.
//
//   build-x/bench/bus/bench_bus            # full counts
//   build-x/bench/bus/bench_bus --quick    # a tenth of them
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "switchboard/bus/nats_bus.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sb::bus::JsMessage;
using sb::bus::Message;

int g_window = 512;  // --window W (with --jetstream)

std::unique_ptr<sb::bus::NatsBus> Connect(const std::string& url, const char* name,
                                          bool send_asap) {
  sb::bus::NatsBusOptions options;
  options.send_asap = send_asap;
  options.url = url;
  options.name = name;
  options.js_publish_window = g_window;
  auto bus = sb::bus::NatsBus::Connect(options);
  if (!bus.ok()) {
    std::fprintf(stderr, "connect: %s\n", bus.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*bus);
}

void Check(const sb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

void Row(const char* figure, const std::string& value, const std::string& detail) {
  std::printf("| %s | %s | %s |\n", figure, value.c_str(), detail.c_str());
  std::fflush(stdout);
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Counts deliveries and lets the main thread wait for a number of them.
class Counter {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    if (++n_ >= target_) cv_.notify_all();
  }
  bool WaitFor(uint64_t target, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    target_ = target;
    return cv_.wait_for(lock, timeout, [&] { return n_ >= target_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t n_ = 0;
  uint64_t target_ = UINT64_MAX;
};

void RequestReply(sb::bus::NatsBus& client, sb::bus::NatsBus& server, int n, const char* mode) {
  const std::string subject = "bench.rr." + std::to_string(std::hash<std::string>()(mode));
  auto responder = server.Subscribe(subject, "bench", [&](const Message& m) {
    (void)server.Publish({.subject = m.reply, .data = m.data});
  });
  Check(responder.status(), "subscribe");
  Check(server.Flush(2s), "flush");
  const std::string body(128, 'x');
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n + 500; ++i) {
    const auto t0 = Clock::now();
    auto reply = client.Request({.subject = subject, .data = body}, 2s);
    const auto t1 = Clock::now();
    Check(reply.status(), "request");
    if (i >= 500) us.push_back(Micros(t1 - t0));  // the first 500 warm up
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[static_cast<size_t>(p * (us.size() - 1))]; };
  Row((std::string("request/reply latency p50 / p90 / p99 / max (128 B, two connections, ") + mode +
       ")")
          .c_str(),
      Fmt("%.0f", pct(0.5)) + " / " + Fmt("%.0f", pct(0.9)) + " / " + Fmt("%.0f", pct(0.99)) +
          " / " + Fmt("%.0f us", us.back()),
      std::to_string(n) + " sequential requests");
}

void CorePublish(sb::bus::NatsBus& publisher, sb::bus::NatsBus& subscriber, int n,
                 const std::string& mode) {
  Counter received;
  const std::string subject = "bench.core." + std::to_string(std::hash<std::string>()(mode));
  auto sub = subscriber.Subscribe(subject, "", [&](const Message&) { received.Add(); });
  Check(sub.status(), "subscribe");
  Check(subscriber.Flush(2s), "flush");
  const std::string body(128, 'x');
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    Check(publisher.Publish({.subject = subject, .data = body}), "publish");
  Check(publisher.Flush(30s), "flush");
  const auto t_pub = Clock::now();
  const bool all = received.WaitFor(n, 60s);
  const auto t_recv = Clock::now();
  Row(("core publish, publisher side (128 B, " + mode + ")").c_str(),
      Fmt("%.0f msg/s", n / Seconds(t_pub - t0)),
      std::to_string(n) + " messages, until the server has them (flush)");
  Row(("core publish -> subscriber, end to end (128 B, " + mode + ")").c_str(),
      all ? Fmt("%.0f msg/s", n / Seconds(t_recv - t0)) : std::string("INCOMPLETE"),
      std::to_string(n) + " messages; a slow subscriber may drop (core NATS is at most once)");
}

std::vector<sb::bus::JsOutbound> Outbound(int n, const std::string& prefix) {
  std::vector<sb::bus::JsOutbound> out;
  out.reserve(n);
  const std::string body(256, 'e');
  for (int i = 0; i < n; ++i) {
    out.push_back({.message = {.subject = "bench.evt.call.ended", .data = body},
                   .msg_id = prefix + std::to_string(i)});
  }
  return out;
}

void JetStream(sb::bus::NatsBus& bus, int n_sync, int n_async, int n_consume) {
  sb::bus::StreamConfig config;
  config.name = "BENCH";
  config.subjects = {"bench.evt.>"};
  config.storage = sb::bus::Storage::kFile;
  Check(bus.EnsureStream(config), "stream");

  auto sync_msgs = Outbound(n_sync, "s-");
  auto t0 = Clock::now();
  for (const auto& m : sync_msgs) Check(bus.JsPublish(m, 10s).status(), "js publish");
  Row("JetStream publish, sync (one ack at a time, 256 B, file, msg id)",
      Fmt("%.0f msg/s", n_sync / Seconds(Clock::now() - t0)), std::to_string(n_sync) + " messages");

  auto async_msgs = Outbound(n_async, "a-");
  t0 = Clock::now();
  auto results = bus.JsPublishAll(async_msgs, 120s);
  const auto elapsed = Clock::now() - t0;
  for (const auto& r : results) Check(r.status(), "js publish all");
  Row(("JetStream publish with ack, JsPublishAll window " + std::to_string(g_window) +
       " (256 B, file, msg id)")
          .c_str(),
      Fmt("%.0f msg/s", n_async / Seconds(elapsed)),
      std::to_string(n_async) + " messages, every ack received");

  for (bool sync_ack : {true, false}) {
    Counter done;
    const int total = std::min(n_consume, n_sync + n_async);
    const std::string durable = sync_ack ? "bench_sync" : "bench_nowait";
    t0 = Clock::now();
    auto consumer =
        bus.Consume({.stream = "BENCH", .durable = durable, .fetch_batch = 256}, [&](JsMessage& m) {
          Check(sync_ack ? m.Ack() : m.AckNoWait(), "ack");
          done.Add();
        });
    Check(consumer.status(), "consume");
    const bool all = done.WaitFor(total, 120s);
    const auto took = Clock::now() - t0;
    consumer->reset();
    Row(sync_ack ? "durable consume, Ack (waits for the server's confirmation)"
                 : "durable consume, AckNoWait",
        all ? Fmt("%.0f msg/s", total / Seconds(took)) : std::string("INCOMPLETE"),
        std::to_string(total) + " messages, fetch batch 256");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int scale = quick ? 10 : 1;
  auto server = sb::testing::NatsServer::Start();
  if (argc > 2 && std::strcmp(argv[1], "--jetstream") == 0) {  // JetStream figures only, N each
    const int n = std::atoi(argv[2]);
    if (argc > 4 && std::strcmp(argv[3], "--window") == 0) g_window = std::atoi(argv[4]);
    auto a = Connect(server.url(), "bench-js", /*send_asap=*/true);
    std::printf("| figure | result | detail |\n|---|---|---|\n");
    JetStream(*a, std::min(n, 5000), n, n);
    return 0;
  }
  std::printf("| figure | result | detail |\n|---|---|---|\n");
  {
    auto a = Connect(server.url(), "bench-a", /*send_asap=*/true);
    auto b = Connect(server.url(), "bench-b", /*send_asap=*/true);
    RequestReply(*a, *b, 20000 / scale, "send_asap, the default");
    CorePublish(*a, *b, 500000 / scale, "send_asap, the default");
    JetStream(*a, 5000 / scale, 100000 / scale, 50000 / scale);
  }
  auto a = Connect(server.url(), "bench-batched-a", /*send_asap=*/false);
  auto b = Connect(server.url(), "bench-batched-b", /*send_asap=*/false);
  RequestReply(*a, *b, 20000 / scale, "send_asap off");
  CorePublish(*a, *b, 500000 / scale, "send_asap off");
  return 0;
}
