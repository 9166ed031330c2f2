// MediaClient and NodeTracker against the real sb-media executable on a real nats-server: the
// tracker learns the node from its load reports, the client anchors two phones' legs on it,
// bridges and destroys them; errors come back with the node's codes; a draining node is not
// picked and a stopped one is reported lost.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "media_process.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/media_client/media_client.h"
#include "switchboard/media_client/node_tracker.h"
#include "switchboard/testing/nats_connect.h"
#include "switchboard/testing/servers.h"

namespace sb::media_client {
namespace {

using test::MediaProcess;
using test::Phone;

using std::chrono::milliseconds;
using std::chrono::seconds;

// A private nats-server per test: another test's media nodes on a shared server would report on
// the same subject and could be picked.
struct Cluster {
  testing::NatsServer nats = testing::NatsServer::Start();
  std::unique_ptr<bus::NatsBus> bus = testing::ConnectNats(nats.url(), "media-client-test");
  core::SystemClock clock;
  NodeTracker tracker{*bus, clock};

  // Whether `node`'s load reports come to count `legs` legs within a few seconds.
  bool ReportsLegs(const std::string& node, uint32_t legs) {
    return tracker.WaitUntil(
        [&] {
          auto r = tracker.Find(node);
          return r.ok() && r->legs == legs;
        },
        seconds(5));
  }
};

// The cluster with one sb-media node that the tracker already counts live.
struct OneNodeCluster : Cluster {
  MediaProcess node{nats.url()};

  OneNodeCluster() {
    REQUIRE(tracker.Start().ok());
    REQUIRE(tracker.WaitUntil([&] { return tracker.IsLive(node.node_id()); }, seconds(10)));
  }
};

TEST_CASE("the picked node anchors two legs from SDP offers then bridges and destroys them",
          "[natstest][media_client]") {
  OneNodeCluster cluster;
  MediaProcess& node = cluster.node;

  auto picked = cluster.tracker.PickLeastLoaded();
  REQUIRE(picked.ok());
  CHECK(picked->node_id == node.node_id());
  CHECK(picked->capacity == 100);
  CHECK(picked->advertised_address == "127.0.0.1");

  MediaClient media(*cluster.bus, picked->node_id, seconds(5));
  Phone alice;
  Phone bob;
  media_v1::CreateLegRequest a;
  a.set_tenant_id("tenant-1");
  a.set_call_id("call-1");
  a.set_leg_id("alice");
  a.set_sdp_type(media_v1::SDP_TYPE_OFFER);
  a.set_sdp(alice.Offer("0"));
  auto leg_a = media.CreateLeg(a);
  REQUIRE(leg_a.ok());
  CHECK(leg_a->leg_id() == "alice");
  CHECK(leg_a->codec() == "PCMU");
  CHECK(leg_a->sdp().find("c=IN IP4 127.0.0.1") != std::string::npos);

  media_v1::CreateLegRequest b = a;
  b.set_leg_id("bob");
  b.set_sdp(bob.Offer("8"));
  auto leg_b = media.CreateLeg(b);
  REQUIRE(leg_b.ok());
  CHECK(leg_b->codec() == "PCMA");

  auto bridged = media.Bridge("alice", "bob");
  REQUIRE(bridged.ok());
  CHECK(bridged->transcoding());  // PCMU on one side, PCMA on the other

  // The node counts the legs in its next reports.
  CHECK(cluster.ReportsLegs(node.node_id(), 2));

  CHECK(media.Unbridge("alice").ok());
  CHECK(media.DestroyLeg("alice").ok());
  CHECK(media.DestroyLeg("bob").ok());
  // A second destroy is the node's NOT_FOUND, not a transport error.
  CHECK(media.DestroyLeg("alice").code() == StatusCode::kNotFound);
  CHECK(cluster.ReportsLegs(node.node_id(), 0));
  CHECK(node.Terminate() == 0);
}

TEST_CASE("a call's legs are made as a pair - answered and bridged - then destroyed together",
          "[natstest][media_client]") {
  OneNodeCluster cluster;
  MediaProcess& node = cluster.node;
  MediaClient media(*cluster.bus, node.node_id(), seconds(5));
  Phone alice;
  Phone bob;
  media_v1::CreateLegPairRequest pair;
  pair.mutable_a()->set_tenant_id("tenant-1");
  pair.mutable_a()->set_call_id("call-2");
  pair.mutable_a()->set_leg_id("alice");
  pair.mutable_a()->set_sdp_type(media_v1::SDP_TYPE_OFFER);
  pair.mutable_a()->set_sdp(alice.Offer("0"));
  pair.mutable_b()->set_tenant_id("tenant-1");
  pair.mutable_b()->set_call_id("call-2");
  pair.mutable_b()->set_leg_id("bob");
  auto legs = media.CreateLegPair(pair);
  REQUIRE(legs.ok());
  CHECK(legs->a().codec() == "PCMU");
  CHECK(legs->b().leg_id() == "bob");
  CHECK(legs->b().sdp().find("c=IN IP4 127.0.0.1") != std::string::npos);

  media_v1::UpdateLegRequest answer;
  answer.set_leg_id("bob");
  answer.set_sdp_type(media_v1::SDP_TYPE_ANSWER);
  answer.set_sdp(bob.Offer("8"));
  answer.set_bridge_with("alice");
  auto answered = media.UpdateLeg(answer);
  REQUIRE(answered.ok());
  CHECK(answered->codec() == "PCMA");
  CHECK(answered->transcoding());
  CHECK(cluster.ReportsLegs(node.node_id(), 2));

  // Destroyed, each with its final statistics (what its final leg_stats event says).
  auto destroyed = media.DestroyLegs({"alice", "bob"});
  REQUIRE(destroyed.ok());
  REQUIRE(destroyed->legs_size() == 2);
  CHECK(destroyed->legs(0).leg().leg_id() == "alice");
  CHECK(destroyed->legs(1).leg().leg_id() == "bob");
  CHECK(destroyed->legs(1).codec() == "PCMA");
  CHECK(destroyed->legs(1).final());
  CHECK(media.DestroyLegs({"alice"}).status().code() == StatusCode::kNotFound);
  CHECK(cluster.ReportsLegs(node.node_id(), 0));

  // A pair the node cannot make: the field names the leg, and nothing is left on the node.
  pair.mutable_b()->set_sdp(bob.Offer("0"));  // SDP without saying offer or answer
  auto refused = media.CreateLegPair(pair);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().field() == "b.sdp_type");
  CHECK(media.DestroyLeg("alice").code() == StatusCode::kNotFound);
  CHECK(node.Terminate() == 0);
}

TEST_CASE("the node's refusals keep their code and field and a silent node is UNAVAILABLE",
          "[natstest][media_client]") {
  OneNodeCluster cluster;
  MediaProcess& node = cluster.node;
  MediaClient media(*cluster.bus, node.node_id(), seconds(5));

  media_v1::CreateLegRequest untyped;
  untyped.set_tenant_id("tenant-1");
  untyped.set_call_id("call-1");
  untyped.set_sdp(Phone().Offer("0"));  // SDP without saying offer or answer
  auto refused = media.CreateLeg(untyped);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().field() == "sdp_type");

