// A media node driven over a real nats-server with real RTP over loopback UDP: transcoding
// bridges, conferences, DTMF, load reports.
#include <catch2/catch.hpp>

#include "node_fixture.h"
#include "switchboard/codec/audio_codec.h"
#include "switchboard/codec/g711.h"
#include "switchboard/codec/tone_generator.h"
#include "test_util.h"

namespace sb::media {
namespace {

using test::Clock;
using test::NodeFixture;
using test::RtpPeer;
namespace v1 = switchboard::media::v1;

TEST_CASE("a 1 kHz tone sent as PCMU on one leg arrives as Opus on the other at 1 kHz",
          "[natstest][transcode]") {
  NodeFixture f;
  RtpPeer carrier, webrtc;
  f.CreateLeg(carrier, carrier.Offer("0"), "carrier");
  std::string answer =
      f.CreateLeg(webrtc, webrtc.Offer("111", "a=rtpmap:111 opus/48000/2\r\n"), "webrtc");
  CHECK(answer.find("opus/48000") != std::string::npos);
  v1::BridgeRequest bridge;
  bridge.set_leg_a("carrier");
  bridge.set_leg_b("webrtc");
  auto reply = f.Command<v1::BridgeReply>(ops::kBridge, bridge);
  REQUIRE(reply.error().code() == 0);
  CHECK(reply.transcoding());

  const auto start = Clock::now();
  for (size_t i = 0; i < 50; ++i) {
    test::PaceFrame(start, i);
    carrier.SendRtp(0, test::PcmuFrame(1000, i), 160);
  }
  auto packets = webrtc.ReceiveUntil(Clock::now() + std::chrono::milliseconds(300));
  auto dec = codec::MakeDecoder({.type = codec::CodecType::kOpus, .sample_rate = 48000});
  REQUIRE(dec.ok());
  std::vector<int16_t> heard;
  size_t opus_packets = 0;
  for (const auto& p : packets) {
    auto packet = rtp::ParseRtp(p);
    if (!packet.ok() || packet->header.payload_type != 111) continue;
    ++opus_packets;
    std::array<int16_t, codec::kMaxFrameSamples> pcm;
    auto n = (*dec)->Decode(packet->payload, pcm);
    REQUIRE(n.ok());
    heard.insert(heard.end(), pcm.begin(), pcm.begin() + static_cast<ptrdiff_t>(*n));
  }
  CHECK(opus_packets >= 45);  // loopback loses nothing; a few may still be in flight
  REQUIRE(heard.size() > 48000 / 2);
  std::span<const int16_t> tail(heard.data() + heard.size() / 2, heard.size() / 2);
  CHECK(test::DominantFrequency(tail, 48000) == Approx(1000).margin(10));
}

TEST_CASE("in a 3-party conference each party hears the other two and not itself",
          "[natstest][conference]") {
  NodeFixture f(2);  // two workers: members created on different workers move to the mix's
  std::map<std::string, double> tones = {{"p500", 500}, {"p1100", 1100}, {"p1700", 1700}};
  std::map<std::string, std::unique_ptr<RtpPeer>> peers;
  v1::ConferenceCreateRequest create;
  create.set_tenant_id(f.tenant);
  create.set_conference_id("room");
  REQUIRE(f.Command<v1::ConferenceReply>(ops::kConferenceCreate, create).error().code() == 0);
  uint32_t members = 0;
  for (const auto& [leg, freq] : tones) {
    peers[leg] = std::make_unique<RtpPeer>();
    peers[leg]->ssrc = static_cast<uint32_t>(freq);
    f.CreateLeg(*peers[leg], peers[leg]->Offer("0"), leg);
    v1::ConferenceMemberRequest add;
    add.set_conference_id("room");
    add.set_leg_id(leg);
    auto reply = f.Command<v1::ConferenceReply>(ops::kConferenceAdd, add);
    REQUIRE(reply.error().code() == 0);
    members = reply.members();
  }
  CHECK(members == 3);

  std::map<std::string, std::vector<std::vector<uint8_t>>> heard;
  std::thread receiver([&] {
    // Each peer's socket is read on this thread while the main thread sends.
    const auto until = Clock::now() + std::chrono::milliseconds(1800);
    while (Clock::now() < until) {
      for (auto& [leg, peer] : peers) {
        auto got = peer->ReceiveUntil(Clock::now() + std::chrono::milliseconds(5));
        for (auto& p : got) heard[leg].push_back(std::move(p));
      }
    }
  });
  const auto start = Clock::now();
  for (size_t i = 0; i < 75; ++i) {
    test::PaceFrame(start, i);
    for (auto& [leg, peer] : peers) peer->SendRtp(0, test::PcmuFrame(tones[leg], i), 160);
  }
  receiver.join();
  for (const auto& [leg, own] : tones) {
    DYNAMIC_SECTION("party " << leg) {
      auto pcm = test::HeardPcmu(heard[leg]);
      REQUIRE(pcm.size() >= 50 * 160);
      const double own_energy = test::ToneEnergy(pcm, own, 8000);
      for (const auto& [other, freq] : tones) {
        if (other == leg) continue;
        const double e = test::ToneEnergy(pcm, freq, 8000);
        INFO(leg << " hears " << other << ": " << e << ", itself: " << own_energy);
        CHECK(e > 1e5);
        CHECK(e > 100 * own_energy);
      }
    }
  }
}

TEST_CASE("RFC 4733 and in-band digits produce dtmf events", "[natstest][dtmf]") {
  NodeFixture f;
  test::EventInbox dtmf(*f.bus, f.EventPattern("dtmf"));
  RtpPeer rfc, inband;
  f.CreateLeg(rfc, rfc.Offer("0 101", "a=rtpmap:101 telephone-event/8000\r\n"), "rfc");
  v1::LegOptions options;
  options.set_inband_dtmf(true);
  f.CreateLeg(inband, inband.Offer("0"), "inband", options);

  std::array<uint8_t, 4> event;
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(
        rtp::BuildTelephoneEvent(
            {.event = 11, .end = false, .volume = 10, .duration = static_cast<uint16_t>(160 * i)},
            event)
            .ok());
    rfc.SendRtp(101, event, 0, i == 1);
  }
  REQUIRE(rtp::BuildTelephoneEvent({.event = 11, .end = true, .volume = 10, .duration = 800}, event)
              .ok());
  for (int i = 0; i < 3; ++i) rfc.SendRtp(101, event, 0);

