// Calls played by sipp through the real binaries, shared by sipp_calls_itest and originate_itest:
// a Platform (sb-admin, sb-media, sb-signaling on a private NATS, the shared Redis and
// PostgreSQL) with a tenant and extensions 1001 and 1002; extensions registered with digest by
// sipp (bench/signaling's REGISTER scenario) from the address their UAS answers on; callers that
// answer the 407; the media node's final leg statistics.
//
//   CallRig rig;
//   LegStats stats(rig.platform.nats_url());
//   rig.RegisterCallee(rig.platform.sip_port());
//   auto callee = rig.StartCallee("callee_answers.xml", {"-rtp_echo"});
//   auto caller = rig.StartCaller("caller_hangs_up.xml", rig.platform.sip_port());
//   CheckBothSucceeded(caller, callee);
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform.h"
#include "sipp_process.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/testing/servers.h"

namespace sb::signaling::test {

inline const std::string kCallerIp = "127.0.0.62";
inline const std::string kCalleeIp = "127.0.0.61";
inline const std::string kTargetIp = "127.0.0.63";  // 1003: a transfer's target, a second callee

// The final statistics of every media leg the node destroys (core NATS, published by sb-media).
class LegStats {
 public:
  explicit LegStats(const std::string& nats_url);
  // The final reports of `count` legs (waits at most 5 s for them).
  std::vector<switchboard::media::v1::LegStatisticsEvent> Finals(size_t count);

 private:
  std::unique_ptr<bus::NatsBus> bus_;
  std::unique_ptr<bus::Subscription> sub_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<switchboard::media::v1::LegStatisticsEvent> finals_;
};

// sipp's SIP address and port, and a free media port on the same address.
std::vector<std::string> At(const std::string& ip, int sip_port);
std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b);

// Both sides' scenarios completed: sipp exits 0 only when its one call succeeded.
void CheckBothSucceeded(Sipp& caller, Sipp& callee);

// A trunk of the tenant to `host`:`port` taking calls from `source`; "00..." goes out as "+...",
// answering the carrier's challenge as acme-out / trunk-secret (tests/sipp/carrier_uas.xml).
switchboard::admin::v1::CreateTrunkRequest CarrierTrunk(const std::string& host, int port,
                                                        const std::string& source);

// One platform with a tenant and extensions 1001 and 1002; the no-answer timeout is short so
// that an unanswered call ends within a test. `env`: more sb-signaling settings.
struct CallRig {
  Platform platform;
  switchboard::admin::v1::Tenant tenant;
  std::string domain;
  int callee_port = testing::FreePort();

  explicit CallRig(std::vector<std::pair<std::string, std::string>> env = {});
  // 1002 registers with digest from the address its UAS will answer on, sending to `via_port`
  // (the node, or a relay in front of it).
  void RegisterCallee(int via_port) { Register("1002", kCalleeIp, callee_port, via_port); }
  // Extension `number` (password "pass-<number>-secret") registers from ip:port.
  void Register(const std::string& number, const std::string& ip, int port, int via_port);
  // 1002's UAS (kCalleeIp, callee_port) runs `scenario` for one call.
  Sipp StartCallee(const std::string& scenario, const std::vector<std::string>& extra = {});
  // 1001 calls through `via_port`: -au/-ap answer the 407; the keys fill the scenario's
  // [caller], [callee], [target] (`target`: the user a transferring scenario REFERs to) and
  // [domain]. `extra`: more sipp arguments.
  Sipp StartCaller(const std::string& scenario, int via_port, const std::string& target = "1003",
                   const std::vector<std::string>& extra = {});
  // 1002 registered straight at the node runs `callee_scenario`, 1001 `caller_scenario`.
  void Call(const std::string& callee_scenario, const std::string& caller_scenario);
};

}  // namespace sb::signaling::test
