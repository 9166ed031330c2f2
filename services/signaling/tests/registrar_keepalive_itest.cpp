// Registered phones behind NAT and bindings that lapse, end to end: the real sb-admin and
// sb-signaling binaries (tests/platform.*) on a private NATS and the shared Redis under a key
// prefix of this test's own (so no other test's node sweeps its bindings). sipp registers
// 1001 with a private Contact from 127.0.0.x, straight to the node or through the Kamailio
// balancer (deploy/kamailio/switchboard-lb.cfg, Path with ;received=), then answers the
// node's OPTIONS pings there and goes silent; a binding written with a short expiry lapses
// alone.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "platform.h"
#include "sipp_process.h"
#include "store/redis_binding_store.h"
#include "switchboard/signaling/v1/events.pb.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/kamailio.h"
#include "switchboard/testing/nats_connect.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::test::Platform;
using sb::signaling::test::Sipp;
using sb::signaling::test::StartBalancer;
namespace v1 = switchboard::signaling::v1;

std::vector<sb::signaling::Binding> Stored(sb::redis::Client& redis, const sb::TenantId& tenant,
                                           const std::string& aor) {
  sb::signaling::RedisBindingStore store(redis);
  auto loaded = store.Load(tenant, aor);
  REQUIRE(loaded.ok());
  return *loaded;
}