  CHECK(media.Bridge("nobody", "nobody-else").status().code() == StatusCode::kNotFound);

  MediaClient nowhere(*cluster.bus, "no-such-node", milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  auto silent = nowhere.DestroyLeg("x");
  CHECK(silent.code() == StatusCode::kUnavailable);
  CHECK(silent.message().find("no-such-node") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < seconds(3));  // bounded, never a hang

  MediaClient bad_id(*cluster.bus, "not a token", milliseconds(300));
  CHECK(bad_id.DestroyLeg("x").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a draining node is not picked and a stopped node is reported lost once",
          "[natstest][media_client]") {
  OneNodeCluster cluster;
  MediaProcess& node = cluster.node;
  REQUIRE(cluster.tracker.PickLeastLoaded().ok());
  CHECK(cluster.tracker.TakeLost().empty());

  node.SignalTerm();
  REQUIRE(cluster.tracker.WaitUntil(
      [&] {
        auto r = cluster.tracker.Find(node.node_id());
        return r.ok() && r->draining;
      },
      seconds(5)));
  CHECK(cluster.tracker.PickLeastLoaded().status().code() == StatusCode::kUnavailable);
  CHECK(node.Terminate() == 0);

  // Three missed 200 ms reports after the exit.
  auto lost = cluster.tracker.WaitLost(seconds(5));
  CHECK(lost == std::vector<std::string>{node.node_id()});
  CHECK_FALSE(cluster.tracker.IsLive(node.node_id()));
  CHECK(cluster.tracker.TakeLost().empty());
  CHECK(cluster.tracker.bad_reports() == 0);
}

}  // namespace
}  // namespace sb::media_client
