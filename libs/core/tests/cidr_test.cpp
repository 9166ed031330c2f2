#include "switchboard/core/cidr.h"

#include <catch2/catch.hpp>

using sb::core::Cidr;

TEST_CASE("a network contains the addresses its prefix covers - of its own family only", "[unit]") {
  auto net = Cidr::Parse("203.0.113.0/24");
  REQUIRE(net.ok());
  CHECK(net->Contains("203.0.113.0"));
  CHECK(net->Contains("203.0.113.255"));
  CHECK_FALSE(net->Contains("203.0.114.1"));
  CHECK_FALSE(net->Contains("::ffff:203.0.113.7"));
  CHECK_FALSE(net->Contains("not an address"));
  auto host = Cidr::Parse("127.0.0.1");  // a bare address: that one only
  REQUIRE(host.ok());
  CHECK(host->Contains("127.0.0.1"));
  CHECK_FALSE(host->Contains("127.0.0.2"));
  auto v6 = Cidr::Parse("2001:db8::/32");
  REQUIRE(v6.ok());
  CHECK(v6->Contains("2001:db8:ffff::1"));
  CHECK_FALSE(v6->Contains("2001:db9::1"));
  auto all = Cidr::Parse("0.0.0.0/0");
  REQUIRE(all.ok());
  CHECK(all->Contains("198.51.100.1"));
}

TEST_CASE("a network is written in canonical form - address bits past the prefix are seen",
          "[unit]") {
  CHECK(Cidr::Parse("2001:DB8:0:0::/32")->ToString() == "2001:db8::/32");
  CHECK(Cidr::Parse("::1")->ToString() == "::1/128");
  CHECK(Cidr::Parse("10.0.0.0/8")->HostBitsZero());
  CHECK_FALSE(Cidr::Parse("10.0.0.1/8")->HostBitsZero());
}

TEST_CASE("what is not a network is refused with the reason", "[unit]") {
  for (const char* bad : {"", "10.0.0/8", "example.com", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1",
                          "10.0.0.0/+8", "10.0.0.0/0008"}) {
    INFO(bad);
    auto r = Cidr::Parse(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == sb::StatusCode::kInvalidArgument);
  }
  CHECK(Cidr::Parse("10.0.0.0/33").status().message() ==
        "has a prefix length longer than the address");
  CHECK(Cidr::Parse("::/129").status().message() == "has a prefix length longer than the address");
}

TEST_CASE("an IP literal is an IPv4 or IPv6 address - the latter also in brackets", "[unit]") {
  CHECK(sb::core::IsIpLiteral("203.0.113.7"));
  CHECK(sb::core::IsIpLiteral("2001:db8::1"));
  CHECK(sb::core::IsIpLiteral("[2001:db8::1]"));
  CHECK_FALSE(sb::core::IsIpLiteral("sip.carrier.example"));
  CHECK_FALSE(sb::core::IsIpLiteral("[203.0.113.7"));
  CHECK_FALSE(sb::core::IsIpLiteral("[]"));
  CHECK_FALSE(sb::core::IsIpLiteral(""));
}
