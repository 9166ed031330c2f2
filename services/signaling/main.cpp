// sb-signaling: the SIP signaling node. Composition root only: settings, endpoint, sockets, ops
// server; then wait for SIGTERM and drain (OPTIONS 503 so the balancer moves away, in-flight
// transactions finish, then exit).
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "b2bua/call_service.h"
#include "registrar/keepalive_service.h"
#include "registrar/registrar_service.h"
#include "routing/dns_resolver.h"
#include "switchboard/core/cidr.h"
#include "switchboard/core/http_server.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/settings.h"
#include "switchboard/core/shutdown.h"
#include "switchboard/sip/session_timer.h"
#include "transport/sip_endpoint.h"
#include "transport/sip_server.h"

namespace {

sb::Status IsNonNegativeInt(std::string_view v) {
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string_view::npos) {
    return sb::Status::InvalidArgument("a whole number, 0 or more");
  }
  return sb::Status::Ok();
}

sb::Status IsHostPortOrEmpty(std::string_view v) {
  return v.empty() ? sb::Status::Ok() : sb::core::IsHostPort(v);
}

// "a,b,c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> CommaList(std::string_view v) {
  std::vector<std::string> items;
  while (!v.empty()) {
    const size_t comma = v.find(',');
    items.emplace_back(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
  }
  return items;
}

sb::Status IsNameServerList(std::string_view v) {
  for (const auto& item : CommaList(v)) {
    if (!sb::signaling::ParseNameServer(item).ok()) {
      return sb::Status::InvalidArgument("ipv4:port, comma-separated");
    }
  }
  return sb::Status::Ok();
}

sb::Status IsCidrList(std::string_view v) {
  for (const auto& item : CommaList(v)) {
    if (!sb::core::Cidr::Parse(item).ok()) {
      return sb::Status::InvalidArgument("IPv4 or IPv6 addresses or CIDRs, comma-separated");
    }
  }
  return sb::Status::Ok();
}

// Runs `task` on the SIP loop and waits for it: tasks posted earlier have run by then.
void RunOnLoop(sb::signaling::SipServer& server, std::function<void()> task) {
  std::promise<void> done;
  server.Post([&] {
    task();
    done.set_value();
  });
  done.get_future().wait();
}

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

HostPort SplitHostPort(const std::string& v) {
  size_t colon = v.rfind(':');
  return {v.substr(0, colon), static_cast<uint16_t>(std::stoi(v.substr(colon + 1)))};
}

}  // namespace

