#include "net/port_allocator.h"

#include <catch2/catch.hpp>
#include <set>

namespace sb::media {
namespace {

TEST_CASE("ports come as even RTP ports with the odd RTCP port in the range", "[ports]") {
  PortAllocator ports(30001, 30010);  // pairs 30002/3 .. 30008/9; 30010 has no partner
  CHECK(ports.capacity() == 4);
  std::set<uint16_t> got;
  for (int i = 0; i < 4; ++i) {
    auto p = ports.Allocate();
    REQUIRE(p.ok());
    CHECK(*p % 2 == 0);
    CHECK(*p >= 30002);
    CHECK(*p + 1 <= 30010);
    got.insert(*p);
  }
  CHECK(got.size() == 4);
  CHECK(ports.in_use() == 4);
}

TEST_CASE("an exhausted range says so, and a released pair is usable again", "[ports]") {
  PortAllocator ports(40000, 40003);
  auto a = ports.Allocate();
  auto b = ports.Allocate();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto c = ports.Allocate();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kResourceExhausted);
  ports.Release(*a);
  auto d = ports.Allocate();
  REQUIRE(d.ok());
  CHECK(*d == *a);
}

TEST_CASE("a released pair is not handed out again before the others", "[ports]") {
  PortAllocator ports(50000, 50009);  // 5 pairs
  auto first = ports.Allocate();
  REQUIRE(first.ok());
  ports.Release(*first);
  auto next = ports.Allocate();
  REQUIRE(next.ok());
  CHECK(*next != *first);
}

TEST_CASE("releasing what was never allocated changes nothing", "[ports]") {
  PortAllocator ports(50000, 50009);
  ports.Release(50001);
  ports.Release(50002);
  ports.Release(60000);
  CHECK(ports.in_use() == 0);
  auto a = ports.Allocate();
  REQUIRE(a.ok());
  ports.Release(*a);
  ports.Release(*a);
  CHECK(ports.in_use() == 0);
}

TEST_CASE("an empty or inverted range has no capacity", "[ports]") {
  PortAllocator inverted(40010, 40000);
  CHECK(inverted.capacity() == 0);
  CHECK(inverted.Allocate().status().code() == StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace sb::media
