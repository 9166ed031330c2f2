// Calls between two extensions played by sipp through the real binaries (sb-admin, sb-media,
// sb-signaling on a private NATS, the shared Redis and PostgreSQL): the callee, extension 1002,
// registers with digest from its UAS address and then runs a UAS scenario; the caller, 1001,
// answers the 407 and runs a UAC scenario. Each scenario (tests/sipp/) names every message its
// side must see: sipp fails the call on a missing or unexpected one, or on its -timeout.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "platform.h"
#include "sipp_process.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/typed.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/testing/servers.h"
#include "udp_relay.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::test::Platform;
using sb::signaling::test::Sipp;
using sb::signaling::test::UdpRelay;

const std::string kCallerIp = "127.0.0.62";
const std::string kCalleeIp = "127.0.0.61";
const std::string kTargetIp = "127.0.0.63";  // 1003, a transfer's target

std::string Port(int port) { return std::to_string(port); }

// The final statistics of every media leg the node destroys (core NATS, published by sb-media).
class LegStats {
 public:
  explicit LegStats(const std::string& nats_url) {
    sb::bus::NatsBusOptions options;
    options.url = nats_url;
    options.name = "sipp-calls-itest";
    auto connected = sb::bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus_ = std::move(*connected);
    auto sub = sb::bus::SubscribeProto<switchboard::media::v1::LegStatisticsEvent>(
        *bus_, "sb.evt.media.leg_stats.>", "",
        [this](const switchboard::media::v1::LegStatisticsEvent& e, const sb::bus::Message&) {
          if (!e.final()) return;
          std::lock_guard lock(mu_);
          finals_.push_back(e);
          changed_.notify_all();
        },
        nullptr);
    REQUIRE(sub.ok());
    sub_ = std::move(*sub);
  }
  // The final reports of `count` legs (waits at most 5 s for them).
  std::vector<switchboard::media::v1::LegStatisticsEvent> Finals(size_t count) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, 5s, [&] { return finals_.size() >= count; });
    return finals_;
  }

 private:
  std::unique_ptr<sb::bus::NatsBus> bus_;
  std::unique_ptr<sb::bus::Subscription> sub_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<switchboard::media::v1::LegStatisticsEvent> finals_;
};

// sipp's SIP address and port, and a free media port on the same address.
std::vector<std::string> At(const std::string& ip, int sip_port) {
  return {"-i", ip, "-p", Port(sip_port), "-mi", ip, "-mp", Port(sb::testing::FreePort())};
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Both sides' scenarios completed: sipp exits 0 only when its one call succeeded.
void CheckBothSucceeded(Sipp& caller, Sipp& callee) {
  const int caller_rc = caller.Wait();
  const int callee_rc = callee.Wait();
  INFO(caller.Report());
  INFO(callee.Report());
  CHECK(caller_rc == 0);
  CHECK(callee_rc == 0);
}

// One platform with a tenant and extensions 1001 and 1002; the no-answer timeout is short so
// that an unanswered call ends within a test.
struct CallRig {
  Platform platform{{.media = true, .signaling_env = {{"SB_SIGNALING_NO_ANSWER_SECONDS", "3"}}}};
  switchboard::admin::v1::Tenant tenant;
  std::string domain;
  int callee_port = sb::testing::FreePort();

  CallRig() {
    REQUIRE(platform.WaitUntilReady());
    tenant = platform.CreateTenant();
    domain = tenant.sip_domain();
    platform.CreateExtension(tenant, "1001", "pass-1001-secret");
    platform.CreateExtension(tenant, "1002", "pass-1002-secret");
  }

  // 1002 registers with digest (the REGISTER scenario of bench/signaling) from the address its
  // UAS will answer on, sending to `via_port` (the node, or a relay in front of it).
  void RegisterCallee(int via_port) { Register("1002", kCalleeIp, callee_port, via_port); }
  // Extension `number` (password "pass-<number>-secret") registers from ip:port.
  void Register(const std::string& number, const std::string& ip, int port, int via_port) {
    const auto csv = platform.dir() / (number + ".csv");
    std::ofstream(csv) << "SEQUENTIAL\n"
                       << number << ";" << domain << ";pass-" << number << "-secret\n";
    auto reg = Sipp::Start(
        "register", {"-sf", SB_SIPP_REGISTER_SCENARIO, "127.0.0.1:" + Port(via_port), "-inf",
                     csv.string(), "-auth_uri", domain, "-i", ip, "-p", Port(port), "-m", "1"});
    const int rc = reg.Wait();
    INFO(reg.Report());
    REQUIRE(rc == 0);
  }
  Sipp StartCallee(const std::string& scenario, const std::vector<std::string>& extra = {}) {
    return Sipp::Start("callee", Concat(Concat({"-sf", Sipp::Scenario(scenario), "-m", "1"},
                                               At(kCalleeIp, callee_port)),
                                        extra));
  }
  // -au/-ap answer the 407; the keys fill the scenario's [caller], [callee], [target] and
  // [domain].
  Sipp StartCaller(const std::string& scenario, int via_port) {
    auto args = Concat({"-sf", Sipp::Scenario(scenario), "127.0.0.1:" + Port(via_port), "-m", "1"},
                       At(kCallerIp, sb::testing::FreePort()));
    args = Concat(args, {"-au", "1001", "-ap", "pass-1001-secret", "-auth_uri", "1002@" + domain});
    return Sipp::Start("caller",
                       Concat(args, {"-key", "caller", "1001", "-key", "callee", "1002", "-key",
                                     "target", "1003", "-key", "domain", domain}));
  }
  // 1002 registered straight at the node runs `callee_scenario`, 1001 `caller_scenario`.
  void Call(const std::string& callee_scenario, const std::string& caller_scenario) {
    RegisterCallee(platform.sip_port());
    auto callee = StartCallee(callee_scenario);
    auto caller = StartCaller(caller_scenario, platform.sip_port());
    CheckBothSucceeded(caller, callee);
  }
};

}  // namespace