int main(int argc, char** argv) {
  sb::core::ShutdownSignal shutdown;
  const sb::core::SettingSpec kSpecs[] = {
      sb::core::HttpPortSetting("8085"),
      sb::core::LogLevelSetting(),
      {"node-id", "SB_SIGNALING_NODE_ID", "this node's id in command subjects", std::nullopt,
       sb::core::IsNonEmpty},
      {"udp-addr", "SB_SIGNALING_UDP_ADDR", "UDP listen address (empty: none)", "0.0.0.0:5060",
       IsHostPortOrEmpty},
      {"tcp-addr", "SB_SIGNALING_TCP_ADDR", "TCP listen address (empty: none)", "0.0.0.0:5060",
       IsHostPortOrEmpty},
      {"udp-receive-buffer", "SB_SIGNALING_UDP_RECEIVE_BUFFER",
       "bytes the kernel may queue for the UDP socket (0: its default)", "4194304",
       IsNonNegativeInt},
      {"advertised-addr", "SB_SIGNALING_ADVERTISED_ADDR",
       "host:port peers reach this node at (default: the UDP address unless it is a wildcard)", "",
       IsHostPortOrEmpty},
      {"max-message-bytes", "SB_SIGNALING_MAX_MESSAGE_BYTES", "largest SIP message accepted",
       "65535", sb::core::IsPositiveInt},
      {"tcp-idle-seconds", "SB_SIGNALING_TCP_IDLE_SECONDS", "idle TCP connections are closed",
       "300", sb::core::IsPositiveInt},
      {"source-rate", "SB_SIGNALING_SOURCE_RATE",
       "messages per second from one IP address (0: no limit)", "0", IsNonNegativeInt},
      {"source-burst", "SB_SIGNALING_SOURCE_BURST", "burst above the rate (0: the rate)", "0",
       IsNonNegativeInt},
      {"trusted-proxies", "SB_SIGNALING_TRUSTED_PROXIES",
       "the balancer's addresses (CIDRs, comma-separated): a request from one is taken to come "
       "from the address its Via stamp names (bans, trunks by source, registration events); empty: "
       "none",
       "", IsCidrList},
      {"nats-url", "SB_NATS_URL", "NATS (admin lookups, events); empty: no registrar", "", {}},
      {"redis-url", "SB_REDIS_URL", "Redis (bindings, nonces, bans); empty: no registrar", "", {}},
      {"redis-prefix", "SB_SIGNALING_REDIS_PREFIX",
       "prefix of this service's Redis keys, the same on every replica of a deployment",
       "signaling:", sb::core::IsNonEmpty},
      {"nonce-secret",
       "SB_SIGNALING_NONCE_SECRET",
       "digest nonce HMAC key, the same on every replica (16+ bytes)",
       "",
       {}},
      {"digest-algorithms", "SB_SIGNALING_DIGEST_ALGORITHMS",
       "challenges offered: md5, sha-256 or both (md5,sha-256)", "md5,sha-256",
       sb::core::IsNonEmpty},
      {"account-limit", "SB_SIGNALING_ACCOUNT_LIMIT",
       "authenticated REGISTERs per account (realm + user) a minute (0: no limit)", "60",
       IsNonNegativeInt},
      {"call-account-limit", "SB_SIGNALING_CALL_ACCOUNT_LIMIT",
       "new calls (authenticated INVITEs) per account a minute (0: no limit)", "600",
       IsNonNegativeInt},
      {"admin-cache-ms", "SB_SIGNALING_ADMIN_CACHE_MS",
       "longest admin lookup answers are kept (admin's change events drop them sooner; 0: none)",
       "10000", IsNonNegativeInt},
      {"lapse-sweep-ms", "SB_SIGNALING_LAPSE_SWEEP_MS",
       "how often this node looks for bindings that lapsed without a REGISTER (expired events)",
       "5000", sb::core::IsPositiveInt},
      {"sweep-lease-ms", "SB_SIGNALING_SWEEP_LEASE_MS",
       "how long a lapse this node claimed, or a registration event it parked in Redis, is its own "
       "before another replica reports it (below JetStream's 2-minute duplicate window)",
       "30000", sb::core::IsPositiveInt},
      {"keepalive-seconds", "SB_SIGNALING_KEEPALIVE_SECONDS",
       "OPTIONS ping interval for phones registered through this node behind NAT (0: none)", "30",
       IsNonNegativeInt},
      {"keepalive-timeout-ms", "SB_SIGNALING_KEEPALIVE_TIMEOUT_MS",
       "a ping not answered within this is a failure", "32000", sb::core::IsPositiveInt},
      {"keepalive-failures", "SB_SIGNALING_KEEPALIVE_FAILURES",
       "failed pings in a row before the binding is removed (expired event)", "1",
       sb::core::IsPositiveInt},
      {"drain-seconds", "SB_SIGNALING_DRAIN_SECONDS", "longest SIGTERM waits for work to end", "30",
       sb::core::IsPositiveInt},
      {"no-answer-seconds", "SB_SIGNALING_NO_ANSWER_SECONDS",
       "a call nobody answers this long is cancelled (480)", "30", sb::core::IsPositiveInt},
      {"silent-contact-ms", "SB_SIGNALING_SILENT_CONTACT_MS",
       "a callee's contact that answers nothing (not even 100) this long is given up, the others "
       "ring on",
       "5000", sb::core::IsPositiveInt},
      {"rtp-timeout-seconds", "SB_SIGNALING_RTP_TIMEOUT_SECONDS",
       "an answered call whose party sends no RTP this long while it is not on hold is ended "
       "(a phone gone without a BYE); 0: never",
       "60", IsNonNegativeInt},
      {"store-ringing-ms", "SB_SIGNALING_STORE_RINGING_MS",
       "a call ringing this long is stored, so that another replica ends it (CANCEL, 500 to the "
       "caller, ended) should this one die",
       "250", sb::core::IsPositiveInt},
      {"session-expires", "SB_SIGNALING_SESSION_EXPIRES",
       "RFC 4028 session interval asked of callees and granted to callers that ask none", "1800",
       sb::core::IsPositiveInt},
      {"min-se", "SB_SIGNALING_MIN_SE",
       "smallest session interval accepted (422 below it); RFC 4028 says 90, tests use less", "90",
       sb::core::IsPositiveInt},
      {"node-dead-ms", "SB_SIGNALING_NODE_DEAD_MS",
       "a replica without a heartbeat this long is dead: another takes over its answered calls",
       "10000", sb::core::IsPositiveInt},
      {"adopted-probe-ms", "SB_SIGNALING_ADOPTED_PROBE_MS",
       "how often the parties of a call taken over from a dead replica are asked (in-dialog "
       "OPTIONS) whether they are still there",
       "30000", sb::core::IsPositiveInt},
      {"dns-servers", "SB_SIGNALING_DNS_SERVERS",
       "name servers (ipv4:port, comma-separated) asked for trunk gateways given by name (RFC "
       "3263: SRV, then addresses); empty: the system's resolver (/etc/resolv.conf, /etc/hosts)",
       "", IsNameServerList},
      {"drain-notice-ms", "SB_SIGNALING_DRAIN_NOTICE_MS",
       "how long OPTIONS answer 503 before an idle node exits (balancer probe interval)", "2000",
       sb::core::IsPositiveInt},
  };
  auto settings = sb::core::LoadSettingsOrExit("sb-signaling", kSpecs, argc, argv);
  sb::core::Logger log("signaling", sb::core::ParseLogLevel(settings.Get("log-level")));
  log = log.With({{"node_id", settings.Get("node-id")}});

  std::string advertised = settings.Get("advertised-addr");
  if (advertised.empty()) {
    advertised =
        settings.Get("udp-addr").empty() ? settings.Get("tcp-addr") : settings.Get("udp-addr");
    if (advertised.starts_with("0.0.0.0:")) {
      std::fprintf(stderr,
                   "sb-signaling: bad setting SB_SIGNALING_ADVERTISED_ADDR "
                   "(--advertised-addr): required when listening on a wildcard address\n");
      return 2;
    }
  }
  HostPort adv = SplitHostPort(advertised);
  const sb::sip::SessionTimerPolicy session_timer{
      .session_expires = static_cast<uint32_t>(settings.GetInt("session-expires")),
      .min_se = static_cast<uint32_t>(settings.GetInt("min-se"))};
  if (session_timer.min_se > session_timer.session_expires) {
    std::fprintf(stderr,
                 "sb-signaling: bad setting SB_SIGNALING_MIN_SE (--min-se): larger than "
                 "SB_SIGNALING_SESSION_EXPIRES, which would be refused by our own minimum\n");
    return 2;
  }

  sb::core::SystemClock clock;
  sb::core::MetricsRegistry metrics;
  sb::signaling::EndpointConfig endpoint_config;
  endpoint_config.advertised_host = adv.host;
  endpoint_config.advertised_port = adv.port;
  endpoint_config.limits.max_message_bytes =
      static_cast<size_t>(settings.GetInt("max-message-bytes"));
  endpoint_config.source_limits.per_second = static_cast<uint32_t>(settings.GetInt("source-rate"));
  endpoint_config.source_limits.burst = static_cast<uint32_t>(settings.GetInt("source-burst"));
  for (const auto& proxy : CommaList(settings.Get("trusted-proxies"))) {
    endpoint_config.trusted_proxies.push_back(*sb::core::Cidr::Parse(proxy));
  }
  sb::signaling::SipEndpoint endpoint(clock, metrics, endpoint_config);

  sb::signaling::ListenConfig listen;
  listen.udp_addr = settings.Get("udp-addr");
  listen.tcp_addr = settings.Get("tcp-addr");
  listen.tcp_idle_timeout = std::chrono::seconds(settings.GetInt("tcp-idle-seconds"));
  listen.udp_receive_buffer = static_cast<int>(settings.GetInt("udp-receive-buffer"));
  auto server = sb::signaling::SipServer::Start(endpoint, clock, metrics, log, listen);
  if (!server.ok()) {
    log.Error("cannot open SIP sockets", {{"error", server.status().ToString()}});
    return 1;
  }
  // The kernel reports twice the size it grants; less than asked means rmem_max capped it.
  if (!listen.udp_addr.empty() && (*server)->udp_receive_buffer() / 2 < listen.udp_receive_buffer) {
    log.Warn(
        "UDP receive buffer smaller than asked: raise net.core.rmem_max, or grant "
        "CAP_NET_ADMIN",
        {{"asked", std::to_string(listen.udp_receive_buffer)},
         {"granted", std::to_string((*server)->udp_receive_buffer() / 2)}});
  }
  // An advertised port of 0 (tests with free ports) means the port the kernel chose.
  if (adv.port == 0) {
    log.Warn("advertised port 0: loop detection compares against port 0");
  }

  // The registrar needs NATS and Redis; without them REGISTER gets 501 like any unhandled method.
  std::unique_ptr<sb::signaling::RegistrarService> registrar;
  std::unique_ptr<sb::signaling::CallService> calls;
  std::unique_ptr<sb::signaling::KeepaliveService> keepalive;
  if (!settings.Get("nats-url").empty() && !settings.Get("redis-url").empty()) {
    sb::signaling::RegistrarServiceConfig config;
    config.nats_url = settings.Get("nats-url");
    config.redis_url = settings.Get("redis-url");
    config.redis_prefix = settings.Get("redis-prefix");
    config.nonce_secret = settings.Get("nonce-secret");
    config.node_id = settings.Get("node-id");
    config.admin_cache_ttl = std::chrono::milliseconds(settings.GetInt("admin-cache-ms"));
    config.lapse_sweep.interval = std::chrono::milliseconds(settings.GetInt("lapse-sweep-ms"));
    config.lapse_sweep.lease = std::chrono::milliseconds(settings.GetInt("sweep-lease-ms"));
    config.account_limit.max_requests = settings.GetInt("account-limit");
    config.call_account_limit.max_requests = settings.GetInt("call-account-limit");
    const std::string algorithms = settings.Get("digest-algorithms");
    config.auth.offer_md5 = algorithms.find("md5") != std::string::npos;
    config.auth.offer_sha256 = algorithms.find("sha-256") != std::string::npos;
    auto started = sb::signaling::RegistrarService::Start(
        config, [&server](std::function<void()> task) { (*server)->Post(std::move(task)); }, clock,
        metrics, log, server->get());
    if (!started.ok()) {
      log.Error("cannot start the registrar", {{"error", started.status().ToString()}});
      return 1;
    }
    registrar = std::move(*started);
    if (settings.GetInt("keepalive-seconds") > 0) {
      sb::signaling::KeepaliveOptions options;
      options.interval = std::chrono::seconds(settings.GetInt("keepalive-seconds"));
      options.timeout = std::chrono::milliseconds(settings.GetInt("keepalive-timeout-ms"));
      options.max_failures = static_cast<int>(settings.GetInt("keepalive-failures"));
      keepalive = std::make_unique<sb::signaling::KeepaliveService>(
          endpoint, [&server](std::function<void()> task) { (*server)->Post(std::move(task)); },
          registrar->lapses(), registrar->events(), registrar->outbox(), clock, metrics, log,
          options);
      registrar->handler().SetObserver(keepalive.get());
      (*server)->Post([&] { keepalive->Attach(); });
    }
    (*server)->Post(
        [&] { endpoint.SetHandler(sb::sip::Method::kRegister, &registrar->handler()); });

    sb::signaling::CallServiceConfig call_config;
    call_config.node_id = settings.Get("node-id");
    call_config.no_answer_timeout = std::chrono::seconds(settings.GetInt("no-answer-seconds"));
    call_config.silent_contact_timeout =
        std::chrono::milliseconds(settings.GetInt("silent-contact-ms"));
    call_config.store_ringing_after =
        std::chrono::milliseconds(settings.GetInt("store-ringing-ms"));
    call_config.rtp_timeout = std::chrono::seconds(settings.GetInt("rtp-timeout-seconds"));
    call_config.session_timer = session_timer;
    call_config.adoption.dead_after = std::chrono::milliseconds(settings.GetInt("node-dead-ms"));
    // Four heartbeats in the silence that makes a replica dead: one lost write is no death.
    call_config.adoption.heartbeat = call_config.adoption.dead_after / 4;
    call_config.adoption.probe_interval =
        std::chrono::milliseconds(settings.GetInt("adopted-probe-ms"));
    call_config.dns.servers = CommaList(settings.Get("dns-servers"));
    // Behind the balancer the advertised address is where it reaches this replica.
    call_config.adoption.sip_uri = "sip:" + advertised;
    auto call_service = sb::signaling::CallService::Start(
        call_config, *registrar, endpoint,
        [&server](std::function<void()> task) { (*server)->Post(std::move(task)); }, clock, metrics,
        log);
    if (!call_service.ok()) {
      log.Error("cannot start call handling", {{"error", call_service.status().ToString()}});
      return 1;
    }
    calls = std::move(*call_service);
    (*server)->Post([&] { calls->Attach(endpoint); });
  }

  sb::core::OpsServer ops(metrics, [&]() -> sb::Status {
    if (endpoint.draining()) return sb::Status::Unavailable("draining");
    return calls ? calls->MediaReady() : sb::Status::Ok();
  });
  auto http_port = ops.Start("0.0.0.0", static_cast<int>(settings.GetInt("http-port")));
  if (!http_port.ok()) {
    log.Error("cannot start the ops server", {{"error", http_port.status().ToString()}});
    return 1;
  }
  log.Info("signaling started", {{"udp_port", static_cast<int>((*server)->udp_port())},
                                 {"tcp_port", static_cast<int>((*server)->tcp_port())},
                                 {"http_port", *http_port},
                                 {"advertised", advertised}});

  shutdown.Wait();
  log.Info("draining", {{"signal", shutdown.signal()}});
  endpoint.SetDraining(true);
  const auto start = clock.Now();
  const auto notice = std::chrono::milliseconds(settings.GetInt("drain-notice-ms"));
  const auto deadline = start + std::chrono::seconds(settings.GetInt("drain-seconds"));
  // Established calls and transactions still without a final response may end until the drain
  // deadline; counted on the loop. Answered transactions that only absorb retransmissions
  // (Timer J, 32 s over UDP) are not waited for: behind a balancer that probes every few
  // seconds there is always one, and an idle node would drain to its deadline.
  while (clock.Now() < deadline) {
    std::promise<size_t> count;
    auto future = count.get_future();
    (*server)->Post([&] {
      count.set_value(endpoint.unsettled_transactions() + (calls ? calls->active_calls() : 0));
    });
    size_t live = future.get();
    if (live == 0 && clock.Now() - start >= notice) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (registrar) {
    RunOnLoop(**server, [&] {
      endpoint.SetHandler(sb::sip::Method::kRegister, nullptr);
      registrar->DetachFromLoop();
      calls->Detach(endpoint);
      if (keepalive) keepalive->Detach();
    });
    if (keepalive) keepalive->StopWork();
    // Workers joined first; then the loop runs what they posted, which still refers to the
    // handlers; only then do the handlers go.
    calls->StopWork();
    RunOnLoop(**server, [] {});
    calls.reset();
    registrar.reset();  // joins its workers while the loop still takes their answers
    // After the registrar's workers, whose last REGISTERs may still have told it; on the loop,
    // which runs what they posted first.
    RunOnLoop(**server, [&] { keepalive.reset(); });
  }
  (*server)->Stop();
  ops.Stop();
  log.Info("signaling stopped");
  return 0;
}
