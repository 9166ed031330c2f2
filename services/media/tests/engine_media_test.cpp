#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <set>

#include "engine_harness.h"
#include "switchboard/codec/dtmf_detector.h"
#include "switchboard/codec/tone_generator.h"
#include "switchboard/codec/wav.h"
#include "switchboard/rtp/rtcp.h"

namespace sb::media {
namespace {

using codec::CodecType;
using test::EngineHarness;
using namespace std::chrono_literals;

TEST_CASE("a tone plays for its cadence and then reports playback finished", "[engine][playback]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  Leg::Playback tone;
  tone.id = "p1";
  tone.tone.emplace(
      8000,
      codec::ToneSpec{
          .freq_hz = {440, 0}, .level_dbm0 = {-10, -10}, .on_ms = 200, .off_ms = 100, .cycles = 2});
  REQUIRE(h.engine.Play("a", std::move(tone)).ok());
  h.Tick(29);
  CHECK(h.events.playbacks.empty());
  h.Tick(3);
  REQUIRE(h.events.playbacks.size() == 1);
  CHECK(h.events.playbacks[0].completed);
  CHECK(h.events.playbacks[0].id == "p1");
  CHECK(h.events.playbacks[0].played_ms == 600);
  auto heard = h.HeardPcmu("a");
  CHECK(heard.size() == 30 * 160);
  CHECK(test::DominantFrequency(std::span(heard).first(1600), 8000) == Approx(440).margin(10));
}

TEST_CASE("a WAV plays to its end and stopping early reports it stopped", "[engine][playback]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  Leg::Playback wav;
  wav.id = "w";
  wav.samples = test::Sine(800, 8000, 0, 1000);  // 125 ms: 6 full frames and a partial one
  REQUIRE(h.engine.Play("a", wav).ok());
  h.Tick(8);
  REQUIRE(h.events.playbacks.size() == 1);
  CHECK(h.events.playbacks[0].completed);
  CHECK(h.events.playbacks[0].played_ms == 125);

  REQUIRE(h.engine.Play("a", wav).ok());
  h.Tick(2);
  REQUIRE(h.engine.StopPlay("a").ok());
  REQUIRE(h.events.playbacks.size() == 2);
  CHECK_FALSE(h.events.playbacks[1].completed);
  CHECK(h.events.playbacks[1].played_ms == 40);
  CHECK(h.engine.StopPlay("a").code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("playback takes over what a bridged leg hears, and the bridge resumes after",
          "[engine][playback]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  Leg::Playback wav;
  wav.id = "w";
  wav.samples = test::Sine(800, 8000, 0, 320);
  REQUIRE(h.engine.Play("b", wav).ok());
  h.SendPcmu("a", test::Sine(300, 8000, 0, 160));
  CHECK(h.SentTo("b").empty());
  h.Tick(3);
  CHECK(h.SentTo("b").size() == 2);
  REQUIRE(h.events.playbacks.size() == 1);
  h.SendPcmu("a", test::Sine(300, 8000, 0, 160));
  CHECK(h.SentTo("b").size() == 3);
}

TEST_CASE("a recording holds what the leg sent, as long as it ran", "[engine][recording]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  auto file = h.engine.StartRecording("a", "rec-1", false);
  REQUIRE(file.ok());
  CHECK(h.engine.StartRecording("a", "rec-2", false).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(h.engine.StartRecording("b", "../escape", false).status().code() ==
        StatusCode::kInvalidArgument);
  for (size_t i = 0; i < 50; ++i) {
    h.SendPcmu("a", test::Sine(600, 8000, i * 160, 160));
    h.SendPcmu("b", test::Sine(1400, 8000, i * 160, 160));
    h.Tick();
  }
  REQUIRE(h.engine.StopRecording("a").ok());
  REQUIRE(h.events.recordings.size() == 1);
  CHECK(h.events.recordings[0].duration_ms == 1000);
  CHECK(h.events.recordings[0].file == *file);
  CHECK_FALSE(h.events.recordings[0].mixed);
  auto wav = codec::ReadWavFile(*file);
  REQUIRE(wav.ok());
  CHECK(wav->sample_rate == 8000);
  CHECK(wav->samples.size() == 8000);
  CHECK(test::ToneEnergy(wav->samples, 600, 8000) > 1e6);
  CHECK(test::ToneEnergy(wav->samples, 1400, 8000) < 1e4);
}

TEST_CASE("a mixed recording holds both directions of a bridge", "[engine][recording]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  auto file = h.engine.StartRecording("a", "mixed-1", true);
  REQUIRE(file.ok());
  for (size_t i = 0; i < 25; ++i) {
    h.SendPcmu("a", test::Sine(600, 8000, i * 160, 160));
    h.SendPcmu("b", test::Sine(1400, 8000, i * 160, 160));
    h.Tick();
  }
  REQUIRE(h.engine.RemoveLeg("a").ok());  // ends the recording too
  REQUIRE(h.events.recordings.size() == 1);
  CHECK(h.events.recordings[0].mixed);
  CHECK(h.events.recordings[0].duration_ms == 500);
  auto wav = codec::ReadWavFile(*file);
  REQUIRE(wav.ok());
  CHECK(test::ToneEnergy(wav->samples, 600, 8000) > 1e6);
  CHECK(test::ToneEnergy(wav->samples, 1400, 8000) > 1e6);
}

TEST_CASE("the PCM side plays reordered packets in sequence through the jitter buffer",
          "[engine][jitter]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  auto file = h.engine.StartRecording("a", "reordered", false);
  REQUIRE(file.ok());
  // Frame k is a constant level, so the recording shows which frame played when.
  auto level = [](int k) {
    return codec::UlawToLinear(codec::LinearToUlaw(static_cast<int16_t>(400 + 300 * k)));
  };
  const uint16_t seq0 = h.peers.at("a").seq;
  const uint32_t ts0 = h.peers.at("a").ts;
  auto send = [&](int k) {
    h.peers.at("a").seq = static_cast<uint16_t>(seq0 + k);
    h.peers.at("a").ts = ts0 + 160u * static_cast<uint32_t>(k);
    std::array<int16_t, 160> pcm;
    pcm.fill(level(k));
    h.SendPcmu("a", pcm);
  };
  // Pairs arrive together every 40 ms, each pair swapped in flight: 1 0, 3 2, ...
  constexpr int kFrames = 16;
  for (int k = 0; k < kFrames; k += 2) {
    send(k + 1);
    send(k);
    h.Tick(2);
  }
  h.Tick(10);
  REQUIRE(h.engine.StopRecording("a").ok());
  auto wav = codec::ReadWavFile(*file);
  REQUIRE(wav.ok());
  // The frames that are exactly one of the sent levels (concealment frames are not), repeats
  // collapsed: every frame once, in sequence order.
  std::vector<int16_t> played;
  for (size_t f = 0; f + 160 <= wav->samples.size(); f += 160) {
    const int16_t first = wav->samples[f];
    const bool constant = std::all_of(wav->samples.begin() + static_cast<ptrdiff_t>(f),
                                      wav->samples.begin() + static_cast<ptrdiff_t>(f + 160),
                                      [&](int16_t x) { return x == first; });
    if (!constant || first == 0) continue;
    if (played.empty() || played.back() != first) played.push_back(first);
  }
  std::vector<int16_t> expected;
  for (int k = 0; k < kFrames; ++k) expected.push_back(level(k));
  CHECK(played == expected);
}

TEST_CASE("an RFC 4733 digit is reported once, at its end, with its duration", "[engine][dtmf]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0, 101);
  auto send = [&](uint8_t event, bool end, uint16_t duration, bool marker) {
    std::array<uint8_t, 4> payload;
    REQUIRE(rtp::BuildTelephoneEvent(
                {.event = event, .end = end, .volume = 10, .duration = duration}, payload)
                .ok());
    h.SendRtp("a", 101, payload, 0, marker);
  };
  send(5, false, 160, true);
  send(5, false, 320, false);
  send(5, false, 480, false);
  CHECK(h.events.dtmf.empty());
  for (int i = 0; i < 3; ++i) send(5, true, 800, false);
  REQUIRE(h.events.dtmf.size() == 1);
  CHECK(h.events.dtmf[0].digit == '5');
  CHECK(h.events.dtmf[0].source == DtmfSource::kRfc4733);
  CHECK(h.events.dtmf[0].duration_ms == 100);
  h.peers["a"].ts += 1600;  // the next event starts later
  send(11, false, 160, true);
  for (int i = 0; i < 3; ++i) send(11, true, 480, false);
  REQUIRE(h.events.dtmf.size() == 2);
  CHECK(h.events.dtmf[1].digit == '#');
}

TEST_CASE("in-band digits are found in the audio of a leg that asks for it", "[engine][dtmf]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0, -1, LegOptions{.inband_dtmf = true});
  auto spec = codec::DtmfTone('7', 100, 100);
  REQUIRE(spec.ok());
  codec::ToneGenerator gen(8000, *spec);
  for (int i = 0; i < 10; ++i) {
    std::array<int16_t, 160> frame;
    gen.Generate(frame);
    h.SendPcmu("a", frame);
    h.Tick();
  }
  REQUIRE(h.events.dtmf.size() == 1);
  CHECK(h.events.dtmf[0].digit == '7');
  CHECK(h.events.dtmf[0].source == DtmfSource::kInband);
}

TEST_CASE("DTMF is sent as RFC 4733 events when negotiated", "[engine][dtmf]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0, 101);
  REQUIRE(h.engine.SendDtmf("a", "9", 100, 40).ok());
  CHECK(h.engine.SendDtmf("a", "9x", 100, 40).code() == StatusCode::kInvalidArgument);
  h.Tick(15);
  auto sent = h.SentTo("a");
  // RFC 4733 §2.5.1: updates every 20 ms with a growing duration; the packet that reaches the
  // full 100 ms (800 units) is the final one (E bit), sent three times.
  REQUIRE(sent.size() == 7);
  std::optional<uint32_t> ts;
  for (size_t i = 0; i < sent.size(); ++i) {
    auto packet = rtp::ParseRtp(sent[i]);
    REQUIRE(packet.ok());
    CHECK(packet->header.payload_type == 101);
    CHECK(packet->header.marker == (i == 0));
    if (ts) CHECK(packet->header.timestamp == *ts);
    ts = packet->header.timestamp;
    auto ev = rtp::ParseTelephoneEvent(packet->payload);
    REQUIRE(ev.ok());
    CHECK(ev->event == 9);
    CHECK(ev->end == (i >= 4));
    CHECK(ev->duration == std::min<size_t>(i + 1, 5) * 160);
  }
}

TEST_CASE("DTMF is sent in-band when the leg has no telephone-event", "[engine][dtmf]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  REQUIRE(h.engine.SendDtmf("a", "3", 100, 60).ok());
  h.Tick(10);
  auto heard = h.HeardPcmu("a");
  REQUIRE(heard.size() >= 1200);
  codec::DtmfDetector detector;
  std::array<codec::DtmfDigit, 4> found;
  size_t n = detector.Process(heard, found);
  REQUIRE(n == 1);
  CHECK(found[0].digit == '3');
}

TEST_CASE("a silent endpoint causes one RTP timeout and statistics come at their interval",
          "[engine][timers]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0, -1,
           LegOptions{.rtp_timeout_ms = 3000, .stats_interval_ms = 1000});
  for (size_t i = 0; i < 25; ++i) {
    h.SendPcmu("a", test::Sine(500, 8000, i * 160, 160));
    h.Tick();
  }
  CHECK(h.events.timeouts.empty());
  REQUIRE(h.events.stats_reports.size() == 0);
  h.Tick(25);  // 1 s since the leg started
  REQUIRE(h.events.stats_reports.size() == 1);
  CHECK_FALSE(h.events.stats_reports[0].final);
  CHECK(h.events.stats_reports[0].stats.packets_received == 25);
  h.Tick(125);  // 3 s of silence after the last packet at 0.48 s
  REQUIRE(h.events.timeouts.size() == 1);
  CHECK(h.events.timeouts[0].second >= 3000);
  h.Tick(50);
  CHECK(h.events.timeouts.size() == 1);

  // A new description (a re-INVITE taking the party off hold): its silence is timed anew.
  const auto updated = h.clock.Now();
  REQUIRE(h.engine.SetLegMedia("a", EngineHarness::MediaOf(1, CodecType::kPcmu, 0)).ok());
  h.Tick(100);  // 2 s
  CHECK(h.events.timeouts.size() == 1);
  h.Tick(50);  // 3 s since the update
  REQUIRE(h.events.timeouts.size() == 2);
  CHECK(h.clock.Now() - updated >= std::chrono::seconds(3));
}

TEST_CASE(
    "silence before a leg is bridged (its call ringing) does not count towards its RTP timeout",
    "[engine][timers]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0, -1, LegOptions{.rtp_timeout_ms = 3000});
  h.AddLeg("b", 2, CodecType::kPcmu, 0, -1, LegOptions{.rtp_timeout_ms = 3000});
  h.Tick(100);  // 2 s of ringing: neither endpoint sends
  REQUIRE(h.engine.Bridge("a", "b").ok());
  h.Tick(100);  // 4 s since the legs were made, 2 s since the answer
  CHECK(h.events.timeouts.empty());
  h.Tick(50);
  CHECK(h.events.timeouts.size() == 2);
}

// RTCP packets the leg at socket 10*index sent on its RTCP socket, with the time each left.
struct SentReport {
  std::chrono::milliseconds at;
  rtp::RtcpType first_type;
};

std::vector<SentReport> TickCollectingReports(EngineHarness& h, int ticks,
                                              const std::function<void(int)>& each_tick = {}) {
  std::vector<SentReport> reports;
  const auto start = h.clock.Now();
  for (int t = 0; t < ticks; ++t) {
    if (each_tick) each_tick(t);
    const size_t before = h.sink.sent.size();
    h.Tick();
    for (size_t i = before; i < h.sink.sent.size(); ++i) {
      const auto& p = h.sink.sent[i];
      if (p.socket != 11 || rtp::LooksLikeRtp(p.bytes)) continue;
      std::array<rtp::RtcpPacketView, 4> parts;
      REQUIRE(rtp::SplitCompound(p.bytes, parts).ok());
      reports.push_back(
          {std::chrono::duration_cast<std::chrono::milliseconds>(h.clock.Now() - start),
           parts[0].type});
    }
  }
  return reports;
}

TEST_CASE("RTCP goes out at randomised RFC 3550 intervals as SR while sending and RR after",
          "[engine][rtcp]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.Bridge("a", "b").ok());
  // 60 s in which b talks (relayed to a, so a sends RTP) for the first 30 s only.
  auto reports = TickCollectingReports(h, 3000, [&](int t) {
    if (t < 1500) h.SendPcmu("b", test::Sine(500, 8000, t * 160u, 160));
  });
  REQUIRE(reports.size() >= 10);
  // §6.2 / §A.7: the first report after half the 5 s minimum, randomised by [0.5, 1.5] and
  // divided by e - 3/2: 1.03..3.08 s; later ones 2.05..6.16 s apart.
  CHECK(reports[0].at >= 1020ms);
  CHECK(reports[0].at <= 3100ms);
  std::set<int64_t> gaps;
  for (size_t i = 1; i < reports.size(); ++i) {
    const auto gap = reports[i].at - reports[i - 1].at;
    CHECK(gap >= 2040ms);
    CHECK(gap <= 6180ms);
    gaps.insert(gap.count());
  }
  CHECK(gaps.size() > reports.size() / 2);  // randomised, not a fixed period
  // A sender report while a sends (relayed audio), receiver reports once it has sent nothing
  // since the previous report.
  for (const auto& r : reports) {
    if (r.at < 29s) CHECK(r.first_type == rtp::RtcpType::kSr);
    if (r.at > 37s) CHECK(r.first_type == rtp::RtcpType::kRr);
  }
}

TEST_CASE("RTCP reports on the latched source and echoes the endpoint's last SR",
          "[engine][rtcp]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  const test::Endpoint1& peer = h.peers.at("a");
  for (size_t i = 0; i < 10; ++i) {
    if (i == 4) {
      ++h.peers.at("a").seq;  // lost on the way
      h.peers.at("a").ts += 160;
    } else {
      h.SendPcmu("a", test::Sine(500, 8000, i * 160, 160));
    }
    h.Tick();
  }
  // The endpoint's SR (with SDES, a compound per RFC 3550 §6.1) on the leg's RTCP socket.
  std::array<uint8_t, 256> sr_bytes{};
  rtp::RtcpWriter writer(sr_bytes);
  REQUIRE(writer
              .AddSenderReport({.ssrc = peer.ssrc,
                                .sender = {.ntp_timestamp = 0x0001000200030004ull,
                                           .rtp_timestamp = 5000,
                                           .packet_count = 9,
                                           .octet_count = 1440}})
              .ok());
  rtp::SdesChunk peer_chunk{.ssrc = peer.ssrc, .item_count = 1};
  peer_chunk.items[0] = {.type = rtp::SdesItemType::kCname, .text = "endpoint"};
  REQUIRE(writer.AddSdes(std::span(&peer_chunk, 1)).ok());
  std::vector<uint8_t> sr(sr_bytes.begin(), sr_bytes.begin() + writer.size());
  h.engine.OnDatagram(11, {test::kLoopback, 5001}, sr);
  CHECK(h.metrics.Counter("sb_media_rtcp_received_total", "RTCP packets accepted").value() == 1);
  CHECK(h.Dropped("malformed") == 0);

  const auto sr_arrived = h.clock.Now();
  // The first report leaves within 3.1 s of the start (see the interval test above).
  std::vector<uint8_t> sent;
  core::Clock::TimePoint sent_at;
  for (int t = 0; t < 200 && sent.empty(); ++t) {
    const size_t before = h.sink.sent.size();
    h.Tick();
    for (size_t i = before; i < h.sink.sent.size(); ++i) {
      const auto& p = h.sink.sent[i];
      if (p.socket == 11 && !rtp::LooksLikeRtp(p.bytes)) {
        sent = p.bytes;
        sent_at = h.clock.Now();
      }
    }
  }
  REQUIRE_FALSE(sent.empty());
  std::array<rtp::RtcpPacketView, 4> parts;
  auto count = rtp::SplitCompound(sent, parts);
  REQUIRE(count.ok());
  REQUIRE(*count == 2);
  // The leg only received: a receiver report (RFC 3550 §6.4.2).
  REQUIRE(parts[0].type == rtp::RtcpType::kRr);
  auto report = rtp::ParseReceiverReport(parts[0]);
  REQUIRE(report.ok());
  CHECK(report->ssrc == 0x1001u);
  REQUIRE(report->block_count == 1);
  const rtp::ReportBlock& block = report->blocks[0];
  CHECK(block.ssrc == peer.ssrc);
  CHECK(block.cumulative_lost == 1);
  CHECK(block.extended_highest_seq == 109);  // sequence numbers 100..109 with 104 lost
  CHECK(block.fraction_lost == 25);          // 1 of 10, in 1/256
  CHECK(block.last_sr == 0x00020003u);       // the middle 32 bits of the endpoint's NTP time
  // DLSR: from the SR's arrival to the report, in 1/65536 s.
  const double dlsr = std::chrono::duration<double>(sent_at - sr_arrived).count();
  CHECK(dlsr > 0.5);
  CHECK(block.delay_since_last_sr == Approx(dlsr * 65536).margin(66));
  REQUIRE(parts[1].type == rtp::RtcpType::kSdes);
  rtp::Sdes sdes;
  REQUIRE(rtp::ParseSdes(parts[1], sdes).ok());
  REQUIRE(sdes.chunk_count == 1);
  CHECK(sdes.chunks[0].ssrc == 0x1001u);
  CHECK(sdes.chunks[0].cname() == "media-t");
}

}  // namespace
}  // namespace sb::media
