#include "switchboard/media_client/node_directory.h"

#include <catch2/catch.hpp>

namespace sb::media_client {
namespace {

using std::chrono::milliseconds;

TEST_CASE("the least-loaded live node is picked, by fraction of capacity", "[directory]") {
  core::FakeClock clock;
  NodeDirectory nodes(clock);
  nodes.Observe({.node_id = "m1", .legs = 50, .capacity = 100});
  nodes.Observe({.node_id = "m2", .legs = 300, .capacity = 1000});
  nodes.Observe({.node_id = "m3", .legs = 20, .capacity = 100});
  auto pick = nodes.PickLeastLoaded();
  REQUIRE(pick.ok());
  CHECK(pick->node_id == "m3");
  nodes.Observe({.node_id = "m3", .legs = 90, .capacity = 100});
  CHECK(nodes.PickLeastLoaded()->node_id == "m2");
}

TEST_CASE("draining and full nodes get no new calls", "[directory]") {
  core::FakeClock clock;
  NodeDirectory nodes(clock);
  nodes.Observe({.node_id = "m1", .legs = 0, .capacity = 100, .draining = true});
  nodes.Observe({.node_id = "m2", .legs = 100, .capacity = 100});
  CHECK(nodes.PickLeastLoaded().status().code() == StatusCode::kUnavailable);
  nodes.Observe({.node_id = "m3", .legs = 99, .capacity = 100});
  CHECK(nodes.PickLeastLoaded()->node_id == "m3");
}

TEST_CASE("a node silent for three intervals is lost, reported once, and not picked",
          "[directory]") {
  core::FakeClock clock;
  NodeDirectory nodes(clock);
  nodes.Observe({.node_id = "m1", .legs = 0, .capacity = 100, .interval_ms = 1000});
  nodes.Observe({.node_id = "m2", .legs = 60, .capacity = 100, .interval_ms = 1000});
  clock.Advance(milliseconds(2000));
  nodes.Observe({.node_id = "m2", .legs = 60, .capacity = 100, .interval_ms = 1000});
  CHECK(nodes.TakeLost().empty());
  clock.Advance(milliseconds(1000));  // m1 silent 3 s, m2 1 s
  CHECK_FALSE(nodes.IsLive("m1"));
  CHECK(nodes.IsLive("m2"));
  CHECK(nodes.PickLeastLoaded()->node_id == "m2");
  CHECK(nodes.Find("m1").status().code() == StatusCode::kNotFound);
  CHECK(nodes.Find("m2")->legs == 60);
  CHECK(nodes.TakeLost() == std::vector<std::string>{"m1"});
  CHECK(nodes.TakeLost().empty());
  clock.Advance(milliseconds(5000));
  CHECK(nodes.PickLeastLoaded().status().code() == StatusCode::kUnavailable);
  CHECK(nodes.TakeLost() == std::vector<std::string>{"m2"});
}

TEST_CASE("the next expiry is when the earliest live node goes quiet", "[directory]") {
  core::FakeClock clock;
  NodeDirectory nodes(clock);
  CHECK_FALSE(nodes.NextExpiry().has_value());
  const auto start = clock.Now();
  nodes.Observe({.node_id = "m1", .legs = 0, .capacity = 100, .interval_ms = 1000});
  clock.Advance(milliseconds(500));
  nodes.Observe({.node_id = "m2", .legs = 0, .capacity = 100, .interval_ms = 200});
  REQUIRE(nodes.NextExpiry().has_value());
  CHECK(*nodes.NextExpiry() == start + milliseconds(500 + 600));
  clock.Advance(milliseconds(700));  // m2 quiet 700 ms (lost), m1 1200 ms of its 3000
  CHECK(*nodes.NextExpiry() == start + milliseconds(3000));
  clock.Advance(milliseconds(2000));
  CHECK_FALSE(nodes.NextExpiry().has_value());
}

}  // namespace
}  // namespace sb::media_client
