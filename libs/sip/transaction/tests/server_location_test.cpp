// RFC 3263 §4.2 for a known transport, against a DNS table in the test: literal addresses, names
// with and without a port, SRV targets in RFC 2782 order, and what each failure gives.
#include "switchboard/sip/server_location.h"

#include <catch2/catch.hpp>
#include <map>

using namespace sb::sip;
using sb::Result;
using sb::Status;
using sb::StatusCode;

namespace {

// A zone: SRV and A records by name; names in `failing` answer SERVFAIL; every lookup is logged.
struct Zone {
  std::map<std::string, std::vector<SrvRecord>> srv;
  std::map<std::string, std::vector<std::string>> a;
  std::vector<std::string> failing;
  std::vector<std::string> asked;

  ServerLookups Lookups() {
    return {
        .srv = [this](const std::string& name) -> Result<std::vector<SrvRecord>> {
          asked.push_back("SRV " + name);
          if (std::find(failing.begin(), failing.end(), name) != failing.end()) {
            return Status::Unavailable("SERVFAIL");
          }
          auto it = srv.find(name);
          return it == srv.end() ? std::vector<SrvRecord>{} : it->second;
        },
        .addresses = [this](const std::string& name) -> Result<std::vector<std::string>> {
          asked.push_back("A " + name);
          if (std::find(failing.begin(), failing.end(), name) != failing.end()) {
            return Status::Unavailable("SERVFAIL");
          }
          auto it = a.find(name);
          return it == a.end() ? std::vector<std::string>{} : it->second;
        },
    };
  }
};

// Draws that always take the lowest running sum (the first record of what is left).
uint32_t DrawLowest(uint32_t) { return 0; }
// ... and the highest (the last).
uint32_t DrawHighest(uint32_t bound) { return bound; }

std::vector<std::string> Hops(const Result<std::vector<Destination>>& located) {
  std::vector<std::string> out;
  for (const auto& d : *located) {
    out.push_back(std::string(TransportName(d.transport)) + " " + d.host + ":" +
                  std::to_string(d.port));
  }
  return out;
}

}  // namespace

TEST_CASE("an IP address is its own destination, on the transport's default port without one") {
  Zone zone;
  auto located = LocateServer({.host = "192.0.2.7", .port = 0, .transport = Transport::kUdp},
                              zone.Lookups(), DrawLowest);
  REQUIRE(located.ok());
  CHECK(Hops(located) == std::vector<std::string>{"UDP 192.0.2.7:5060"});
  located = LocateServer({.host = "192.0.2.7", .port = 5080, .transport = Transport::kTcp},
                         zone.Lookups(), DrawLowest);
  CHECK(Hops(located) == std::vector<std::string>{"TCP 192.0.2.7:5080"});
  located = LocateServer({.host = "[2001:db8::1]", .port = 0, .transport = Transport::kTls},
                         zone.Lookups(), DrawLowest);
  CHECK(Hops(located) == std::vector<std::string>{"TLS [2001:db8::1]:5061"});
  CHECK(zone.asked.empty());
}

TEST_CASE("a name with a port is looked up for its addresses only, each tried in turn") {
  Zone zone;
  zone.a["gw.carrier.example"] = {"192.0.2.1", "192.0.2.2"};
  zone.srv["_sip._udp.gw.carrier.example"] = {{10, 10, 5070, "other.carrier.example"}};
  auto located =
      LocateServer({.host = "gw.carrier.example", .port = 5080, .transport = Transport::kUdp},
                   zone.Lookups(), DrawLowest);
  REQUIRE(located.ok());
  CHECK(Hops(located) == std::vector<std::string>{"UDP 192.0.2.1:5080", "UDP 192.0.2.2:5080"});
  CHECK(zone.asked == std::vector<std::string>{"A gw.carrier.example"});
}

TEST_CASE(
    "a name without a port goes by its SRV records for the transport, lowest priority "
    "first, each target's addresses on the record's port") {
  Zone zone;
  zone.srv["_sip._tcp.carrier.example"] = {{20, 0, 5090, "backup.carrier.example"},
                                           {10, 0, 5080, "main.carrier.example"}};
  zone.a["main.carrier.example"] = {"192.0.2.10"};
  zone.a["backup.carrier.example"] = {"192.0.2.20", "192.0.2.21"};
  auto located = LocateServer({.host = "carrier.example", .port = 0, .transport = Transport::kTcp},
                              zone.Lookups(), DrawHighest);
  REQUIRE(located.ok());
  CHECK(Hops(located) == std::vector<std::string>{"TCP 192.0.2.10:5080", "TCP 192.0.2.20:5090",
                                                  "TCP 192.0.2.21:5090"});
  CHECK(zone.asked.front() == "SRV _sip._tcp.carrier.example");
}

