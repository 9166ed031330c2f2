// baresip 1.0 (Debian's package) as a test's softphone: its own config folder, its own loopback
// address (`net_interface` keeps its SDP there), a sine tone for a microphone and /dev/null for a
// speaker (no sound card needed), registered with digest through its outbound proxy (sb-signaling,
// or the Kamailio balancer in front of it, as a user's phone), and driven over
// its ctrl_tcp module: the commands a user types after '/' in baresip's console, and the UA
// events (CALL_INCOMING, CALL_ESTABLISHED, CALL_DTMF_START, CALL_CLOSED...) it reports.
//
//   BaresipPhone alice({.ip = "127.0.0.51", .user = "1001", .password = "...",
//                       .domain = tenant.sip_domain(), .outbound = "127.0.0.1:5070"});
//   REQUIRE(alice.Connect());                      // events are reported from here on
//   alice.Command("dial", "sip:1002@" + domain);
//   auto closed = alice.WaitForEvent("CALL_CLOSED", 10s);
//
// baresip runs at most `lifetime` and is killed with its process group when the phone goes.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "switchboard/testing/child_process.h"

namespace sb::signaling::test {

struct BaresipOptions {
  std::string ip;        // its own loopback address (SIP and RTP)
  std::string user;      // extension number
  std::string password;  // the extension's SIP password
  std::string domain;    // the tenant's SIP domain
  std::string outbound;  // "IP:PORT" every request goes to over UDP (registrar and proxy)
  std::chrono::seconds lifetime{60};
};

class BaresipPhone {
 public:
  explicit BaresipPhone(const BaresipOptions& options);
  ~BaresipPhone();
  BaresipPhone(const BaresipPhone&) = delete;
  BaresipPhone& operator=(const BaresipPhone&) = delete;

  // Opens the control connection, retrying while baresip starts (at most 5 s). ctrl_tcp reports
  // events from then on: connect before the calls whose events the test waits for.
  bool Connect();

  struct Response {
    bool ok = false;
    std::string data;
  };
  // Runs a long command (`dial`, `accept`, `hangup`, `sndcode`...) and returns baresip's answer,
  // or nothing when it gave none within 5 s.
  std::optional<Response> Command(const std::string& command, const std::string& params = {});

  // The first event of `type` not returned before, or nothing by the deadline.
  std::optional<nlohmann::json> WaitForEvent(const std::string& type,
                                             std::chrono::milliseconds timeout);

  // Every event type reported so far, in order (for failure messages).
  std::string EventsSeen() const;
  std::string ReadLog() const { return process_->ReadLog(); }

 private:
  // The first message not returned before (already read or arriving by the deadline) that
  // satisfies `wanted`: an event read while waiting for a response is found later.
  template <typename Pred>
  std::optional<nlohmann::json> Next(std::chrono::milliseconds timeout, Pred wanted);
  void Frame();

  std::filesystem::path dir_;
  int ctrl_port_;
  std::optional<testing::ChildProcess> process_;
  int fd_ = -1;
  int tokens_ = 0;
  std::string buffer_;
  std::vector<std::pair<nlohmann::json, bool>> seen_;  // every message, and whether returned
};

}  // namespace sb::signaling::test
