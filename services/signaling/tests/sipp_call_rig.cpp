#include "sipp_call_rig.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>

#include "switchboard/bus/typed.h"

namespace sb::signaling::test {
namespace {

std::string Port(int port) { return std::to_string(port); }

}  // namespace

LegStats::LegStats(const std::string& nats_url) {
  bus::NatsBusOptions options;
  options.url = nats_url;
  options.name = "sipp-call-rig";
  auto connected = bus::NatsBus::Connect(options);
  REQUIRE(connected.ok());
  bus_ = std::move(*connected);
  auto sub = bus::SubscribeProto<switchboard::media::v1::LegStatisticsEvent>(
      *bus_, "sb.evt.media.leg_stats.>", "",
      [this](const switchboard::media::v1::LegStatisticsEvent& e, const bus::Message&) {
        if (!e.final()) return;
        std::lock_guard lock(mu_);
        finals_.push_back(e);
        changed_.notify_all();
      },
      nullptr);
  REQUIRE(sub.ok());
  sub_ = std::move(*sub);
}

std::vector<switchboard::media::v1::LegStatisticsEvent> LegStats::Finals(size_t count) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, std::chrono::seconds(5), [&] { return finals_.size() >= count; });
  return finals_;
}

std::vector<std::string> At(const std::string& ip, int sip_port) {
  return {"-i", ip, "-p", Port(sip_port), "-mi", ip, "-mp", Port(Sipp::FreeMediaPort())};
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void CheckBothSucceeded(Sipp& caller, Sipp& callee) {
  const int caller_rc = caller.Wait();
  const int callee_rc = callee.Wait();
  INFO(caller.Report());
  INFO(callee.Report());
  CHECK(caller_rc == 0);
  CHECK(callee_rc == 0);
}

switchboard::admin::v1::CreateTrunkRequest CarrierTrunk(const std::string& host, int port,
                                                        const std::string& source) {
  switchboard::admin::v1::CreateTrunkRequest req;
  req.set_name("carrier");
  req.set_host(host);
  req.set_port(port);
  req.set_username("acme-out");
  req.set_password("trunk-secret");
  req.add_inbound_sources(source + "/32");
  auto* rule = req.add_prefix_rules();
  rule->set_match("00");
  rule->set_strip(2);
  rule->set_prepend("+");
  return req;
}

namespace {
PlatformOptions RigOptions(std::vector<std::pair<std::string, std::string>> env) {
  env.emplace_back("SB_SIGNALING_NO_ANSWER_SECONDS", "3");
  return {.media = true, .signaling_env = std::move(env)};
}
}  // namespace

CallRig::CallRig(std::vector<std::pair<std::string, std::string>> env)
    : platform(RigOptions(std::move(env))) {
  REQUIRE(platform.WaitUntilReady());
  tenant = platform.CreateTenant();
  domain = tenant.sip_domain();
  platform.CreateExtension(tenant, "1001", "pass-1001-secret");
  platform.CreateExtension(tenant, "1002", "pass-1002-secret");
}

void CallRig::Register(const std::string& number, const std::string& ip, int port, int via_port) {
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

Sipp CallRig::StartCallee(const std::string& scenario, const std::vector<std::string>& extra) {
  return Sipp::Start("callee", Concat(Concat({"-sf", Sipp::Scenario(scenario), "-m", "1"},
                                             At(kCalleeIp, callee_port)),
                                      extra));
}

Sipp CallRig::StartCaller(const std::string& scenario, int via_port, const std::string& target,
                          const std::vector<std::string>& extra) {
  auto args = Concat({"-sf", Sipp::Scenario(scenario), "127.0.0.1:" + Port(via_port), "-m", "1"},
                     At(kCallerIp, testing::FreePort()));
  args = Concat(args, {"-au", "1001", "-ap", "pass-1001-secret", "-auth_uri", "1002@" + domain});
  args = Concat(args, {"-key", "caller", "1001", "-key", "callee", "1002", "-key", "target", target,
                       "-key", "domain", domain});
  return Sipp::Start("caller", Concat(args, extra));
}

void CallRig::Call(const std::string& callee_scenario, const std::string& caller_scenario) {
  RegisterCallee(platform.sip_port());
  auto callee = StartCallee(callee_scenario);
  auto caller = StartCaller(caller_scenario, platform.sip_port());
  CheckBothSucceeded(caller, callee);
}

}  // namespace sb::signaling::test