TEST_CASE("the SRV name follows the transport") {
  CHECK(SrvName("carrier.example", Transport::kUdp) == "_sip._udp.carrier.example");
  CHECK(SrvName("carrier.example", Transport::kTcp) == "_sip._tcp.carrier.example");
  CHECK(SrvName("carrier.example", Transport::kTls) == "_sips._tcp.carrier.example");
  CHECK(DefaultPort(Transport::kTls) == 5061);
  CHECK(DefaultPort(Transport::kUdp) == 5060);
}

TEST_CASE("without SRV records a name's addresses are used on the default port") {
  Zone zone;
  zone.a["gw.carrier.example"] = {"192.0.2.1"};
  auto located =
      LocateServer({.host = "gw.carrier.example", .port = 0, .transport = Transport::kUdp},
                   zone.Lookups(), DrawLowest);
  REQUIRE(located.ok());
  CHECK(Hops(located) == std::vector<std::string>{"UDP 192.0.2.1:5060"});
  CHECK(zone.asked ==
        std::vector<std::string>{"SRV _sip._udp.gw.carrier.example", "A gw.carrier.example"});
}

TEST_CASE("within a priority the weights decide the order: the draw picks by running sum") {
  const std::vector<SrvRecord> records = {
      {10, 60, 1, "a"}, {10, 0, 2, "zero"}, {10, 40, 3, "b"}, {5, 1, 4, "first"}};
  // Weight 0 comes first in its priority, so only a draw of 0 picks it while others remain.
  auto lowest = OrderSrv(records, DrawLowest);
  CHECK(lowest[0].target == "first");
  CHECK(lowest[1].target == "zero");
  CHECK(lowest[2].target == "a");
  CHECK(lowest[3].target == "b");
  auto highest = OrderSrv(records, DrawHighest);
  CHECK(highest[0].target == "first");
  CHECK(highest[1].target == "b");
  CHECK(highest[2].target == "a");
  CHECK(highest[3].target == "zero");
  // A draw of 61 of 100 passes "a" (running 60) and takes "b" (running 100).
  std::vector<uint32_t> draws = {1, 61, 60, 0};
  size_t next = 0;
  auto scripted = OrderSrv(records, [&](uint32_t bound) {
    uint32_t d = draws.at(next++);
    CHECK(d <= bound);
    return d;
  });
  CHECK(scripted[1].target == "b");
  CHECK(scripted[2].target == "a");
  CHECK(scripted[3].target == "zero");
}

TEST_CASE("a weighted order gives each record its share over many draws") {
  std::vector<SrvRecord> records = {{10, 75, 1, "heavy"}, {10, 25, 2, "light"}};
  uint32_t state = 12345;
  auto lcg = [&](uint32_t bound) {
    state = state * 1103515245u + 12345u;
    return (state >> 8) % (bound + 1);
  };
  int heavy_first = 0;
  for (int i = 0; i < 4000; ++i) {
    if (OrderSrv(records, lcg).front().target == "heavy") ++heavy_first;
  }
  CHECK(heavy_first > 2800);  // 75 % of 4000 is 3000
  CHECK(heavy_first < 3200);
}

TEST_CASE("a target that fails to resolve is passed over; with none left the failure is told") {
  Zone zone;
  zone.srv["_sip._udp.carrier.example"] = {{10, 0, 5080, "down.carrier.example"},
                                           {20, 0, 5090, "up.carrier.example"}};
  zone.a["up.carrier.example"] = {"192.0.2.30"};
  zone.failing = {"down.carrier.example"};
  auto located = LocateServer({.host = "carrier.example", .port = 0, .transport = Transport::kUdp},
                              zone.Lookups(), DrawLowest);
  REQUIRE(located.ok());
  CHECK(Hops(located) == std::vector<std::string>{"UDP 192.0.2.30:5090"});

  zone.failing.push_back("up.carrier.example");
  located = LocateServer({.host = "carrier.example", .port = 0, .transport = Transport::kUdp},
                         zone.Lookups(), DrawLowest);
  REQUIRE_FALSE(located.ok());
  CHECK(located.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("no address, an SRV of '.', and DNS that does not answer") {
  Zone zone;
  auto located = LocateServer({.host = "nowhere.example", .port = 0, .transport = Transport::kUdp},
                              zone.Lookups(), DrawLowest);
  REQUIRE_FALSE(located.ok());
  CHECK(located.status().code() == StatusCode::kNotFound);

  zone.srv["_sip._udp.closed.example"] = {{0, 0, 0, "."}};
  zone.a["closed.example"] = {"192.0.2.40"};
  located = LocateServer({.host = "closed.example", .port = 0, .transport = Transport::kUdp},
                         zone.Lookups(), DrawLowest);
  REQUIRE_FALSE(located.ok());
  CHECK(located.status().code() == StatusCode::kNotFound);

  zone.failing = {"_sip._udp.flaky.example"};
  zone.a["flaky.example"] = {"192.0.2.50"};
  located = LocateServer({.host = "flaky.example", .port = 0, .transport = Transport::kUdp},
                         zone.Lookups(), DrawLowest);
  REQUIRE_FALSE(located.ok());
  CHECK(located.status().code() == StatusCode::kUnavailable);
}
