// MediaClientAnchor (the B2BUA's MediaAnchor port) against the real sb-media executable on a
// real nats-server: the call's first leg goes to the live node, the second is the node's offer
// completed by the callee's answer, the legs bridge and are destroyed; a named tone played to a
// leg reaches its phone as RTP, and a recording starts and stops; with no live node the anchor
// says UNAVAILABLE.
#include <catch2/catch.hpp>

#include "media_process.h"
#include "rpc/call_media_anchor.h"
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

TEST_CASE("the anchor puts a call's two legs on the live node and bridges them",
          "[natstest][media]") {
  Fixture f;
  MediaProcess node(f.nats.url());
  REQUIRE(f.nodes->WaitUntil([&] { return f.nodes->IsLive(node.node_id()); }, seconds(10)));
  MediaClientAnchor anchor(*f.bus, *f.nodes, seconds(5));
  const TenantId tenant("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b");

  Phone caller;
  auto a = anchor.CreateLeg(tenant, "call-1", "a", "", caller.Offer("0 8"));
  REQUIRE(a.ok());
  CHECK(a->node_id == node.node_id());
  CHECK(a->codec == "PCMU");
  CHECK(a->sdp.find("c=IN IP4 127.0.0.1") != std::string::npos);

  // The callee's leg: the node offers, the callee answers.
  auto b = anchor.CreateLeg(tenant, "call-1", "b", a->node_id, "");
  REQUIRE(b.ok());
  CHECK(b->node_id == node.node_id());
  CHECK(b->sdp.find("m=audio ") != std::string::npos);
  Phone callee;
  auto answered = anchor.UpdateLeg(b->node_id, "b", false, callee.Offer("0"));
  REQUIRE(answered.ok());
  CHECK(answered->codec == "PCMU");

  auto transcoding = anchor.Bridge(a->node_id, "a", "b");
  REQUIRE(transcoding.ok());
  CHECK_FALSE(*transcoding);  // PCMU on both sides

  CHECK(anchor.DestroyLeg(a->node_id, "a").ok());
  CHECK(anchor.DestroyLeg(b->node_id, "b").ok());
  CHECK(anchor.DestroyLeg(b->node_id, "b").code() == StatusCode::kNotFound);
  CHECK(node.Terminate() == 0);
}

TEST_CASE(
    "a named tone played on a leg reaches its phone as RTP - stop_play - a recording starts and "
    "stops - an unknown tone is INVALID_ARGUMENT",
    "[natstest][media]") {
  Fixture f;
  MediaProcess node(f.nats.url());
  REQUIRE(f.nodes->WaitUntil([&] { return f.nodes->IsLive(node.node_id()); }, seconds(10)));
  MediaClientAnchor anchor(*f.bus, *f.nodes, seconds(5));
  Phone caller;
  auto a = anchor.CreateLeg(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-2", "a", "",
                            caller.Offer("0"));
  REQUIRE(a.ok());

  auto playback = anchor.Play(a->node_id, "a", {.tone = "ringback"});
  REQUIRE(playback.ok());
  CHECK_FALSE(playback->empty());
  // The node sends the tone to the address of the phone's offer (RTP: version 2, PCMU).
  auto packet = caller.Receive(std::chrono::milliseconds(2000));
  REQUIRE(packet);
  REQUIRE(packet->data.size() > 12);
  CHECK((packet->data[0] >> 6) == 2);
  CHECK((packet->data[1] & 0x7f) == 0);
  CHECK(anchor.StopPlay(a->node_id, "a").ok());
  CHECK(anchor.Play(a->node_id, "a", {.tone = "dial"}).status().code() ==
        StatusCode::kInvalidArgument);

  auto recording = anchor.RecordStart(a->node_id, "a", {.recording_id = "rec-call-2"});
  REQUIRE(recording.ok());
  CHECK(recording->recording_id == "rec-call-2");
  CHECK(recording->file.ends_with("rec-call-2.wav"));
  CHECK(anchor.RecordStop(a->node_id, "a").ok());
  CHECK(anchor.DestroyLeg(a->node_id, "a").ok());
  CHECK(node.Terminate() == 0);
}

TEST_CASE("without a live media node the anchor is UNAVAILABLE", "[natstest][media]") {
  Fixture f;
  MediaClientAnchor anchor(*f.bus, *f.nodes, std::chrono::milliseconds(300));
  Phone caller;
  auto leg = anchor.CreateLeg(TenantId("0190f5a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"), "call-1", "a", "",
                              caller.Offer("0"));
  CHECK(leg.status().code() == StatusCode::kUnavailable);
  // A node named by a stored call that is gone.
  CHECK(anchor.DestroyLeg("media-gone", "a").code() == StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sb::signaling