// The node publishes before it removes: waits (bounded) until the AOR holds no binding.
bool WaitUntilNoneStored(sb::redis::Client& redis, const sb::TenantId& tenant,
                         const std::string& aor) {
  for (int i = 0; i < 50; ++i) {
    if (Stored(redis, tenant, aor).empty()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// sb-signaling with fast keep-alive settings, its Redis keys under their own prefix, trusting the
// balancer (on 127.0.0.1) to tell where a request came from.
sb::signaling::test::PlatformOptions KeepaliveNode(const std::string& prefix) {
  return {.signaling_env = {{"SB_SIGNALING_REDIS_PREFIX", prefix},
                            {"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1/32"},
                            {"SB_SIGNALING_KEEPALIVE_SECONDS", "1"},
                            {"SB_SIGNALING_KEEPALIVE_TIMEOUT_MS", "1500"},
                            {"SB_SIGNALING_KEEPALIVE_FAILURES", "1"}}};
}

// 1001 registers from `ip` (sipp, a private Contact) by way of `registrar` ("IP:PORT": the node,
// or the balancer in front of it), answers two OPTIONS pings there, then goes silent: the
// binding is removed and "expired" (KEEPALIVE_FAILED) is published. The "registered" event names
// the phone's own address and port as its source, wherever the REGISTER came through. Returns the
// binding as stored after the REGISTER.
sb::signaling::Binding NatedPhoneAnswersThenGoesSilent(Platform& p, const std::string& prefix,
                                                       const std::string& registrar,
                                                       const std::string& ip) {
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  const std::string aor = "sip:1001@" + domain;
  const sb::TenantId tenant_id(tenant.id());
  auto bus = sb::testing::ConnectNats(p.nats_url(), "registrar-keepalive-itest");
  sb::testing::EventInbox registered_events(*bus, "sb.evt.registration.registered." + tenant.id());
  sb::testing::EventInbox expired(*bus, "sb.evt.registration.expired." + tenant.id());
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url, prefix);
  REQUIRE(options.ok());
  sb::redis::Client redis(*options);

  const auto csv = p.dir() / "users.csv";
  std::ofstream(csv) << "SEQUENTIAL\n1001;" << domain << ";pass-1001-secret\n";
  const std::string port = std::to_string(sb::testing::FreePort());
  // sb-signaling may still be starting: the REGISTER is retransmitted until it answers.
  auto registering = Sipp::Start(
      "register", {"-sf", Sipp::Scenario("nated_phone_registers.xml"), registrar, "-inf",
                   csv.string(), "-i", ip, "-p", port, "-auth_uri", domain, "-m", "1"});
  const int registered = registering.Wait();
  INFO(registering.Report());
  REQUIRE(registered == 0);
  auto bindings = Stored(redis, tenant_id, aor);
  REQUIRE(bindings.size() == 1);
  CHECK(bindings[0].contact == "sip:1001@192.168.1.20:5060");
  auto registered_event = registered_events.Wait<v1::Registered>(
      [](const v1::Registered&, const sb::bus::Message&) { return true; }, 5s);
  REQUIRE(registered_event.has_value());
  CHECK(registered_event->contact() == "sip:1001@192.168.1.20:5060");
  CHECK(registered_event->source() == "udp:" + ip + ":" + port);

  // The pings reach the address the REGISTER came from, for the private Contact; two are
  // answered (a ping retransmitted while this sipp starts is answered all the same).
  auto answering = Sipp::Start(
      "answer",
      {"-sf", Sipp::Scenario("nated_phone_answers_options.xml"), "-i", ip, "-p", port, "-m", "2"},
      15s);
  const int answered = answering.Wait();
  INFO(answering.Report());
  REQUIRE(answered == 0);
  CHECK(Stored(redis, tenant_id, aor).size() == 1);  // alive: kept

  // Nobody answers any more: the binding goes within an interval and the timeout, and the
  // expired event says why.
  auto event = expired.Wait<v1::Unregistered>(
      [](const v1::Unregistered& e, const sb::bus::Message&) {
        return e.reason() == v1::UNREGISTER_REASON_KEEPALIVE_FAILED;
      },
      10s);
  REQUIRE(event.has_value());
  CHECK(event->aor() == aor);
  CHECK(event->contact() == "sip:1001@192.168.1.20:5060");
  CHECK(event->meta().tenant_id() == tenant.id());
  CHECK(Stored(redis, tenant_id, aor).empty());
  CHECK(p.SignalingRunning());
  return bindings[0];
}

}  // namespace

TEST_CASE("a NATed phone answers the node's OPTIONS pings and is removed once it goes silent",
          "[integration]") {
  const std::string prefix = sb::testing::UniqueName("kaitest") + ":";
  Platform p(KeepaliveNode(prefix));
  auto binding = NatedPhoneAnswersThenGoesSilent(
      p, prefix, "127.0.0.1:" + std::to_string(p.sip_port()), "127.0.0.41");
  CHECK(binding.source.starts_with("udp:127.0.0.41:"));
  CHECK(binding.path.empty());
}

TEST_CASE("behind the balancer the pings follow the Path to the phone's NAT address",
          "[integration]") {
  const std::string prefix = sb::testing::UniqueName("kaitest") + ":";
  Platform p(KeepaliveNode(prefix));
  auto balancer = StartBalancer({p.sip_port()});
  auto binding = NatedPhoneAnswersThenGoesSilent(p, prefix, balancer.address(), "127.0.0.43");
  INFO(balancer.ReadLog());
  // Stored as coming from the balancer, with its Path entry naming the phone's address.
  CHECK(binding.source == "udp:" + balancer.address());
  REQUIRE(binding.path.size() == 1);
  CHECK(binding.path[0].find("127.0.0.43") != std::string::npos);
}

TEST_CASE("a binding that lapses without a REGISTER is reported expired within the sweep interval",
          "[integration]") {
  const std::string prefix = sb::testing::UniqueName("kaitest") + ":";
  Platform p({.signaling_env = {{"SB_SIGNALING_REDIS_PREFIX", prefix},
                                {"SB_SIGNALING_LAPSE_SWEEP_MS", "500"}}});
  auto tenant = p.CreateTenant();
  auto bus = sb::testing::ConnectNats(p.nats_url(), "registrar-keepalive-itest");
  sb::testing::EventInbox registered_events(*bus, "sb.evt.registration.registered." + tenant.id());
  sb::testing::EventInbox expired(*bus, "sb.evt.registration.expired." + tenant.id());
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url, prefix);
  REQUIRE(options.ok());
  sb::redis::Client redis(*options);
  sb::signaling::RedisBindingStore store(redis);
  auto now = [] {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  };
  // The registrar's Min-Expires is 60 s; bindings are stored as the registrar stores them,
  // lapsing at once or in 1 s, so the test need not wait a minute. The first one's event shows
  // the node is up and sweeping.
  REQUIRE(
      store
          .Save(sb::TenantId(tenant.id()), "sip:1003@" + tenant.sip_domain(), {},
                {{"sip:1003@192.0.2.51:5060", 1000, "c-warm", 1, now(), "udp:192.0.2.51:5060", {}}})
          .ok());
  REQUIRE(expired
              .Wait<v1::Unregistered>(
                  [](const v1::Unregistered& e, const sb::bus::Message&) {
                    return e.contact() == "sip:1003@192.0.2.51:5060";
                  },
                  20s)
              .has_value());

  const std::string aor = "sip:1002@" + tenant.sip_domain();
  const auto lapses_at = now() + 1s;
  REQUIRE(store
              .Save(sb::TenantId(tenant.id()), aor, {},
                    {{"sip:1002@192.0.2.50:5060",
                      1000,
                      "c-lapse",
                      1,
                      lapses_at,
                      "udp:192.0.2.50:5060",
                      {}}})
              .ok());
  auto event = expired.Wait<v1::Unregistered>(
      [](const v1::Unregistered& e, const sb::bus::Message&) {
        return e.contact() == "sip:1002@192.0.2.50:5060";
      },
      5s);
  const auto seen = std::chrono::system_clock::now();
  REQUIRE(event.has_value());
  CHECK(event->reason() == v1::UNREGISTER_REASON_EXPIRED);
  CHECK(event->aor() == aor);
  CHECK(seen >= lapses_at);
  // The 500 ms sweep interval, the publish and its delivery; room for a loaded CI machine.
  CHECK(seen - lapses_at < 2500ms);
  CHECK(WaitUntilNoneStored(redis, sb::TenantId(tenant.id()), aor));
}
