// The sb-media executable itself: started with its settings against a real nats-server, driven
// over NATS, stopped with SIGTERM. Checks the composition root: settings, load reports, command
// subjects, and the drain (draining report, final statistics of the leg still alive, exit 0).
#include <catch2/catch.hpp>

#include "media_process.h"
#include "node_fixture.h"
#include "switchboard/codec/g711.h"
#include "switchboard/rtp/telephone_event.h"
#include "test_util.h"

namespace sb::media {
namespace {

namespace v1 = switchboard::media::v1;
using media_client::test::MediaProcess;
using test::EventInbox;
using test::RtpPeer;

TEST_CASE("sb-media serves commands, reports load, and drains on SIGTERM", "[natstest][process]") {
  auto nats = testing::NatsServer::Start();
  bus::NatsBusOptions options;
  options.url = nats.url();
  auto bus = bus::NatsBus::Connect(options);
  REQUIRE(bus.ok());
  const std::string tenant = testing::UniqueName("tenant");
  EventInbox loads(**bus, "sb.evt.media.node_load.platform");
  EventInbox stats(**bus, "sb.evt.media.leg_stats." + tenant);
  MediaProcess process(nats.url(), {.port_min = 42000, .port_max = 42199});
  const std::string& node_id = process.node_id();

  auto first = loads.Wait<v1::NodeLoad>(
      [&](const v1::NodeLoad& l, const bus::Message&) { return l.node_id() == node_id; },
      std::chrono::seconds(10));
  REQUIRE(first.has_value());
  CHECK(first->capacity() == 100);
  CHECK_FALSE(first->draining());

  RtpPeer phone;
  v1::CreateLegRequest req;
  req.set_tenant_id(tenant);
  req.set_call_id("call-1");
  req.set_leg_id("leg-1");
  req.set_sdp_type(v1::SDP_TYPE_OFFER);
  req.set_sdp(phone.Offer("0"));
  auto subject = bus::subjects::NodeCommand(ops::kService, node_id, ops::kCreateLeg);
  REQUIRE(subject.ok());
  auto leg = bus::RequestProto<v1::LegReply>(**bus, *subject, req, std::chrono::seconds(5));
  REQUIRE(leg.ok());
  REQUIRE(leg->error().code() == 0);
  CHECK(leg->sdp().find("c=IN IP4 127.0.0.1") != std::string::npos);

  process.SignalTerm();
  auto draining = loads.Wait<v1::NodeLoad>(
      [&](const v1::NodeLoad& l, const bus::Message&) {
        return l.node_id() == node_id && l.draining();
      },
      std::chrono::seconds(5));
  CHECK(draining.has_value());
  CHECK(process.Terminate() == 0);
  // The leg nobody destroyed was cut at the end of the drain, with its final statistics.
  auto final = stats.Wait<v1::LegStatisticsEvent>(
      [](const v1::LegStatisticsEvent& e, const bus::Message&) { return e.final(); },
      std::chrono::seconds(5));
  REQUIRE(final.has_value());
  CHECK(final->leg().leg_id() == "leg-1");
}

template <typename Reply>
Reply Command(bus::Bus& bus, const std::string& node_id, std::string_view op,
              const google::protobuf::MessageLite& request) {
  auto subject = bus::subjects::NodeCommand(ops::kService, node_id, op);
  REQUIRE(subject.ok());
  auto reply = bus::RequestProto<Reply>(bus, *subject, request, std::chrono::seconds(5));
  REQUIRE(reply.ok());
  return *reply;
}

size_t CountPcmu(const std::vector<std::vector<uint8_t>>& datagrams) {
  return test::HeardPcmu(datagrams).size() / 160;
}

// `frames` 20 ms frames from each (phone, frequency), paced in real time.
void Talk(std::vector<std::pair<RtpPeer*, double>> talkers, size_t frames) {
  const auto start = test::Clock::now();
  for (size_t i = 0; i < frames; ++i) {
    test::PaceFrame(start, i);
    for (auto& [phone, freq] : talkers) phone->SendRtp(0, test::PcmuFrame(freq, i), 160);
  }
}

TEST_CASE("sb-media carries out dtmf unbridge stop_play and conference commands sent over NATS",
          "[natstest][process]") {
  auto nats = testing::NatsServer::Start();
  bus::NatsBusOptions options;
  options.url = nats.url();
  auto connected = bus::NatsBus::Connect(options);
  REQUIRE(connected.ok());
  bus::Bus& bus = **connected;
  const std::string tenant = testing::UniqueName("tenant");
  EventInbox loads(bus, "sb.evt.media.node_load.platform");
  EventInbox playbacks(bus, "sb.evt.media.playback_finished." + tenant);
  MediaProcess process(nats.url(), {.port_min = 42200, .port_max = 42399});
  const std::string& node_id = process.node_id();
  REQUIRE(loads
              .Wait<v1::NodeLoad>([&](const v1::NodeLoad& l,
                                      const bus::Message&) { return l.node_id() == node_id; },
                                  std::chrono::seconds(10))
              .has_value());

  RtpPeer a, b, c;
  auto create = [&](RtpPeer& phone, const std::string& leg_id, const std::string& offer) {
    v1::CreateLegRequest req;
    req.set_tenant_id(tenant);
    req.set_call_id("call-" + leg_id);
    req.set_leg_id(leg_id);
    req.set_sdp_type(v1::SDP_TYPE_OFFER);
    req.set_sdp(offer);
    auto reply = Command<v1::LegReply>(bus, node_id, ops::kCreateLeg, req);
    INFO(reply.error().message());
    REQUIRE(reply.error().code() == 0);
    phone.Target(reply.sdp());
  };
  create(a, "a", a.Offer("0 101", "a=rtpmap:101 telephone-event/8000\r\n"));
  create(b, "b", b.Offer("0"));
  create(c, "c", c.Offer("0"));
  using switchboard::common::v1::ERROR_CODE_FAILED_PRECONDITION;
  using switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT;
  using switchboard::common::v1::ERROR_CODE_NOT_FOUND;

  SECTION("dtmf_send sends RFC 4733 events to a leg that negotiated them") {
    v1::DtmfSendRequest dtmf;
    dtmf.set_leg_id("a");
    dtmf.set_digits("1#");
    dtmf.set_duration_ms(60);
    dtmf.set_gap_ms(40);
    REQUIRE(Command<v1::Ack>(bus, node_id, ops::kDtmfSend, dtmf).error().code() == 0);
    rtp::TelephoneEventReceiver receiver;
    std::vector<uint8_t> ended;
    for (auto deadline = test::Clock::now() + std::chrono::seconds(3);
         ended.size() < 2 && test::Clock::now() < deadline;) {
      for (const auto& d : a.ReceiveUntil(test::Clock::now() + std::chrono::milliseconds(50))) {
        auto packet = rtp::ParseRtp(d);
        if (!packet.ok() || packet->header.payload_type != 101) continue;
        auto e =
            receiver.OnPacket(packet->header.timestamp, packet->payload, packet->header.marker);
        REQUIRE(e.ok());
        if (e->has_value() && (*e)->kind == rtp::TelephoneEventReceiver::Kind::kEnd) {
          ended.push_back((*e)->event);
          CHECK((*e)->duration == 480);  // 60 ms at 8 kHz
        }
      }
    }
    CHECK(ended == std::vector<uint8_t>{1, 11});
    dtmf.set_digits("1x");
    auto refused = Command<v1::Ack>(bus, node_id, ops::kDtmfSend, dtmf);
    CHECK(refused.error().code() == ERROR_CODE_INVALID_ARGUMENT);
    CHECK(refused.error().field() == "digits");
  }

  SECTION("unbridge stops the relay and stop_play ends a playback") {
    v1::BridgeRequest bridge;
    bridge.set_leg_a("a");
    bridge.set_leg_b("b");
    REQUIRE(Command<v1::BridgeReply>(bus, node_id, ops::kBridge, bridge).error().code() == 0);
    Talk({{&a, 500}}, 10);
    CHECK(CountPcmu(b.ReceiveUntil(test::Clock::now() + std::chrono::milliseconds(200))) >= 8);
    v1::UnbridgeRequest unbridge;
    unbridge.set_leg_id("b");
    REQUIRE(Command<v1::Ack>(bus, node_id, ops::kUnbridge, unbridge).error().code() == 0);
    Talk({{&a, 500}}, 10);
    CHECK(CountPcmu(b.ReceiveUntil(test::Clock::now() + std::chrono::milliseconds(200))) == 0);
    CHECK(Command<v1::Ack>(bus, node_id, ops::kUnbridge, unbridge).error().code() ==
          ERROR_CODE_FAILED_PRECONDITION);

    v1::PlayRequest play;
    play.set_leg_id("b");
    play.set_playback_id("tone-1");
    play.mutable_tone()->add_frequencies_hz(700);
    REQUIRE(Command<v1::PlayReply>(bus, node_id, ops::kPlay, play).error().code() == 0);
    auto heard =
        test::HeardPcmu(b.ReceiveUntil(test::Clock::now() + std::chrono::milliseconds(300)));
    REQUIRE(heard.size() >= 5 * 160);
    CHECK(test::DominantFrequency(heard, 8000) == Approx(700).margin(10));
    v1::StopPlayRequest stop;
    stop.set_leg_id("b");
    REQUIRE(Command<v1::Ack>(bus, node_id, ops::kStopPlay, stop).error().code() == 0);
    auto finished = playbacks.Wait<v1::PlaybackFinishedEvent>(
        [](const v1::PlaybackFinishedEvent& e, const bus::Message&) {
          return e.playback_id() == "tone-1";
        },
        std::chrono::seconds(3));
    REQUIRE(finished.has_value());
    CHECK(finished->reason() == v1::PLAYBACK_END_STOPPED);
    CHECK(Command<v1::Ack>(bus, node_id, ops::kStopPlay, stop).error().code() ==
          ERROR_CODE_FAILED_PRECONDITION);
  }

  SECTION("conference mute deaf remove and destroy") {
    v1::ConferenceCreateRequest room;
    room.set_tenant_id(tenant);
    room.set_conference_id("room");
    REQUIRE(
        Command<v1::ConferenceReply>(bus, node_id, ops::kConferenceCreate, room).error().code() ==
        0);
    auto member = [](const std::string& leg) {
      v1::ConferenceMemberRequest m;
      m.set_conference_id("room");
      m.set_leg_id(leg);
      return m;
    };
    for (const char* leg : {"a", "b", "c"}) {
      REQUIRE(Command<v1::ConferenceReply>(bus, node_id, ops::kConferenceAdd, member(leg))
                  .error()
                  .code() == 0);
    }
    auto flag = [](const std::string& leg, bool on) {
      v1::ConferenceFlagRequest f;
      f.set_conference_id("room");
      f.set_leg_id(leg);
      f.set_on(on);
      return f;
    };
    // a is muted (nobody hears it), c is deaf (hears nothing).
    REQUIRE(Command<v1::Ack>(bus, node_id, ops::kConferenceMute, flag("a", true)).error().code() ==
            0);
    REQUIRE(Command<v1::Ack>(bus, node_id, ops::kConferenceDeaf, flag("c", true)).error().code() ==
            0);
    (void)c.ReceiveUntil(test::Clock::now() + std::chrono::milliseconds(60));  // before deaf
    Talk({{&a, 500}, {&b, 900}, {&c, 1300}}, 25);
    // What each phone got is in its socket's buffer by now; a short window reads it out.
    auto drain = [](RtpPeer& phone) {
      return phone.ReceiveUntil(test::Clock::now() + std::chrono::milliseconds(100));
    };
    auto heard_a = test::HeardPcmu(drain(a));
    auto heard_b = test::HeardPcmu(drain(b));
    auto heard_c = drain(c);
    REQUIRE(heard_a.size() >= 10 * 160);
    REQUIRE(heard_b.size() >= 10 * 160);
    // a hears b and c; b hears c but not the muted a.
    CHECK(test::ToneEnergy(heard_a, 900, 8000) > 1e6);
    CHECK(test::ToneEnergy(heard_a, 1300, 8000) > 1e6);
    CHECK(test::ToneEnergy(heard_b, 1300, 8000) > 1e6);
    CHECK(test::ToneEnergy(heard_b, 500, 8000) < test::ToneEnergy(heard_b, 1300, 8000) / 1000);
    CHECK(CountPcmu(heard_c) == 0);

    auto removed = Command<v1::ConferenceReply>(bus, node_id, ops::kConferenceRemove, member("b"));
    REQUIRE(removed.error().code() == 0);
    CHECK(removed.members() == 2);
    CHECK(Command<v1::ConferenceReply>(bus, node_id, ops::kConferenceRemove, member("b"))
              .error()
              .code() == ERROR_CODE_NOT_FOUND);
    v1::ConferenceDestroyRequest destroy;
    destroy.set_conference_id("room");
    REQUIRE(Command<v1::Ack>(bus, node_id, ops::kConferenceDestroy, destroy).error().code() == 0);
    CHECK(Command<v1::ConferenceReply>(bus, node_id, ops::kConferenceAdd, member("b"))
              .error()
              .code() == ERROR_CODE_NOT_FOUND);
    // The legs outlive their conference: b can be bridged again.
    v1::BridgeRequest bridge;
    bridge.set_leg_a("a");
    bridge.set_leg_b("b");
    CHECK(Command<v1::BridgeReply>(bus, node_id, ops::kBridge, bridge).error().code() == 0);
  }
}

}  // namespace
}  // namespace sb::media
