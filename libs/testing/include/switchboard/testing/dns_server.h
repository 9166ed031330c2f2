// A real name server for tests: dnsmasq answering for one test zone on a free loopback port, with
// the A and SRV records the test gives, NXDOMAIN for any other name in the zone and nothing
// forwarded anywhere. Its log (every query) is in its directory.
//
//   auto dns = sb::testing::DnsServer::Start({
//       .zone = "carrier.sbtest",
//       .a = {{"gw.carrier.sbtest", "127.0.0.5"}},
//       .srv = {{"_sip._udp.carrier.sbtest", "gw.carrier.sbtest", 5080, 10, 0}}});
//   // SB_SIGNALING_DNS_SERVERS=dns.address()
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "switchboard/testing/child_process.h"

namespace sb::testing {

struct DnsZone {
  std::string zone;                                    // "carrier.sbtest"
  std::vector<std::pair<std::string, std::string>> a;  // name, IPv4 address
  struct Srv {
    std::string name;  // "_sip._udp.carrier.sbtest"
    std::string target;
    int port = 0;
    int priority = 0;
    int weight = 0;
  };
  std::vector<Srv> srv;
};

class DnsServer {
 public:
  // Throws std::runtime_error with its log when dnsmasq does not start. `port` 0: a free one;
  // else that one (a server started again where its clients know it).
  static DnsServer Start(const DnsZone& zone, int port = 0);
  DnsServer(DnsServer&&) noexcept;
  DnsServer& operator=(DnsServer&&) noexcept;
  ~DnsServer();

  int port() const;             // UDP and TCP, on 127.0.0.1
  std::string address() const;  // "127.0.0.1:PORT"
  std::string ReadLog() const;

 private:
  DnsServer(ChildProcess process, int port);
  ChildProcess process_;
  int port_;
};

}  // namespace sb::testing
