// A media node over a real nats-server and real loopback RTP: hostile packets, SRTP replay,
// playback and recording.
#include <httplib.h>

#include <catch2/catch.hpp>

#include "node_fixture.h"
#include "session/sdp_negotiator.h"
#include "switchboard/codec/g711.h"
#include "switchboard/codec/wav.h"
#include "switchboard/rtp/srtp_session.h"
#include "test_util.h"

namespace sb::media {
namespace {

using test::Clock;
using test::NodeFixture;
using test::RtpPeer;
namespace v1 = switchboard::media::v1;

size_t CountRtp(const std::vector<std::vector<uint8_t>>& packets, uint8_t pt) {
  size_t n = 0;
  for (const auto& p : packets) {
    auto packet = rtp::ParseRtp(p);
    n += packet.ok() && packet->header.payload_type == pt;
  }
  return n;
}

double MetricValue(const std::string& text, const std::string& series) {
  // A sample line, not the HELP/TYPE lines that also start with the name.
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

void Bridge(NodeFixture& f, const std::string& a, const std::string& b) {
  v1::BridgeRequest bridge;
  bridge.set_leg_a(a);
  bridge.set_leg_b(b);
  REQUIRE(f.Command<v1::BridgeReply>(ops::kBridge, bridge).error().code() == 0);
}

TEST_CASE(
    "malformed, foreign-SSRC and replayed SRTP packets are dropped, counted in /metrics, "
    "and the node goes on",
    "[natstest][robustness]") {
  NodeFixture f;
  core::OpsServer ops(f.metrics, [] { return Status::Ok(); });
  auto http_port = ops.Start("127.0.0.1", 0);
  REQUIRE(http_port.ok());

  // An SRTP leg (SDES) bridged to a plain one.
  const std::string peer_key(30, '\x5a');
  RtpPeer secure, plain;
  std::string offer =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio " +
      std::to_string(secure.port()) +
      " RTP/SAVP 0\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
      std::string("WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa") +  // base64 of peer_key
      "\r\na=rtcp-mux\r\n";
  std::string answer = f.CreateLeg(secure, offer, "secure");
  CHECK(answer.find("RTP/SAVP") != std::string::npos);
  f.CreateLeg(plain, plain.Offer("0"), "plain");
  Bridge(f, "secure", "plain");

  auto tx = rtp::SrtpSession::Create(
      rtp::SrtpSession::Direction::kOutbound, rtp::CryptoSuite::kAesCm128HmacSha1_80,
      std::span(reinterpret_cast<const uint8_t*>(peer_key.data()), peer_key.size()));
  REQUIRE(tx.ok());
  auto protect = [&](uint16_t seq) {
    std::vector<uint8_t> pkt(12 + 160 + rtp::kSrtpMaxTrailer);
    auto payload = test::PcmuFrame(800, seq);
    REQUIRE(
        rtp::BuildRtp({.payload_type = 0, .sequence = seq, .timestamp = seq * 160u, .ssrc = 0x777},
                      payload, pkt)
            .ok());
    auto n = (*tx)->ProtectRtp(pkt, 12 + 160);
    REQUIRE(n.ok());
    pkt.resize(*n);
    return pkt;
  };
  auto first = protect(1);
  secure.Send(first);
  secure.Send(first);  // replayed
  auto forged = protect(2);
  forged[30] ^= 0x40;
  secure.Send(forged);
  // The plain leg gets garbage and a stream with a foreign SSRC besides its own.
  plain.SendRtp(0, test::PcmuFrame(800, 0), 160);
  std::vector<uint8_t> garbage = {0xde, 0xad, 0xbe, 0xef, 0x00};
  plain.Send(garbage);
  uint32_t own = plain.ssrc;
  plain.ssrc = 0xf0f0f0f0;
  plain.SendRtp(0, test::PcmuFrame(800, 1), 160);
  plain.ssrc = own;

  // The node goes on: genuine packets after all that still cross the bridge both ways.
  secure.Send(protect(3));
  plain.SendRtp(0, test::PcmuFrame(800, 2), 160);
  auto to_plain = plain.ReceiveUntil(Clock::now() + std::chrono::milliseconds(500));
  auto to_secure = secure.ReceiveUntil(Clock::now() + std::chrono::milliseconds(200));
  CHECK(CountRtp(to_plain, 0) == 2);  // packets 1 and 3, decrypted
  CHECK(to_secure.size() >= 2);       // the plain leg's two genuine packets, encrypted

  httplib::Client client("127.0.0.1", *http_port);
  auto res = client.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  const std::string& text = res->body;
  CHECK(MetricValue(text, "sb_media_packets_dropped_total{reason=\"srtp_replay\"}") == 1);
  CHECK(MetricValue(text, "sb_media_packets_dropped_total{reason=\"srtp_auth\"}") == 1);
  CHECK(MetricValue(text, "sb_media_packets_dropped_total{reason=\"malformed\"}") == 1);
  CHECK(MetricValue(text, "sb_media_packets_dropped_total{reason=\"foreign_source\"}") == 1);
  CHECK(MetricValue(text, "sb_media_legs") == 2);
  ops.Stop();
}

TEST_CASE("a WAV file plays to the leg and playback finished follows", "[natstest][playback]") {
  NodeFixture f;
  test::EventInbox finished(*f.bus, f.EventPattern("playback_finished"));
  RtpPeer phone;
  f.CreateLeg(phone, phone.Offer("0"), "phone");
  // A 16 kHz prompt: the node resamples it to the leg's 8 kHz.
  const std::string prompt = (f.recordings / "prompt.wav").string();
  REQUIRE(codec::WriteWavFile(prompt, 16000, test::Sine(600, 16000, 0, 8000)).ok());
  v1::PlayRequest play;
  play.set_leg_id("phone");
  play.set_playback_id("welcome");
  play.set_wav_file(prompt);
  auto reply = f.Command<v1::PlayReply>(ops::kPlay, play);
  REQUIRE(reply.error().code() == 0);
  CHECK(reply.playback_id() == "welcome");

  auto done = finished.Wait<v1::PlaybackFinishedEvent>(
      [](const v1::PlaybackFinishedEvent& e, const bus::Message&) {
        return e.playback_id() == "welcome";
      },
      std::chrono::seconds(3));
  REQUIRE(done.has_value());
  CHECK(done->reason() == v1::PLAYBACK_END_COMPLETED);
  CHECK(done->played_ms() == 500);
  auto heard_packets = phone.ReceiveUntil(Clock::now() + std::chrono::milliseconds(100));
  std::vector<int16_t> heard;
  for (const auto& p : heard_packets) {
    auto packet = rtp::ParseRtp(p);
    if (!packet.ok() || packet->header.payload_type != 0) continue;
    std::vector<int16_t> frame(packet->payload.size());
    codec::DecodeUlaw(packet->payload, frame);
    heard.insert(heard.end(), frame.begin(), frame.end());
  }
  REQUIRE(heard.size() >= 20 * 160);
  CHECK(test::DominantFrequency(heard, 8000) == Approx(600).margin(10));

  v1::PlayRequest missing;
  missing.set_leg_id("phone");
  missing.set_wav_file((f.recordings / "no-such.wav").string());
  auto refused = f.Command<v1::PlayReply>(ops::kPlay, missing);
  CHECK(refused.error().code() == switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(refused.error().field() == "wav_file");
}

TEST_CASE("a recording is a WAV file as long as the recording ran", "[natstest][recording]") {
  NodeFixture f;
  test::EventInbox finished(*f.bus, f.EventPattern("recording_finished"));
  RtpPeer phone;
  f.CreateLeg(phone, phone.Offer("0"), "phone");
  v1::RecordStartRequest start_req;
  start_req.set_leg_id("phone");
  start_req.set_recording_id("rec-1");
  auto started = f.Command<v1::RecordStartReply>(ops::kRecordStart, start_req);
  REQUIRE(started.error().code() == 0);
  const auto began = Clock::now();
  for (size_t i = 0; i < 50; ++i) {
    test::PaceFrame(began, i);
    phone.SendRtp(0, test::PcmuFrame(900, i), 160);
  }
  v1::RecordStopRequest stop_req;
  stop_req.set_leg_id("phone");
  REQUIRE(f.Command<v1::Ack>(ops::kRecordStop, stop_req).error().code() == 0);
  const auto held_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();

  auto done = finished.Wait<v1::RecordingFinishedEvent>(
      [](const v1::RecordingFinishedEvent& e, const bus::Message&) {
        return e.recording_id() == "rec-1";
      },
      std::chrono::seconds(3));
  REQUIRE(done.has_value());
  CHECK(done->file() == started.file());
  CHECK_FALSE(done->mixed());
  // 20 ms ticks between start and stop; the command round trips add a little.
  CHECK(done->duration_ms() >= 980);
  CHECK(static_cast<int64_t>(done->duration_ms()) <= held_ms + 100);
  auto wav = codec::ReadWavFile(done->file());
  REQUIRE(wav.ok());
  CHECK(wav->sample_rate == 8000);
  CHECK(wav->samples.size() == done->duration_ms() * 8);
  CHECK(test::DominantFrequency(wav->samples, 8000) == Approx(900).margin(10));
}

}  // namespace
}  // namespace sb::media
