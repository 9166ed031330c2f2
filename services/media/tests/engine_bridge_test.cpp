#include <catch2/catch.hpp>

#include "engine_harness.h"
#include "switchboard/codec/audio_codec.h"
#include "switchboard/rtp/srtp_session.h"
#include "switchboard/rtp/telephone_event.h"

namespace sb::media {
namespace {

using codec::CodecType;
using test::EngineHarness;
using test::kLoopback;

std::span<const uint8_t> Bytes(const std::string& s) {
  return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::vector<int16_t> Tone(double freq, size_t frame) {
  return test::Sine(freq, 8000, frame * 160, 160);
}

TEST_CASE("legs with the same codec are relayed packet for packet", "[engine][bridge]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  auto transcoding = h.engine.Bridge("a", "b");
  REQUIRE(transcoding.ok());
  CHECK_FALSE(*transcoding);
  h.SendPcmu("a", Tone(1000, 0));
  REQUIRE(h.sink.sent.size() == 1);
  const auto& out = h.sink.sent[0];
  CHECK(out.socket == 20);
  CHECK(out.to == Endpoint{kLoopback, 5004});
  auto packet = rtp::ParseRtp(out.bytes);
  REQUIRE(packet.ok());
  CHECK(packet->header.ssrc == h.peers["a"].ssrc);  // relayed untouched
  CHECK(packet->payload.size() == 160);
  // And the other way.
  h.SendPcmu("b", Tone(1000, 0));
  REQUIRE(h.sink.sent.size() == 2);
  CHECK(h.sink.sent[1].socket == 10);
}

TEST_CASE(
    "relayed legs carry RFC 4733 events in the sender's stream with the receiver's payload type",
    "[engine][bridge][dtmf]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0, 101);
  h.AddLeg("b", 2, CodecType::kPcmu, 0, 96);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  std::array<uint8_t, 4> event;
  REQUIRE(rtp::BuildTelephoneEvent({.event = 5, .end = false, .volume = 10, .duration = 160}, event)
              .ok());
  h.SendPcmu("a", Tone(1000, 0));
  h.SendRtp("a", 101, event, 0, true);
  h.SendPcmu("a", Tone(1000, 1));
  auto sent = h.SentTo("b");
  REQUIRE(sent.size() == 3);
  for (size_t i = 0; i < sent.size(); ++i) {
    auto packet = rtp::ParseRtp(sent[i]);
    REQUIRE(packet.ok());
    // One stream, as a's endpoint sent it: a receiver sees no source change around the digit.
    CHECK(packet->header.ssrc == h.peers["a"].ssrc);
    CHECK(packet->header.sequence == 100 + i);
    CHECK(packet->header.payload_type == (i == 1 ? 96 : 0));
  }
  auto relayed = rtp::ParseTelephoneEvent(rtp::ParseRtp(sent[1])->payload);
  REQUIRE(relayed.ok());
  CHECK(relayed->event == 5);
  CHECK(relayed->duration == 160);
}

TEST_CASE("a transcoded bridge sends the events in the node's own stream towards the peer",
          "[engine][bridge][dtmf]") {
  EngineHarness h;
  h.AddLeg("pcmu", 1, CodecType::kPcmu, 0, 101);
  h.AddLeg("opus", 2, CodecType::kOpus, 111, 101);
  REQUIRE(h.engine.Bridge("pcmu", "opus").ok());
  std::array<uint8_t, 4> event;
  REQUIRE(rtp::BuildTelephoneEvent({.event = 5, .end = false, .volume = 10, .duration = 160}, event)
              .ok());
  h.SendPcmu("pcmu", Tone(1000, 0));
  h.SendRtp("pcmu", 101, event, 0, true);
  auto sent = h.SentTo("opus");
  REQUIRE(sent.size() == 2);
  auto audio = rtp::ParseRtp(sent[0]);
  auto digit = rtp::ParseRtp(sent[1]);
  REQUIRE(audio.ok());
  REQUIRE(digit.ok());
  CHECK(digit->header.ssrc == audio->header.ssrc);
  CHECK(digit->header.ssrc == 0x1002);
  CHECK(digit->header.sequence == static_cast<uint16_t>(audio->header.sequence + 1));
  CHECK(digit->header.payload_type == 101);
  auto relayed = rtp::ParseTelephoneEvent(digit->payload);
  REQUIRE(relayed.ok());
  CHECK(relayed->duration == 960);  // 20 ms at the Opus leg's 48 kHz clock
}

TEST_CASE("a PCMU tone bridged to an Opus leg arrives as Opus at the same pitch",
          "[engine][bridge]") {
  EngineHarness h;
  h.AddLeg("pcmu", 1, CodecType::kPcmu, 0);
  h.AddLeg("opus", 2, CodecType::kOpus, 111);
  auto transcoding = h.engine.Bridge("pcmu", "opus");
  REQUIRE(transcoding.ok());
  CHECK(*transcoding);
  for (size_t i = 0; i < 50; ++i) h.SendPcmu("pcmu", Tone(1000, i));
  auto packets = h.SentTo("opus");
  REQUIRE(packets.size() == 50);
  auto dec = codec::MakeDecoder({.type = CodecType::kOpus, .sample_rate = 48000});
  REQUIRE(dec.ok());
  std::vector<int16_t> heard;
  uint32_t last_ts = 0;
  for (size_t i = 0; i < packets.size(); ++i) {
    auto packet = rtp::ParseRtp(packets[i]);
    REQUIRE(packet.ok());
    CHECK(packet->header.payload_type == 111);
    CHECK(packet->header.ssrc == 0x1002);  // the node's own stream towards the Opus leg
    if (i > 0) CHECK(packet->header.timestamp - last_ts == 960);  // 20 ms at Opus' 48 kHz RTP clock
    last_ts = packet->header.timestamp;
    std::array<int16_t, codec::kMaxFrameSamples> pcm;
    auto n = (*dec)->Decode(packet->payload, pcm);
    REQUIRE(n.ok());
    heard.insert(heard.end(), pcm.begin(), pcm.begin() + static_cast<ptrdiff_t>(*n));
  }
  std::span<const int16_t> tail(heard.data() + heard.size() / 2, heard.size() / 2);
  CHECK(test::DominantFrequency(tail, 48000) == Approx(1000).margin(10));
}

TEST_CASE("packets go to the address the endpoint really sends from", "[engine][latching]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  // Behind a NAT, a's packets come from another port than its SDP said.
  h.peers["a"].remote = {kLoopback, 45000};
  h.SendPcmu("a", Tone(500, 0));
  h.SendPcmu("b", Tone(500, 0));
  auto to_a = h.SentTo("a");
  REQUIRE(to_a.size() == 1);
  CHECK(h.sink.sent.back().to == Endpoint{kLoopback, 45000});
}

TEST_CASE("a second source or SSRC is dropped while the first is alive, taken after a silence",
          "[engine][latching]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  h.SendPcmu("a", Tone(500, 0));
  REQUIRE(h.SentTo("b").size() == 1);

  auto genuine = h.peers["a"];
  h.peers["a"].remote = {kLoopback, 46000};  // an injected stream from elsewhere
  h.SendPcmu("a", Tone(500, 1));
  h.peers["a"] = genuine;
  h.peers["a"].ssrc = 0xbadbad;  // same address, foreign SSRC
  h.SendPcmu("a", Tone(500, 1));
  CHECK(h.SentTo("b").size() == 1);
  CHECK(h.Dropped("foreign_source") == 2);

  h.peers["a"] = genuine;
  h.SendPcmu("a", Tone(500, 2));
  CHECK(h.SentTo("b").size() == 2);

  // After more than a second of silence the endpoint may move.
  h.clock.Advance(std::chrono::milliseconds(1500));
  h.peers["a"].remote = {kLoopback, 46000};
  h.SendPcmu("a", Tone(500, 3));
  CHECK(h.SentTo("b").size() == 3);
  h.SendPcmu("b", Tone(500, 0));
  CHECK(h.sink.sent.back().to == Endpoint{kLoopback, 46000});
}

TEST_CASE("malformed and unknown-payload packets are dropped, counted, and the leg goes on",
          "[engine][robustness]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  std::vector<uint8_t> garbage = {0x12, 0x34, 0x56};
  h.engine.OnDatagram(10, h.peers["a"].remote, garbage);
  std::vector<uint8_t> v1(40, 0x40);
  h.engine.OnDatagram(10, h.peers["a"].remote, v1);
  std::array<uint8_t, 10> payload{};
  h.SendRtp("a", 96, payload, 160);                        // never negotiated
  h.engine.OnDatagram(999, h.peers["a"].remote, garbage);  // not a socket of any leg
  CHECK(h.Dropped("malformed") == 2);
  CHECK(h.Dropped("unknown_payload") == 1);
  CHECK(h.SentTo("b").empty());
  h.SendPcmu("a", Tone(500, 0));
  CHECK(h.SentTo("b").size() == 1);
  auto stats = h.engine.LegStats("a");
  REQUIRE(stats.ok());
  CHECK(stats->packets_dropped == 3);
  CHECK(stats->packets_received == 1);
}

TEST_CASE("an SRTP leg decrypts, drops replays and forgeries, and encrypts what it sends",
          "[engine][srtp]") {
  const std::string endpoint_key(30, '\x11');
  const std::string node_key(30, '\x22');
  EngineHarness h;
  h.AddLeg("s", 1, CodecType::kPcmu, 0, -1, {},
           SrtpKeys{"AES_CM_128_HMAC_SHA1_80", node_key, endpoint_key});
  h.AddLeg("p", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("s", "p").ok());

  auto tx = rtp::SrtpSession::Create(rtp::SrtpSession::Direction::kOutbound,
                                     rtp::CryptoSuite::kAesCm128HmacSha1_80, Bytes(endpoint_key));
  REQUIRE(tx.ok());
  std::vector<uint8_t> pkt(12 + 160 + rtp::kSrtpMaxTrailer);
  REQUIRE(
      rtp::BuildRtp({.payload_type = 0, .sequence = 1, .timestamp = 160, .ssrc = 0x5151}, {}, pkt)
          .ok());
  auto pcm = Tone(1000, 0);
  codec::EncodeUlaw(pcm, std::span(pkt).subspan(12, 160));
  auto n = (*tx)->ProtectRtp(pkt, 12 + 160);
  REQUIRE(n.ok());
  CHECK(*n == 12 + 160 + 10);
  std::vector<uint8_t> wire(pkt.begin(), pkt.begin() + static_cast<ptrdiff_t>(*n));

  auto copy = wire;
  h.engine.OnDatagram(10, h.peers["s"].remote, copy);
  auto to_p = h.SentTo("p");
  REQUIRE(to_p.size() == 1);
  CHECK(to_p[0].size() == 172);  // decrypted: plain RTP to the plain leg

  copy = wire;  // the same packet again: a replay
  h.engine.OnDatagram(10, h.peers["s"].remote, copy);
  CHECK(h.Dropped("srtp_replay") == 1);

  REQUIRE(
      rtp::BuildRtp({.payload_type = 0, .sequence = 2, .timestamp = 320, .ssrc = 0x5151}, {}, pkt)
          .ok());
  codec::EncodeUlaw(pcm, std::span(pkt).subspan(12, 160));
  n = (*tx)->ProtectRtp(pkt, 12 + 160);
  REQUIRE(n.ok());
  pkt[20] ^= 0x01;  // flipped bit in the payload
  std::vector<uint8_t> forged(pkt.begin(), pkt.begin() + static_cast<ptrdiff_t>(*n));
  h.engine.OnDatagram(10, h.peers["s"].remote, forged);
  CHECK(h.Dropped("srtp_auth") == 1);
  CHECK(h.SentTo("p").size() == 1);

  // The node protects what it sends to the SRTP leg with its own key.
  h.SendPcmu("p", pcm);
  auto to_s = h.SentTo("s");
  REQUIRE(to_s.size() == 1);
  CHECK(to_s[0].size() == 172 + 10);
  auto rx = rtp::SrtpSession::Create(rtp::SrtpSession::Direction::kInbound,
                                     rtp::CryptoSuite::kAesCm128HmacSha1_80, Bytes(node_key));
  REQUIRE(rx.ok());
  auto plain = (*rx)->UnprotectRtp(to_s[0]);
  REQUIRE(plain.ok());
  CHECK(*plain == 172);
}

TEST_CASE("bridging refuses legs that are busy, unknown or the same", "[engine][bridge]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  h.AddLeg("c", 3, CodecType::kPcmu, 0);
  CHECK(h.engine.Bridge("a", "a").status().code() == StatusCode::kInvalidArgument);
  CHECK(h.engine.Bridge("a", "zz").status().code() == StatusCode::kNotFound);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  CHECK(h.engine.Bridge("c", "b").status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(h.engine.Unbridge("b").ok());
  CHECK(h.engine.Bridge("c", "b").ok());
  h.SendPcmu("a", Tone(500, 0));
  CHECK(h.SentTo("b").empty());
}

TEST_CASE("removing a leg reports its final statistics and unbridges its peer", "[engine][stats]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  for (size_t i = 0; i < 10; ++i) {
    if (i == 4) {
      ++h.peers["a"].seq;  // one packet lost on the way
      continue;
    }
    h.SendPcmu("a", Tone(500, i));
  }
  REQUIRE(h.engine.RemoveLeg("a").ok());
  REQUIRE(h.events.stats_reports.size() == 1);
  const auto& report = h.events.stats_reports[0];
  CHECK(report.final);
  CHECK(report.leg == "a");
  CHECK(report.stats.codec == "PCMU");
  CHECK(report.stats.packets_received == 9);
  CHECK(report.stats.packets_lost == 1);
  CHECK(report.stats.mos > 1);
  CHECK(report.stats.mos < 4.5);
  CHECK_FALSE(h.engine.HasLeg("a"));
  CHECK(h.engine.Bridge("b", "c").status().code() == StatusCode::kNotFound);
  h.AddLeg("c", 3, CodecType::kPcmu, 0);
  CHECK(h.engine.Bridge("b", "c").ok());  // b is free again
}

}  // namespace
}  // namespace sb::media

namespace sb::media {
namespace {

TEST_CASE("a leg handed to another engine keeps its stream and works there", "[engine][move]") {
  test::EngineHarness one, two;
  one.AddLeg("a", 1, codec::CodecType::kPcmu, 0);
  two.AddLeg("b", 2, codec::CodecType::kPcmu, 0);
  one.SendPcmu("a", test::Sine(500, 8000, 0, 160));
  auto leg = one.engine.ExtractLeg("a");
  REQUIRE(leg.ok());
  CHECK_FALSE(one.engine.HasLeg("a"));
  two.engine.AdoptLeg(std::move(*leg));
  two.peers["a"] = one.peers["a"];
  REQUIRE(two.engine.Bridge("a", "b").ok());
  two.SendPcmu("a", test::Sine(500, 8000, 160, 160));
  CHECK(two.SentTo("b").size() == 1);
  CHECK(one.sink.sent.empty());
  auto stats = two.engine.LegStats("a");
  REQUIRE(stats.ok());
  CHECK(stats->packets_received == 2);  // statistics travelled with it
  CHECK(two.engine.ExtractLeg("a").status().code() == StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sb::media
