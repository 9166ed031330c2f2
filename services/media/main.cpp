// sb-media: the media node. Composition root only: settings, bus, node, command server, load
// reports, ops server; then wait for SIGTERM and drain.
#include <csignal>
#include <filesystem>
#include <thread>

#include "net/media_node.h"
#include "rpc/command_server.h"
#include "rpc/event_publisher.h"
#include "rpc/load_reporter.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/core/http_server.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/settings.h"
#include "switchboard/core/shutdown.h"

namespace {

sb::Status IsIpv4(std::string_view v) {
  if (!sb::media::ParseIpv4(std::string(v)).ok()) {
    return sb::Status::InvalidArgument("an IPv4 address such as 127.0.0.1");
  }
  return sb::Status::Ok();
}

sb::Status IsToken(std::string_view v) { return sb::bus::subjects::ValidateToken(v, "node id"); }

}  // namespace

int main(int argc, char** argv) {
  sb::core::ShutdownSignal shutdown;
  const sb::core::SettingSpec kSpecs[] = {
      sb::core::NatsUrlSetting(),
      sb::core::HttpPortSetting("8086"),
      sb::core::LogLevelSetting(),
      {"node-id", "SB_MEDIA_NODE_ID", "this node's id in command subjects", std::nullopt, IsToken},
      {"bind-addr", "SB_MEDIA_BIND_ADDR", "address RTP sockets bind to", "0.0.0.0", IsIpv4},
      {"advertised-addr", "SB_MEDIA_ADVERTISED_ADDR", "address written into SDP", std::nullopt,
       IsIpv4},
      {"port-min", "SB_MEDIA_PORT_MIN", "lowest RTP port", "30000", sb::core::IsPort},
      {"port-max", "SB_MEDIA_PORT_MAX", "highest RTP port", "39999", sb::core::IsPort},
      {"recordings-dir", "SB_MEDIA_RECORDINGS_DIR", "where recordings are written",
       "/var/lib/switchboard/recordings", sb::core::IsNonEmpty},
      {"workers", "SB_MEDIA_WORKERS", "event loops (0: one per core)", "0", nullptr},
      {"load-interval-ms", "SB_MEDIA_LOAD_INTERVAL_MS", "how often load is reported", "2000",
       sb::core::IsPositiveInt},
      {"drain-seconds", "SB_MEDIA_DRAIN_SECONDS", "how long SIGTERM waits for calls to end", "30",
       sb::core::IsPositiveInt},
  };
  auto settings = sb::core::LoadSettingsOrExit("sb-media", kSpecs, argc, argv);
  sb::core::Logger log("media", sb::core::ParseLogLevel(settings.Get("log-level")));
  const std::string node_id = settings.Get("node-id");
  log = log.With({{"node_id", node_id}});

  std::error_code ec;
  std::filesystem::create_directories(settings.Get("recordings-dir"), ec);
  if (ec) {
    log.Error("cannot create SB_MEDIA_RECORDINGS_DIR", {{"error", ec.message()}});
    return 2;
  }
  int workers = static_cast<int>(settings.GetInt("workers"));
  if (workers <= 0) workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  sb::core::SystemClock clock;
  sb::core::UuidV7Generator ids(clock);
  sb::core::MetricsRegistry metrics;
  sb::bus::NatsBusOptions bus_options;
  bus_options.url = settings.Get("nats-url");
  bus_options.name = "media/" + node_id;
  // Replies and leg statistics go out in the flusher's batches: cheaper for this node and
  // nats-server on a busy call path, for about 1 ms more per reply (bench/RESULTS.md, session 9).
  bus_options.send_asap = false;
  auto bus = sb::bus::NatsBus::Connect(bus_options);
  if (!bus.ok()) {
    log.Error("cannot connect to NATS", {{"error", bus.status().ToString()}});
    return 1;
  }

  sb::media::EventPublisher events(**bus, clock, ids, node_id, metrics);
  sb::media::NodeOptions options{.node_id = node_id,
                                 .bind_address = settings.Get("bind-addr"),
                                 .advertised_address = settings.Get("advertised-addr"),
                                 .port_min = static_cast<uint16_t>(settings.GetInt("port-min")),
                                 .port_max = static_cast<uint16_t>(settings.GetInt("port-max")),
                                 .recordings_dir = settings.Get("recordings-dir"),
                                 .workers = workers};
  sb::media::MediaNode node(options, clock, events, metrics, ids);
  if (auto s = node.Start(); !s.ok()) {
    log.Error("cannot start the media workers", {{"error", s.ToString()}});
    return 1;
  }
  sb::media::CommandServer commands(**bus, node, metrics);
  if (auto s = commands.Start(); !s.ok()) {
    log.Error("cannot subscribe to commands", {{"error", s.ToString()}});
    return 1;
  }
  sb::media::LoadReporter load(**bus, node, clock,
                               std::chrono::milliseconds(settings.GetInt("load-interval-ms")));
  load.Start();

  sb::core::OpsServer ops(metrics, [&] {
    return node.Load().draining ? sb::Status::Unavailable("draining") : sb::Status::Ok();
  });
  auto http_port = ops.Start("0.0.0.0", static_cast<int>(settings.GetInt("http-port")));
  if (!http_port.ok()) {
    log.Error("cannot serve the ops port", {{"error", http_port.status().ToString()}});
    return 1;
  }
  log.Info("media node ready", {{"http_port", *http_port},
                                {"workers", workers},
                                {"ports", static_cast<int64_t>(node.Load().capacity)}});

  shutdown.Wait();
  // Drain: callers see draining=true at once and send no new legs; calls in progress get until
  // the drain deadline to end (their legs destroyed by their owners), then the rest are cut.
  node.SetDraining();
  (void)load.PublishNow();
  const auto deadline = clock.Now() + std::chrono::seconds(settings.GetInt("drain-seconds"));
  while (node.Load().legs > 0 && clock.Now() < deadline && shutdown.signal() != SIGINT) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  log.Info("draining done", {{"legs_cut", static_cast<int64_t>(node.Load().legs)}});
  load.Stop();
  commands.Stop();
  node.Stop();  // final events of remaining legs
  (void)(*bus)->Flush(std::chrono::seconds(2));
  ops.Stop();
  return 0;
}
