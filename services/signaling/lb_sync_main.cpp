// sb-lb-sync: runs next to the Kamailio balancer (deploy/kamailio) and keeps its dispatcher list
// to the sb-signaling replicas alive now (balancer/list_sync.h), one pass every interval until
// SIGTERM.
#include <chrono>
#include <thread>

#include "balancer/list_sync.h"
#include "store/redis_call_owners.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/settings.h"
#include "switchboard/core/shutdown.h"
#include "switchboard/redis/client.h"

int main(int argc, char** argv) {
  sb::core::ShutdownSignal shutdown;
  const sb::core::SettingSpec kSpecs[] = {
      sb::core::RedisUrlSetting(),
      sb::core::LogLevelSetting(),
      {"redis-prefix", "SB_SIGNALING_REDIS_PREFIX",
       "the signaling replicas' Redis key prefix (theirs, the same value)",
       "signaling:", sb::core::IsNonEmpty},
      {"node-dead-ms", "SB_SIGNALING_NODE_DEAD_MS",
       "a replica without a heartbeat this long is gone (the replicas' value)", "10000",
       sb::core::IsPositiveInt},
      {"list-file", "SB_LB_LIST_FILE", "the balancer's dispatcher list (its SB_LB_LIST_FILE)",
       std::nullopt, sb::core::IsNonEmpty},
      {"ctl-socket", "SB_LB_CTL_SOCKET",
       "the balancer's control socket (its SB_LB_CTL_SOCKET, unix:/path)", std::nullopt,
       sb::core::IsNonEmpty},
      {"interval-ms", "SB_LB_SYNC_INTERVAL_MS", "how often the replicas are looked at", "1000",
       sb::core::IsPositiveInt},
  };
  auto settings = sb::core::LoadSettingsOrExit("sb-lb-sync", kSpecs, argc, argv);
  sb::core::Logger log("lb-sync", sb::core::ParseLogLevel(settings.Get("log-level")));
  auto redis_options =
      sb::redis::OptionsFromUrl(settings.Get("redis-url"), settings.Get("redis-prefix"));
  if (!redis_options.ok()) {
    log.Error("bad Redis URL", {{"error", redis_options.status().ToString()}});
    return 2;
  }
  sb::redis::Client redis(*redis_options);
  sb::signaling::RedisCallOwners owners(redis);
  sb::core::SystemClock clock;
  sb::signaling::BalancerListSync sync(
      owners, clock, log,
      {.list_file = settings.Get("list-file"),
       .ctl_socket = settings.Get("ctl-socket"),
       .dead_after = std::chrono::milliseconds(settings.GetInt("node-dead-ms")),
       .kamcmd = "kamcmd"});
  const auto interval = std::chrono::milliseconds(settings.GetInt("interval-ms"));
  log.Info("syncing the balancer's list", {{"list_file", settings.Get("list-file")}});
  bool failing = false;
  while (!shutdown.stopping()) {
    auto synced = sync.SyncOnce();
    // One line when passes start failing and one when they work again, not one per pass.
    if (!synced.ok() && !failing) {
      log.Warn("balancer list not synced", {{"error", synced.status().ToString()}});
    } else if (synced.ok() && failing) {
      log.Info("balancer list synced again");
    }
    failing = !synced.ok();
    const auto next = std::chrono::steady_clock::now() + interval;
    while (!shutdown.stopping() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return 0;
}
