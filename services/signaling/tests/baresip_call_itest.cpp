// Two real softphones calling each other through the platform: baresip 1.0 (Debian) as
// extensions 1001 and 1002 of a tenant created through sb-admin's API, registered with digest
// (MD5: baresip 1.0 fails on a SHA-256 challenge) at the real sb-signaling, the call anchored on a
// real sb-media node. Each baresip is driven over its ctrl_tcp module with the commands a user
// types in its console (/dial, /accept, /sndcode, /hangup), and the platform's side is read from
// NATS: the media node's leg statistics and DTMF events, the signaling node's call events.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "baresip_phone.h"
#include "platform.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/nats_connect.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::test::BaresipPhone;
using sb::signaling::test::Platform;
using sb::testing::EventInbox;
namespace call_v1 = switchboard::call::v1;
namespace media_v1 = switchboard::media::v1;

// Waits (bounded) until the registrar stored a binding for the extension.
bool Registered(const Platform& p, const switchboard::admin::v1::Tenant& tenant,
                const std::string& user) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!p.StoredContacts(tenant, "sip:" + user + "@" + tenant.sip_domain()).empty()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace

TEST_CASE(
    "baresip 1001 calls baresip 1002 through sb-signaling - audio both ways through sb-media - "
    "DTMF reaches the node and the callee - hangup ends the call",
    "[integration][baresip]") {
  Platform p({.media = true, .signaling_env = {{"SB_SIGNALING_DIGEST_ALGORITHMS", "md5"}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  p.CreateExtension(tenant, "1002", "pass-1002-secret");
  const std::string domain = tenant.sip_domain();
  REQUIRE(p.WaitUntilReady());

  auto bus = sb::testing::ConnectNats(p.nats_url(), "baresip-call-itest");
  EventInbox leg_stats(*bus, "sb.evt.media.leg_stats." + tenant.id());
  EventInbox dtmf(*bus, "sb.evt.media.dtmf." + tenant.id());
  EventInbox answered(*bus, "sb.evt.call.answered." + tenant.id());
  EventInbox ended(*bus, "sb.evt.call.ended." + tenant.id());

  BaresipPhone alice({.ip = "127.0.0.51",
                      .user = "1001",
                      .password = "pass-1001-secret",
                      .domain = domain,
                      .registrar_port = p.sip_port()});
  BaresipPhone bob({.ip = "127.0.0.52",
                    .user = "1002",
                    .password = "pass-1002-secret",
                    .domain = domain,
                    .registrar_port = p.sip_port()});
  // What each side saw, for a failure message.
  auto story = [&] {
    return "alice saw " + alice.EventsSeen() + "\nbob saw " + bob.EventsSeen() +
           "\n--- alice (1001):\n" + alice.ReadLog() + "\n--- bob (1002):\n" + bob.ReadLog() +
           "\n--- sb-signaling:\n" + p.SignalingLog();
  };
  REQUIRE(alice.Connect());
  REQUIRE(bob.Connect());
  if (!Registered(p, tenant, "1001") || !Registered(p, tenant, "1002")) FAIL(story());

  auto dialed = alice.Command("dial", "sip:1002@" + domain);
  REQUIRE(dialed.has_value());
  CHECK(dialed->ok);
  if (!bob.WaitForEvent("CALL_INCOMING", 10s)) FAIL(story());
  auto accepted = bob.Command("accept");
  REQUIRE(accepted.has_value());
  CHECK(accepted->ok);
  if (!bob.WaitForEvent("CALL_ESTABLISHED", 10s)) FAIL(story());
  if (!alice.WaitForEvent("CALL_ESTABLISHED", 10s)) FAIL(story());
  auto call = answered.Wait<call_v1::CallAnswered>(
      [](const call_v1::CallAnswered&, const sb::bus::Message&) { return true; }, 5s);
  REQUIRE(call.has_value());
  const std::string call_id = call->call().call_id();

  // Digits typed on alice's phone go out as RFC 4733 events: the node reports each on alice's leg
  // and relays them to bob, whose baresip reports them too.
  auto sent = alice.Command("sndcode", "159#");
  REQUIRE(sent.has_value());
  CHECK(sent->ok);
  std::string node_digits, bob_digits;
  for (int i = 0; i < 4; ++i) {
    if (auto d = bob.WaitForEvent("CALL_DTMF_START", 5s)) bob_digits += d->value("param", "?");
  }
  dtmf.Wait<media_v1::DtmfEvent>(
      [](const media_v1::DtmfEvent& e, const sb::bus::Message&) { return e.digit() == "#"; }, 5s);
  for (const auto& e : dtmf.All<media_v1::DtmfEvent>()) {
    if (e.leg().call_id() == call_id) node_digits += e.digit();
  }
  INFO(story());
  CHECK(node_digits == "159#");
  CHECK(bob_digits == "159#");

  auto hung_up = alice.Command("hangup");
  REQUIRE(hung_up.has_value());
  CHECK(hung_up->ok);
  CHECK(bob.WaitForEvent("CALL_CLOSED", 10s).has_value());
  CHECK(alice.WaitForEvent("CALL_CLOSED", 10s).has_value());
  auto end = ended.Wait<call_v1::CallEnded>(
      [&](const call_v1::CallEnded& e, const sb::bus::Message&) {
        return e.call().call_id() == call_id;
      },
      10s);
  REQUIRE(end.has_value());
  CHECK(end->cause() == call_v1::END_CAUSE_NORMAL_CLEARING);
  CHECK(end->final_sip_code() == 200);

  // Both legs' final statistics: each phone's audio reached the node and the node sent audio to
  // each phone (the other's, relayed).
  std::vector<media_v1::LegStatisticsEvent> finals;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       finals.size() < 2 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(100ms);
    finals.clear();
    for (const auto& s : leg_stats.All<media_v1::LegStatisticsEvent>()) {
      if (s.final() && s.leg().call_id() == call_id) finals.push_back(s);
    }
  }
  REQUIRE(finals.size() == 2);
  for (const auto& s : finals) {
    INFO("leg " << s.leg().leg_id() << " received " << s.packets_received() << " sent "
                << s.packets_sent());
    CHECK(s.codec() == "PCMU");
    CHECK(s.packets_received() > 25);
    CHECK(s.packets_sent() > 25);
  }
}
