#include "baresip_call.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "baresip_phone.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/nats_connect.h"

namespace sb::signaling::test {

namespace {

using namespace std::chrono_literals;
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

BaresipOptions PhoneFor(const BaresipExtension& ext, const std::string& domain,
                        const std::string& outbound) {
  return {.ip = ext.ip,
          .user = ext.user,
          .password = ext.password,
          .domain = domain,
          .outbound = outbound};
}

}  // namespace

PlatformOptions BaresipPlatform() {
  return {.media = true, .signaling_env = {{"SB_SIGNALING_DIGEST_ALGORITHMS", "md5"}}};
}

void CheckBaresipCall(Platform& p, const BaresipCall& c) {
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, c.caller.user, c.caller.password);
  p.CreateExtension(tenant, c.callee.user, c.callee.password);
  const std::string domain = tenant.sip_domain();
  auto bus = sb::testing::ConnectNats(p.nats_url(), "baresip-call");
  EventInbox leg_stats(*bus, "sb.evt.media.leg_stats." + tenant.id());
  EventInbox dtmf(*bus, "sb.evt.media.dtmf." + tenant.id());
  EventInbox answered(*bus, "sb.evt.call.answered." + tenant.id());
  EventInbox ended(*bus, "sb.evt.call.ended." + tenant.id());

  BaresipPhone alice(PhoneFor(c.caller, domain, c.outbound));
  BaresipPhone bob(PhoneFor(c.callee, domain, c.outbound));
  // What each side saw, for a failure message.
  auto story = [&] {
    std::string text = "alice saw " + alice.EventsSeen() + "\nbob saw " + bob.EventsSeen() +
                       "\n--- alice (" + c.caller.user + "):\n" + alice.ReadLog() + "\n--- bob (" +
                       c.callee.user + "):\n" + bob.ReadLog() + "\n--- sb-signaling:\n" +
                       p.SignalingLog();
    // Appended, not `"\n" + more_logs()`: GCC 12 warns (-Wrestrict) on that inlined insert.
    if (c.more_logs) text.append("\n").append(c.more_logs());
    return text;
  };
  // A phone that cannot be reached exited: its log says why.
  if (!alice.Connect() || !bob.Connect()) FAIL(story());
  if (!Registered(p, tenant, c.caller.user) || !Registered(p, tenant, c.callee.user)) {
    FAIL(story());
  }

  auto dialed = alice.Command("dial", "sip:" + c.callee.user + "@" + domain);
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

  if (c.before_hangup) c.before_hangup();
  auto hung_up = (c.callee_hangs_up ? bob : alice).Command("hangup");
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
  CHECK(end->cause() == c.end_cause);
  CHECK(end->final_sip_code() == 200);
  // Billed from the answer, also when a replica that never saw the call ends it.
  CHECK(end->answered_ms() > 0);
  CHECK(end->billable_seconds() >= 1);
  CHECK(end->duration_ms() >= end->answered_ms());
  CHECK(end->call().from_uri() == call->call().from_uri());
  CHECK(end->call().to_uri() == call->call().to_uri());

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

}  // namespace sb::signaling::test
