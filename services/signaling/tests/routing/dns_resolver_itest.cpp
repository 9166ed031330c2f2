// DnsResolver against a real name server (dnsmasq, switchboard/testing/dns_server.h): SRV and A
// answers as RFC 3263 needs them, "no such name", answers kept for their TTL, a server that is
// not there, and the system's resolver for names in /etc/hosts.
#include <catch2/catch.hpp>
#include <optional>

#include "routing/dns_resolver.h"
#include "switchboard/core/clock.h"
#include "switchboard/testing/dns_server.h"
#include "switchboard/testing/servers.h"

namespace {

using sb::signaling::DnsResolver;
using sb::sip::Destination;
using sb::sip::Transport;

sb::testing::DnsZone CarrierZone() {
  return {.zone = "carrier.sbtest",
          .a = {{"gw1.carrier.sbtest", "127.0.0.5"},
                {"gw2.carrier.sbtest", "127.0.0.6"},
                {"gw2.carrier.sbtest", "127.0.0.7"}},
          .srv = {{"_sip._udp.carrier.sbtest", "gw2.carrier.sbtest", 5090, 20, 0},
                  {"_sip._udp.carrier.sbtest", "gw1.carrier.sbtest", 5080, 10, 5}}};
}

int QueriesFor(const sb::testing::DnsServer& dns, const std::string& name) {
  const std::string log = dns.ReadLog();
  int count = 0;
  for (size_t at = log.find("] " + name + " from"); at != std::string::npos;
       at = log.find("] " + name + " from", at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("SRV records and addresses come from the name server as they are in the zone",
          "[integration]") {
  auto dns = sb::testing::DnsServer::Start(CarrierZone());
  sb::core::SystemClock clock;
  auto resolver = DnsResolver::Create(clock, {.servers = {dns.address()}});
  REQUIRE(resolver.ok());
  auto srv = (*resolver)->Srv("_sip._udp.carrier.sbtest");
  INFO(dns.ReadLog());
  REQUIRE(srv.ok());
  REQUIRE(srv->size() == 2);
  std::sort(srv->begin(), srv->end(),
            [](const auto& a, const auto& b) { return a.priority < b.priority; });
  CHECK(srv->at(0) == sb::sip::SrvRecord{10, 5, 5080, "gw1.carrier.sbtest"});
  CHECK(srv->at(1) == sb::sip::SrvRecord{20, 0, 5090, "gw2.carrier.sbtest"});
  auto a = (*resolver)->Ipv4("gw2.carrier.sbtest");
  REQUIRE(a.ok());
  std::sort(a->begin(), a->end());
  CHECK(*a == std::vector<std::string>{"127.0.0.6", "127.0.0.7"});

  // RFC 3263 end to end: gw1 (priority 10) first, then gw2's two addresses.
  auto hops = (*resolver)->Locate({"carrier.sbtest", 0, Transport::kUdp});
  REQUIRE(hops.ok());
  REQUIRE(hops->size() == 3);
  CHECK(hops->at(0) == Destination{"127.0.0.5", 5080, Transport::kUdp});
  CHECK(hops->at(1).port == 5090);
  CHECK(hops->at(2).port == 5090);

  // No such name, no such record: empty, not an error.
  auto none = (*resolver)->Ipv4("nowhere.carrier.sbtest");
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto no_tcp = (*resolver)->Srv("_sip._tcp.carrier.sbtest");
  REQUIRE(no_tcp.ok());
  CHECK(no_tcp->empty());
  auto unknown = (*resolver)->Locate({"nowhere.carrier.sbtest", 0, Transport::kUdp});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == sb::StatusCode::kNotFound);
}

TEST_CASE("an answer is kept for its TTL: the same lookup again does not ask the server",
          "[integration]") {
  auto dns = sb::testing::DnsServer::Start(CarrierZone());
  sb::core::SystemClock clock;
  auto resolver = DnsResolver::Create(clock, {.servers = {dns.address()}});
  REQUIRE(resolver.ok());
  REQUIRE((*resolver)->Ipv4("gw1.carrier.sbtest").ok());
  REQUIRE((*resolver)->Ipv4("gw1.carrier.sbtest").ok());
  REQUIRE((*resolver)->Ipv4("nowhere.carrier.sbtest").ok());
  REQUIRE((*resolver)->Ipv4("nowhere.carrier.sbtest").ok());
  INFO(dns.ReadLog());
  CHECK(QueriesFor(dns, "gw1.carrier.sbtest") == 1);
  CHECK(QueriesFor(dns, "nowhere.carrier.sbtest") == 1);
}

TEST_CASE(
    "DNS gone: an answer past its TTL still serves for max_stale, asked for again only every "
    "stale_retry - a name never answered, or a stale answer past max_stale, is an error",
    "[integration]") {
  std::optional<sb::testing::DnsServer> dns = sb::testing::DnsServer::Start(CarrierZone());
  sb::core::FakeClock clock;
  auto resolver = DnsResolver::Create(clock, {.servers = {dns->address()},
                                              .max_stale = std::chrono::seconds(3600),
                                              .stale_retry = std::chrono::seconds(30)});
  REQUIRE(resolver.ok());
  auto hops = (*resolver)->Locate({"carrier.sbtest", 0, Transport::kUdp});
  REQUIRE(hops.ok());
  REQUIRE(hops->size() == 3);
  dns.reset();  // the name server is gone

  clock.Advance(std::chrono::seconds(61));  // the zone's TTL is 60 s
  auto stale = (*resolver)->Locate({"carrier.sbtest", 0, Transport::kUdp});
  REQUIRE(stale.ok());
  CHECK(*stale == *hops);
  auto never = (*resolver)->Ipv4("gw3.carrier.sbtest");
  REQUIRE_FALSE(never.ok());
  CHECK(never.status().code() == sb::StatusCode::kUnavailable);

  clock.Advance(std::chrono::hours(2));
  auto too_old = (*resolver)->Locate({"carrier.sbtest", 0, Transport::kUdp});
  REQUIRE_FALSE(too_old.ok());
  CHECK(too_old.status().code() == sb::StatusCode::kUnavailable);
}

TEST_CASE(
    "DNS gone: a stale answer is asked for again only every stale_retry, and a fresh one "
    "replaces it once the server answers",
    "[integration]") {
  auto zone = CarrierZone();
  std::optional<sb::testing::DnsServer> dns = sb::testing::DnsServer::Start(zone);
  sb::core::FakeClock clock;
  auto resolver = DnsResolver::Create(clock, {.servers = {dns->address()}});
  REQUIRE(resolver.ok());
  REQUIRE((*resolver)->Ipv4("gw1.carrier.sbtest").ok());
  const std::string address = dns->address();
  dns.reset();
  clock.Advance(std::chrono::seconds(61));
  REQUIRE((*resolver)->Ipv4("gw1.carrier.sbtest").ok());  // stale; the next try in 30 s

  // The server is back on the same port with gw1 moved: within stale_retry the stale answer
  // still serves without asking; after it, the fresh one.
  zone.a = {{"gw1.carrier.sbtest", "127.0.0.9"}};
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  dns = sb::testing::DnsServer::Start(zone, port);
  clock.Advance(std::chrono::seconds(10));
  CHECK(*(*resolver)->Ipv4("gw1.carrier.sbtest") == std::vector<std::string>{"127.0.0.5"});
  CHECK(dns->ReadLog().find("query[A] gw1.carrier.sbtest") == std::string::npos);
  clock.Advance(std::chrono::seconds(21));
  CHECK(*(*resolver)->Ipv4("gw1.carrier.sbtest") == std::vector<std::string>{"127.0.0.9"});
}

TEST_CASE("a name server that is not there is an error, not an empty answer", "[integration]") {
  sb::core::SystemClock clock;
  const std::string nobody = "127.0.0.1:" + std::to_string(sb::testing::FreePort());
  auto resolver = DnsResolver::Create(clock, {.servers = {nobody}});
  REQUIRE(resolver.ok());
  auto srv = (*resolver)->Srv("_sip._udp.carrier.sbtest");
  REQUIRE_FALSE(srv.ok());
  CHECK(srv.status().code() == sb::StatusCode::kUnavailable);
  auto hops = (*resolver)->Locate({"carrier.sbtest", 0, Transport::kUdp});
  REQUIRE_FALSE(hops.ok());
  CHECK(hops.status().code() == sb::StatusCode::kUnavailable);
}

TEST_CASE("without servers set, addresses come from the system (localhost from /etc/hosts)",
          "[integration]") {
  sb::core::SystemClock clock;
  auto resolver = DnsResolver::Create(clock, {});
  REQUIRE(resolver.ok());
  auto hops = (*resolver)->Locate({"localhost", 5070, Transport::kUdp});
  REQUIRE(hops.ok());
  CHECK(hops->front() == Destination{"127.0.0.1", 5070, Transport::kUdp});
}

TEST_CASE("name servers are ipv4:port", "[integration]") {
  sb::core::SystemClock clock;
  for (const char* bad : {"ns.example:53", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000"}) {
    auto resolver = DnsResolver::Create(clock, {.servers = {bad}});
    REQUIRE_FALSE(resolver.ok());
    CHECK(resolver.status().field() == "servers");
  }
}
