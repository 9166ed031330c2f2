// MediaClientAnchor (the B2BUA's MediaAnchor port) against the real sb-media executable on a
// real nats-server: the call's first leg goes to the live node, the second is the node's offer
// completed by the callee's answer, the legs bridge and are destroyed; a named tone played to a
// leg reaches its phone as RTP, and a recording starts and stops; with no live node the anchor
// says UNAVAILABLE. A two-party call's legs are made, answered and bridged, and destroyed in one
// request each (create_leg_pair, update_leg with bridge_with, destroy_legs).
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <thread>

#include "media_process.h"
#include "rpc/call_media_anchor.h"
#include "switchboard/bus/async_requests.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/testing/servers.h"

namespace sb::signaling {
namespace {

using media_client::test::MediaProcess;
using media_client::test::Phone;
using std::chrono::seconds;

struct Fixture {
  testing::NatsServer nats = testing::NatsServer::Start();
  std::unique_ptr<bus::NatsBus> bus;
  core::SystemClock clock;
  std::unique_ptr<media_client::NodeTracker> nodes;

  Fixture() {
    bus::NatsBusOptions options;
    options.url = nats.url();
    auto connected = bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    nodes = std::make_unique<media_client::NodeTracker>(*bus, clock);
    REQUIRE(nodes->Start().ok());
  }
};

// The fixture with one live sb-media node and the anchor in front of it.
struct NodeFixture : Fixture {
  MediaProcess node{nats.url()};
  MediaClientAnchor anchor{*bus, *nodes, seconds(5)};

  NodeFixture() {
    REQUIRE(nodes->WaitUntil([&] { return nodes->IsLive(node.node_id()); }, seconds(10)));
  }