TEST_CASE("a call with RTP both ways through the media node - the caller hangs up - both legs end",
          "[integration]") {
  CallRig rig;
  LegStats stats(rig.platform.nats_url());
  rig.RegisterCallee(rig.platform.sip_port());
  auto callee = rig.StartCallee("callee_answers.xml", {"-rtp_echo"});
  auto caller = rig.StartCaller("caller_hangs_up.xml", rig.platform.sip_port());
  CheckBothSucceeded(caller, callee);

  // Both legs carried packets both ways: leg a received the caller's audio and sent it the
  // callee's echo; leg b sent the caller's audio to the callee and received the echo (the
  // callee's sipp runs -rtp_echo: RTP comes back only once it has arrived).
  auto finals = stats.Finals(2);
  REQUIRE(finals.size() == 2);
  for (const auto& leg : finals) {
    INFO("leg " << leg.leg().leg_id());
    CHECK(leg.packets_received() > 0);
    CHECK(leg.packets_sent() > 0);
  }
}

TEST_CASE("the callee hangs up - the caller gets the BYE", "[integration]") {
  CallRig rig;
  rig.Call("callee_hangs_up.xml", "caller_hung_up_on.xml");
}

TEST_CASE("the caller cancels while it rings - 487 to the caller - CANCEL at the callee",
          "[integration]") {
  CallRig rig;
  rig.Call("callee_rings_until_cancelled.xml", "caller_cancels.xml");
}

TEST_CASE("a busy callee - its 486 reaches the caller", "[integration]") {
  CallRig rig;
  rig.Call("callee_busy.xml", "caller_gets_busy.xml");
}

TEST_CASE("no answer - the callee is cancelled after the timeout - the caller gets 480",
          "[integration]") {
  CallRig rig;
  const auto start = std::chrono::steady_clock::now();
  rig.Call("callee_rings_until_cancelled.xml", "caller_gets_no_answer.xml");
  // Not before SB_SIGNALING_NO_ANSWER_SECONDS (3 s).
  CHECK(std::chrono::steady_clock::now() - start >= 3s);
}

TEST_CASE(
    "hold and unhold - the caller's sendonly re-INVITE reaches the callee as sendonly - "
    "sendrecv takes it off hold",
    "[integration]") {
  CallRig rig;
  rig.Call("callee_held.xml", "caller_holds.xml");
}

TEST_CASE(
    "100rel both ways - the callee's reliable 183 with SDP is PRACKed - the caller requiring "
    "100rel gets a reliable 183 with the node's SDP - its 200 only after its PRACK",
    "[integration]") {
  CallRig rig;
  rig.Call("callee_reliable_183.xml", "caller_requires_100rel.xml");
}

TEST_CASE(
    "lost packets - the first INVITE to the callee and the first 200 to the caller are lost - "
    "retransmissions complete the call",
    "[integration]") {
  CallRig rig;
  using Direction = UdpRelay::Direction;
  UdpRelay to_callee(rig.platform.sip_port(), {[](Direction d, std::string_view m) {
                       return d == Direction::kToPhone && m.starts_with("INVITE ");
                     }});
  UdpRelay to_caller(rig.platform.sip_port(), {[](Direction d, std::string_view m) {
                       return d == Direction::kToPhone && m.starts_with("SIP/2.0 200 ") &&
                              m.find(" INVITE\r\n") != std::string_view::npos;
                     }});
  rig.RegisterCallee(to_callee.port());
  auto callee = rig.StartCallee("callee_answers.xml");
  auto caller = rig.StartCaller("caller_hangs_up.xml", to_caller.port());
  CheckBothSucceeded(caller, callee);
  CHECK(to_callee.Dropped().size() == 1);
  CHECK(to_caller.Dropped().size() == 1);
}

TEST_CASE(
    "blind transfer - the caller REFERs the callee to 1003 - NOTIFY 100 180 200 and a BYE reach "
    "it - the callee's audio reaches 1003 through the node and comes back",
    "[integration]") {
  CallRig rig;
  LegStats stats(rig.platform.nats_url());
  rig.platform.CreateExtension(rig.tenant, "1003", "pass-1003-secret");
  const int target_port = sb::testing::FreePort();
  rig.Register("1003", kTargetIp, target_port, rig.platform.sip_port());
  rig.RegisterCallee(rig.platform.sip_port());
  auto target = Sipp::Start(
      "target", Concat({"-sf", Sipp::Scenario("callee_answers.xml"), "-m", "1", "-rtp_echo"},
                       At(kTargetIp, target_port)));
  auto callee = rig.StartCallee("callee_stays_through_transfer.xml");
  auto caller = rig.StartCaller("caller_transfers.xml", rig.platform.sip_port());
  CheckBothSucceeded(caller, callee);
  const int target_rc = target.Wait();
  INFO(target.Report());
  CHECK(target_rc == 0);

  // Legs a (the caller's, destroyed at the transfer), b (the callee's) and a1 (the target's,
  // which replaced a): a1 carried the callee's audio to 1003 and its echo back.
  auto finals = stats.Finals(3);
  bool target_leg_seen = false;
  for (const auto& leg : finals) {
    if (!leg.leg().leg_id().ends_with("-a1")) continue;
    target_leg_seen = true;
    CHECK(leg.packets_sent() > 0);
    CHECK(leg.packets_received() > 0);
  }
  CHECK(target_leg_seen);
}
