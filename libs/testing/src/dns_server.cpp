#include "switchboard/testing/dns_server.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "switchboard/testing/kamailio.h"

namespace sb::testing {
namespace {

constexpr auto kStart = std::chrono::seconds(10);
constexpr int kPortAttempts = 5;

}  // namespace

DnsServer::DnsServer(ChildProcess process, int port) : process_(std::move(process)), port_(port) {}
DnsServer::DnsServer(DnsServer&&) noexcept = default;
DnsServer& DnsServer::operator=(DnsServer&&) noexcept = default;
DnsServer::~DnsServer() = default;

DnsServer DnsServer::Start(const DnsZone& zone, int fixed_port) {
  std::string last_log;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const int port = fixed_port != 0 ? fixed_port : FreeSipPort("127.0.0.1");
    std::vector<std::string> args = {
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll", "--port=" + std::to_string(port), "--listen-address=127.0.0.1",
        "--bind-interfaces", "--pid-file=", "--user=root", "--log-facility=-", "--log-queries",
        // Authoritative for the zone: a name it was not given is NXDOMAIN, not forwarded.
        "--local=/" + zone.zone + "/",
        // Its own records go out with TTL 0 by default; a real zone has one.
        "--local-ttl=60"};
    for (const auto& [name, address] : zone.a) {
      args.push_back("--host-record=" + name + "," + address);
    }
    for (const auto& s : zone.srv) {
      args.push_back("--srv-host=" + s.name + "," + s.target + "," + std::to_string(s.port) + "," +
                     std::to_string(s.priority) + "," + std::to_string(s.weight));
    }
    ChildProcess process = ChildProcess::Start(args, {}, "dnsmasq");
    const auto deadline = std::chrono::steady_clock::now() + kStart;
    while (process.Running() && process.ReadLog().find("started, version") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    last_log = process.ReadLog();
    if (process.Running() && last_log.find("started, version") != std::string::npos) {
      return DnsServer(std::move(process), port);
    }
    process.Kill();
    // Only a lost race for a port of our choosing is worth another attempt.
    if (fixed_port != 0 || last_log.find("Address already in use") == std::string::npos) break;
  }
  throw std::runtime_error("dnsmasq did not start:\n" + last_log);
}

int DnsServer::port() const { return port_; }
std::string DnsServer::address() const { return "127.0.0.1:" + std::to_string(port_); }
std::string DnsServer::ReadLog() const { return process_.ReadLog(); }

}  // namespace sb::testing