  auto spec = codec::DtmfTone('4', 120, 200);
  REQUIRE(spec.ok());
  codec::ToneGenerator gen(8000, *spec);
  const auto start = Clock::now();
  for (size_t i = 0; i < 16; ++i) {
    test::PaceFrame(start, i);
    std::array<int16_t, 160> pcm;
    gen.Generate(pcm);
    std::array<uint8_t, 160> payload;
    codec::EncodeUlaw(pcm, payload);
    inband.SendRtp(0, payload, 160);
  }
  auto got_rfc = dtmf.Wait<v1::DtmfEvent>(
      [](const v1::DtmfEvent& e, const bus::Message&) { return e.leg().leg_id() == "rfc"; },
      std::chrono::seconds(3));
  REQUIRE(got_rfc.has_value());
  CHECK(got_rfc->digit() == "#");
  CHECK(got_rfc->source() == v1::DTMF_SOURCE_RFC4733);
  CHECK(got_rfc->duration_ms() == 100);
  CHECK(got_rfc->meta().tenant_id() == f.tenant);
  CHECK(got_rfc->meta().type() == "media.dtmf");
  CHECK(got_rfc->meta().correlation_id() == "call-rfc");
  CHECK(got_rfc->leg().node_id() == f.node_id);
  auto got_inband = dtmf.Wait<v1::DtmfEvent>(
      [](const v1::DtmfEvent& e, const bus::Message&) { return e.leg().leg_id() == "inband"; },
      std::chrono::seconds(3));
  REQUIRE(got_inband.has_value());
  CHECK(got_inband->digit() == "4");
  CHECK(got_inband->source() == v1::DTMF_SOURCE_INBAND);
  // Each digit once, although the end packet came three times.
  CHECK(dtmf.All<v1::DtmfEvent>().size() == 2);
}

TEST_CASE("the node reports its load, and a draining node takes no new legs", "[natstest][load]") {
  NodeFixture f;
  RtpPeer a;
  f.CreateLeg(a, a.Offer("0"), "a");
  test::EventInbox loads(*f.bus, "sb.evt.media.node_load.platform");
  LoadReporter reporter(*f.bus, *f.node, f.clock, std::chrono::milliseconds(100));
  reporter.Start();
  auto report = loads.Wait<v1::NodeLoad>(
      [&](const v1::NodeLoad& l, const bus::Message&) { return l.node_id() == f.node_id; },
      std::chrono::seconds(3));
  REQUIRE(report.has_value());
  CHECK(report->legs() == 1);
  CHECK(report->capacity() == 100);
  CHECK_FALSE(report->draining());
  CHECK(report->interval_ms() == 100);

  f.node->SetDraining();
  REQUIRE(reporter.PublishNow().ok());
  auto draining = loads.Wait<v1::NodeLoad>(
      [&](const v1::NodeLoad& l, const bus::Message&) { return l.draining(); },
      std::chrono::seconds(3));
  REQUIRE(draining.has_value());
  reporter.Stop();
  RtpPeer b;
  v1::CreateLegRequest req;
  req.set_tenant_id(f.tenant);
  req.set_sdp_type(v1::SDP_TYPE_OFFER);
  req.set_sdp(b.Offer("0"));
  auto refused = f.Command<v1::LegReply>(ops::kCreateLeg, req);
  CHECK(refused.error().code() == switchboard::common::v1::ERROR_CODE_UNAVAILABLE);
}

TEST_CASE("a leg the node offers is completed by the endpoint's answer and carries media",
          "[natstest][offer]") {
  NodeFixture f;
  RtpPeer callee, caller;
  v1::CreateLegRequest create;
  create.set_tenant_id(f.tenant);
  create.set_call_id("call-out");
  create.set_leg_id("out");
  auto offered = f.Command<v1::LegReply>(ops::kCreateLeg, create);
  REQUIRE(offered.error().code() == 0);
  CHECK(offered.codec().empty());  // nothing negotiated yet
  auto offer = sdp::Parse(offered.sdp());
  REQUIRE(offer.ok());
  REQUIRE(offer->media.size() == 1);
  CHECK(offer->media[0].proto == "RTP/AVP");
  callee.Target(offered.sdp());

  // The callee answers with PCMA only.
  v1::UpdateLegRequest update;
  update.set_leg_id("out");
  update.set_sdp_type(v1::SDP_TYPE_ANSWER);
  update.set_sdp(callee.Offer("8"));
  auto updated = f.Command<v1::LegReply>(ops::kUpdateLeg, update);
  REQUIRE(updated.error().code() == 0);
  CHECK(updated.codec() == "PCMA");

  f.CreateLeg(caller, caller.Offer("8"), "in");
  v1::BridgeRequest bridge;
  bridge.set_leg_a("in");
  bridge.set_leg_b("out");
  auto reply = f.Command<v1::BridgeReply>(ops::kBridge, bridge);
  REQUIRE(reply.error().code() == 0);
  CHECK_FALSE(reply.transcoding());
  std::vector<uint8_t> payload(160, 0xd5);
  for (int i = 0; i < 5; ++i) caller.SendRtp(8, payload, 160);
  auto got = callee.ReceiveUntil(Clock::now() + std::chrono::milliseconds(500));
  size_t pcma = 0;
  for (const auto& p : got) {
    auto packet = rtp::ParseRtp(p);
    pcma += packet.ok() && packet->header.payload_type == 8 && packet->header.ssrc == caller.ssrc;
  }
  CHECK(pcma == 5);

  v1::DestroyLegRequest destroy;
  destroy.set_leg_id("out");
  CHECK(f.Command<v1::Ack>(ops::kDestroyLeg, destroy).error().code() == 0);
  CHECK(f.Command<v1::Ack>(ops::kDestroyLeg, destroy).error().code() ==
        switchboard::common::v1::ERROR_CODE_NOT_FOUND);
}

TEST_CASE("commands that cannot be carried out answer with an error", "[natstest][errors]") {
  NodeFixture f;
  v1::BridgeRequest bridge;
  bridge.set_leg_a("nope");
  bridge.set_leg_b("nada");
  auto reply = f.Command<v1::BridgeReply>(ops::kBridge, bridge);
  CHECK(reply.error().code() == switchboard::common::v1::ERROR_CODE_NOT_FOUND);

  v1::CreateLegRequest bad_sdp;
  bad_sdp.set_tenant_id(f.tenant);
  bad_sdp.set_sdp_type(v1::SDP_TYPE_OFFER);
  bad_sdp.set_sdp("not sdp");
  auto leg = f.Command<v1::LegReply>(ops::kCreateLeg, bad_sdp);
  CHECK(leg.error().code() == switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(leg.error().field() == "sdp");

  // Garbage instead of a protobuf body.
  auto subject = bus::subjects::NodeCommand(ops::kService, f.node_id, ops::kPlay);
  REQUIRE(subject.ok());
  auto raw = f.bus->Request({.subject = *subject, .data = std::string("\xff\xff\xff", 3)},
                            std::chrono::seconds(5));
  REQUIRE(raw.ok());
  v1::PlayReply play;
  REQUIRE(play.ParseFromString(raw->data));
  CHECK(play.error().code() == switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace sb::media