  // Whether the node's load reports come to count `n` legs within a few seconds.
  bool ReportsLegs(uint32_t n) {
    return nodes->WaitUntil(
        [&] {
          auto r = nodes->Find(node.node_id());
          return r.ok() && r->legs == n;
        },
        seconds(5));
  }
};

TEST_CASE("the anchor puts a call's two legs on the live node and bridges them",
          "[natstest][media]") {
  NodeFixture f;
  const TenantId tenant("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b");

  Phone caller;
  auto a = f.anchor.CreateLeg(tenant, "call-1", "a", "", caller.Offer("0 8"));
  REQUIRE(a.ok());
  CHECK(a->node_id == f.node.node_id());
  CHECK(a->codec == "PCMU");
  CHECK(a->sdp.find("c=IN IP4 127.0.0.1") != std::string::npos);

  // The callee's leg: the node offers, the callee answers.
  auto b = f.anchor.CreateLeg(tenant, "call-1", "b", a->node_id, "");
  REQUIRE(b.ok());
  CHECK(b->node_id == f.node.node_id());
  CHECK(b->sdp.find("m=audio ") != std::string::npos);
  Phone callee;
  auto answered = f.anchor.UpdateLeg(b->node_id, "b", false, callee.Offer("0"));
  REQUIRE(answered.ok());
  CHECK(answered->codec == "PCMU");

  auto transcoding = f.anchor.Bridge(a->node_id, "a", "b");
  REQUIRE(transcoding.ok());
  CHECK_FALSE(*transcoding);  // PCMU on both sides

  CHECK(f.anchor.DestroyLeg(a->node_id, "a").ok());
  CHECK(f.anchor.DestroyLeg(b->node_id, "b").ok());
  CHECK(f.anchor.DestroyLeg(b->node_id, "b").code() == StatusCode::kNotFound);
  CHECK(f.node.Terminate() == 0);
}

TEST_CASE(
    "a two-party call's media is one request each to make the legs - answer and bridge - and "
    "tear down",
    "[natstest][media]") {
  NodeFixture f;
  const TenantId tenant("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b");

  Phone caller;
  auto pair = f.anchor.CreateLegPair(tenant, "call-3", "a", "b", caller.Offer("8 0"));
  REQUIRE(pair.ok());
  CHECK(pair->a.node_id == f.node.node_id());
  CHECK(pair->b.node_id == f.node.node_id());
  CHECK(pair->a.codec == "PCMA");
  CHECK(pair->a.sdp.find("c=IN IP4 127.0.0.1") != std::string::npos);
  CHECK(pair->b.sdp.find("m=audio ") != std::string::npos);
  CHECK(f.ReportsLegs(2));

  // The callee answers PCMU: the answer and the bridge in one go, and they hear each other.
  Phone callee;
  REQUIRE(f.anchor.AnswerLeg(pair->b.node_id, "b", callee.Offer("0"), "a").ok());
  // The node refuses to bridge them again: the answer did bridge them.
  CHECK(f.anchor.Bridge(pair->a.node_id, "a", "b").status().code() ==
        StatusCode::kFailedPrecondition);

  CHECK(f.anchor.DestroyLegs(pair->a.node_id, {"a", "b"}).ok());
  CHECK(f.ReportsLegs(0));
  CHECK(f.anchor.DestroyLegs(pair->a.node_id, {"a", "b"}).code() == StatusCode::kNotFound);

  // A pair the node refuses leaves no leg, and an answer bridged with a gone leg is NOT_FOUND.
  auto refused = f.anchor.CreateLegPair(tenant, "call-4", "a", "b", "not sdp");
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().field() == "a.sdp");
  auto kept = f.anchor.CreateLegPair(tenant, "call-5", "c", "d", caller.Offer("0"));
  REQUIRE(kept.ok());
  CHECK(f.anchor.AnswerLeg(kept->b.node_id, "d", callee.Offer("0"), "gone").code() ==
        StatusCode::kNotFound);
  CHECK(f.anchor.DestroyLegs(kept->a.node_id, {"c", "d"}).ok());
  CHECK(f.node.Terminate() == 0);
}

TEST_CASE(
    "a named tone played on a leg reaches its phone as RTP - stop_play - a recording starts and "
    "stops - an unknown tone is INVALID_ARGUMENT",
    "[natstest][media]") {
  NodeFixture f;
  Phone caller;
  auto a = f.anchor.CreateLeg(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-2", "a", "",
                              caller.Offer("0"));
  REQUIRE(a.ok());

  auto playback = f.anchor.Play(a->node_id, "a", {.tone = "ringback"});
  REQUIRE(playback.ok());
  CHECK_FALSE(playback->empty());
  // The node sends the tone to the address of the phone's offer (RTP: version 2, PCMU).
  auto packet = caller.Receive(std::chrono::milliseconds(2000));
  REQUIRE(packet);
  REQUIRE(packet->data.size() > 12);
  CHECK((packet->data[0] >> 6) == 2);
  CHECK((packet->data[1] & 0x7f) == 0);
  CHECK(f.anchor.StopPlay(a->node_id, "a").ok());
  CHECK(f.anchor.Play(a->node_id, "a", {.tone = "dial"}).status().code() ==
        StatusCode::kInvalidArgument);

  auto recording = f.anchor.RecordStart(a->node_id, "a", {.recording_id = "rec-call-2"});
  REQUIRE(recording.ok());
  CHECK(recording->recording_id == "rec-call-2");
  CHECK(recording->file.ends_with("rec-call-2.wav"));
  CHECK(f.anchor.RecordStop(a->node_id, "a").ok());
  CHECK(f.anchor.DestroyLeg(a->node_id, "a").ok());
  CHECK(f.node.Terminate() == 0);
}

TEST_CASE(
    "released legs come back with their final statistics without blocking - none for a leg the "
    "node does not have or a node that is gone",
    "[natstest][media]") {
  NodeFixture f;
  auto requests = bus::AsyncRequests::Start(*f.bus);
  REQUIRE(requests.ok());
  MediaClientAnchor anchor(*f.bus, *f.nodes, seconds(5), std::move(*requests));
  Phone caller;
  auto a = anchor.CreateLeg(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-6", "a", "",
                            caller.Offer("0"));
  REQUIRE(a.ok());
  auto release = [&](const std::string& node, std::vector<std::string> legs) {
    auto got = std::make_shared<std::promise<MediaClientAnchor::LegFinals>>();
    auto finals = got->get_future();
    anchor.ReleaseLegsReporting(node, legs, [got](auto measured) { got->set_value(measured); });
    REQUIRE(finals.wait_for(seconds(5)) == std::future_status::ready);
    return finals.get();
  };
  auto finals = release(a->node_id, {"a"});
  REQUIRE(finals.count("a") == 1);
  CHECK(finals.at("a").packets_received == 0);  // the phone sent nothing
  CHECK(f.ReportsLegs(0));
  CHECK(release(a->node_id, {"a"}).empty());
  CHECK(release("media-gone", {"a"}).empty());
  CHECK(f.node.Terminate() == 0);
}

TEST_CASE(
    "a leg pair the node makes after the anchor stopped waiting is destroyed - no orphaned legs",
    "[natstest][media]") {
  NodeFixture f;
  MediaClientAnchor impatient(*f.bus, *f.nodes, std::chrono::milliseconds(300));
  Phone caller;
  f.node.Pause();
  auto pair = impatient.CreateLegPair(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-late",
                                      "a", "b", caller.Offer("0"));
  f.node.Resume();
  CHECK(pair.status().code() == StatusCode::kUnavailable);
  // The node takes the queued create, then the abandon that followed it. Reports from before
  // the create also say 0: give it time to have made the legs first.
  std::this_thread::sleep_for(seconds(1));
  CHECK(f.ReportsLegs(0));
  CHECK(f.node.Terminate() == 0);
}

TEST_CASE("without a live media node the anchor is UNAVAILABLE", "[natstest][media]") {
  Fixture f;
  MediaClientAnchor anchor(*f.bus, *f.nodes, std::chrono::milliseconds(300));
  Phone caller;
  auto leg = anchor.CreateLeg(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-1", "a", "",
                              caller.Offer("0"));
  CHECK(leg.status().code() == StatusCode::kUnavailable);
  auto pair = anchor.CreateLegPair(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-1", "a",
                                   "b", caller.Offer("0"));
  CHECK(pair.status().code() == StatusCode::kUnavailable);
  // A node named by a stored call that is gone.
  CHECK(anchor.DestroyLeg("media-gone", "a").code() == StatusCode::kUnavailable);
  CHECK(anchor.DestroyLegs("media-gone", {"a", "b"}).code() == StatusCode::kUnavailable);
  CHECK(anchor.AnswerLeg("media-gone", "b", caller.Offer("0"), "a").code() ==
        StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sb::signaling
