#include "session/rtp_wire.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "session/rtp_stats.h"

namespace sb::media {
namespace {

std::vector<uint8_t> Packet(std::initializer_list<uint8_t> bytes) { return bytes; }

TEST_CASE("an RTP header written is read back", "[rtp]") {
  std::array<uint8_t, 64> buf{};
  size_t n = WriteRtpHeader({.marker = true,
                             .payload_type = 111,
                             .sequence = 65535,
                             .timestamp = 0xdeadbeef,
                             .ssrc = 0x01020304},
                            buf);
  REQUIRE(n == 12);
  buf[12] = 0xaa;
  auto rtp = ParseRtp(std::span(buf).first(13));
  REQUIRE(rtp.ok());
  CHECK(rtp->marker);
  CHECK(rtp->payload_type == 111);
  CHECK(rtp->sequence == 65535);
  CHECK(rtp->timestamp == 0xdeadbeef);
  CHECK(rtp->ssrc == 0x01020304);
  REQUIRE(rtp->payload.size() == 1);
  CHECK(rtp->payload[0] == 0xaa);
}

TEST_CASE("CSRCs, a header extension and padding are skipped", "[rtp]") {
  // V=2 P=1 X=1 CC=1, PT 0; one CSRC; extension of one word; payload 2 bytes; 2 bytes padding.
  auto p = Packet({0xb1, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9,  // header
                   1,    2,    3, 4,                          // CSRC
                   0xbe, 0xde, 0, 1, 7, 7, 7, 7,              // extension
                   0x55, 0x66,                                // payload
                   0,    2});                                 // padding
  auto rtp = ParseRtp(p);
  REQUIRE(rtp.ok());
  CHECK(rtp->header_size == 24);
  REQUIRE(rtp->payload.size() == 2);
  CHECK(rtp->payload[0] == 0x55);
}

TEST_CASE("malformed RTP is refused", "[rtp]") {
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
  };
  std::vector<Case> cases = {
      {"too short", {0x80, 0, 0, 1}},
      {"version 1", {0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}},
      {"CSRCs past the end", {0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2}},
      {"extension past the end", {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9}},
      {"padding larger than payload", {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 40}},
      {"zero padding", {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0}},
      {"RTCP SR type", {0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) { CHECK_FALSE(ParseRtp(c.bytes).ok()); }
  }
}

TEST_CASE("RTCP is told apart from RTP on a muxed port (RFC 5761)", "[rtp]") {
  CHECK(IsRtcp(Packet({0x80, 200, 0, 6, 0, 0, 0, 1})));
  CHECK(IsRtcp(Packet({0x81, 201, 0, 7, 0, 0, 0, 1})));
  CHECK_FALSE(IsRtcp(Packet({0x80, 0, 0, 6, 0, 0, 0, 1})));
  CHECK_FALSE(IsRtcp(Packet({0x80, 111, 0, 6, 0, 0, 0, 1})));
}

TEST_CASE("RFC 4733 events round-trip and map to digits", "[rtp][dtmf]") {
  std::array<uint8_t, 4> buf{};
  WriteTelephoneEvent({.event = 11, .end = true, .volume = 10, .duration = 800}, buf);
  CHECK(buf == std::array<uint8_t, 4>{11, 0x8a, 0x03, 0x20});
  auto e = ParseTelephoneEvent(buf);
  REQUIRE(e.ok());
  CHECK(e->end);
  CHECK(e->duration == 800);
  CHECK(EventToDigit(e->event) == '#');
  CHECK(EventToDigit(10) == '*');
  CHECK(EventToDigit(15) == 'D');
  CHECK(EventToDigit(16) == 0);
  CHECK(DigitToEvent('7') == 7);
  CHECK(DigitToEvent('A') == 12);
  CHECK(DigitToEvent('x') == -1);
  CHECK_FALSE(ParseTelephoneEvent(std::span(buf).first(3)).ok());
}

TEST_CASE("an SR with a report block and SDES has the RFC 3550 layout", "[rtcp]") {
  std::array<uint8_t, 200> buf{};
  ReportBlock block{.ssrc = 0x11111111,
                    .fraction_lost = 64,
                    .cumulative_lost = 3,
                    .extended_highest_sequence = 70000,
                    .jitter = 12,
                    .last_sr = 5,
                    .delay_since_last_sr = 6};
  size_t n = WriteRtcpSenderReport({.ssrc = 0xabcdef01,
                                    .ntp_timestamp = 0x0102030405060708ull,
                                    .rtp_timestamp = 160,
                                    .packet_count = 2,
                                    .octet_count = 320},
                                   &block, "media-1", buf);
  REQUIRE(n == 52 + 20);
  CHECK(buf[0] == 0x81);
  CHECK(buf[1] == 200);
  CHECK(buf[3] == 12);   // 13 words - 1
  CHECK(buf[32] == 64);  // fraction lost
  CHECK(buf[52] == 0x81);
  CHECK(buf[53] == 202);
  CHECK(buf[60] == 1);  // CNAME
  CHECK(buf[61] == 7);
  CHECK(n % 4 == 0);
  auto summary = ParseRtcpHeader(std::span(buf).first(n));
  REQUIRE(summary.ok());
  CHECK(summary->sender_report);
  CHECK(summary->ssrc == 0xabcdef01);
  CHECK(summary->ntp_middle == 0x03040506);
  CHECK(WriteRtcpSenderReport({}, nullptr, "x", std::span(buf).first(20)) == 0);
}

TEST_CASE("receive statistics follow sequence wrap-around and count losses", "[stats]") {
  ReceiveStats stats(8000);
  uint16_t seq = 65530;
  uint32_t ts = 1000;
  for (int i = 0; i < 20; ++i) {
    if (i != 7 && i != 8) stats.Update(seq, ts, ts + 50);  // two lost, constant transit
    ++seq;
    ts += 160;
  }
  CHECK(stats.received() == 18);
  CHECK(stats.expected() == 20);
  CHECK(stats.lost() == 2);
  CHECK(stats.extended_max() == (1u << 16) + 13);
  CHECK(stats.loss_fraction() == Approx(0.1));
  CHECK(stats.jitter_ms() == Approx(0).margin(1e-9));
  CHECK(stats.TakeIntervalFractionLost() == 25);  // 2/20 * 256
  CHECK(stats.TakeIntervalFractionLost() == 0);
}

TEST_CASE("jitter grows with varying transit time (RFC 3550 A.8)", "[stats]") {
  ReceiveStats stats(8000);
  uint32_t ts = 0;
  for (int i = 0; i < 200; ++i) {
    uint32_t delay = (i % 2 == 0) ? 0 : 80;  // 10 ms alternate
    stats.Update(static_cast<uint16_t>(i), ts, ts + delay);
    ts += 160;
  }
  CHECK(stats.jitter_units() > 70);
  CHECK(stats.jitter_ms() == Approx(10).margin(1));
}

TEST_CASE("the MOS estimate falls with loss and jitter", "[stats]") {
  CodecImpairment g711;
  double clean = EstimateMos(g711, 0, 0, 0);
  CHECK(clean > 4.3);
  CHECK(clean <= 4.5);
  double lossy = EstimateMos(g711, 0.05, 0, 0);
  double jittery = EstimateMos(g711, 0, 80, 100);
  CHECK(lossy < clean);
  CHECK(jittery < clean);
  CHECK(EstimateMos(g711, 0.5, 100, 300) < 2);
  CHECK(EstimateMos(g711, 1, 0, 0) >= 1);
}

}  // namespace
}  // namespace sb::media
