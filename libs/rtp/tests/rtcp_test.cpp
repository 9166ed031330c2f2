#include "switchboard/rtp/rtcp.h"

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

using namespace sb::rtp;

namespace {

ReportBlock Block(uint32_t ssrc) {
  ReportBlock b;
  b.ssrc = ssrc;
  b.fraction_lost = 25;
  b.cumulative_lost = -3;  // duplicates made it negative
  b.extended_highest_seq = (2u << 16) | 17;
  b.jitter = 321;
  b.last_sr = 0x12345678;
  b.delay_since_last_sr = 65536 / 2;
  return b;
}

}  // namespace

TEST_CASE("a compound SR + SDES + BYE round-trips through writer and parser", "[unit]") {
  SenderReport sr;
  sr.ssrc = 0x11223344;
  sr.sender = {.ntp_timestamp = 0xE1E2E3E4F1F2F3F4ULL,
               .rtp_timestamp = 160000,
               .packet_count = 1000,
               .octet_count = 160000};
  sr.block_count = 2;
  sr.blocks[0] = Block(0xAAAA0001);
  sr.blocks[1] = Block(0xAAAA0002);
  SdesChunk chunk;
  chunk.ssrc = 0x11223344;
  chunk.item_count = 2;
  chunk.items[0] = {SdesItemType::kCname, "media-1@switchboard"};
  chunk.items[1] = {SdesItemType::kTool, "sb"};
  const std::array<uint32_t, 1> bye_ssrc = {0x11223344};

  std::array<uint8_t, 512> buf{};
  RtcpWriter w(buf);
  REQUIRE(w.AddSenderReport(sr).ok());
  REQUIRE(w.AddSdes(std::span(&chunk, 1)).ok());
  REQUIRE(w.AddBye(bye_ssrc, "call ended").ok());
  // SR: 28 + 2*24; SDES: 4 + 4 + (2+19) + (2+2) -> padded to 36; BYE: 4 + 4 + 12.
  CHECK(w.size() == 76 + 36 + 20);
  CHECK(w.size() % 4 == 0);

  std::array<RtcpPacketView, 8> parts;
  auto n = SplitCompound(std::span(buf).first(w.size()), parts);
  REQUIRE(n.ok());
  REQUIRE(*n == 3);

  auto got_sr = ParseSenderReport(parts[0]);
  REQUIRE(got_sr.ok());
  CHECK(got_sr->ssrc == sr.ssrc);
  CHECK(got_sr->sender.ntp_timestamp == sr.sender.ntp_timestamp);
  CHECK(got_sr->sender.octet_count == 160000);
  REQUIRE(got_sr->block_count == 2);
  CHECK(got_sr->blocks[1].ssrc == 0xAAAA0002);
  CHECK(got_sr->blocks[1].cumulative_lost == -3);
  CHECK(got_sr->blocks[1].fraction_lost == 25);
  CHECK(got_sr->blocks[1].extended_highest_seq == ((2u << 16) | 17));
  CHECK(got_sr->blocks[1].jitter == 321);
  CHECK(got_sr->blocks[1].delay_since_last_sr == 32768);

  Sdes sdes;
  REQUIRE(ParseSdes(parts[1], sdes).ok());
  REQUIRE(sdes.chunk_count == 1);
  CHECK(sdes.chunks[0].ssrc == 0x11223344);
  CHECK(sdes.chunks[0].cname() == "media-1@switchboard");
  CHECK(sdes.chunks[0].items[1].text == "sb");

  auto bye = ParseBye(parts[2]);
  REQUIRE(bye.ok());
  REQUIRE(bye->ssrc_count == 1);
  CHECK(bye->ssrcs[0] == 0x11223344);
  CHECK(bye->reason == "call ended");
}

TEST_CASE("an RR with no blocks is the smallest valid compound start", "[unit]") {
  ReceiverReport rr;
  rr.ssrc = 5;
  std::array<uint8_t, 8> buf{};
  RtcpWriter w(buf);
  REQUIRE(w.AddReceiverReport(rr).ok());
  // RFC 3550 §6.4.2: V=2, RC=0, PT=201, length=1 (two words), SSRC.
  CHECK(buf == std::array<uint8_t, 8>{0x80, 201, 0, 1, 0, 0, 0, 5});
  std::array<RtcpPacketView, 2> parts;
  REQUIRE(*SplitCompound(buf, parts) == 1);
  auto got = ParseReceiverReport(parts[0]);
  REQUIRE(got.ok());
  CHECK(got->ssrc == 5);
  CHECK(got->block_count == 0);
}

TEST_CASE("compound packets that break RFC 3550 A.2 are rejected", "[unit]") {
  // A valid RR followed by a BYE, then broken one way at a time.
  const std::vector<uint8_t> good = {0x80, 201, 0, 1, 0, 0, 0, 5, 0x81, 203, 0, 1, 0, 0, 0, 5};
  std::array<RtcpPacketView, 4> parts;
  REQUIRE(SplitCompound(good, parts).ok());
  auto broken = [&](auto mutate) {
    auto b = good;
    mutate(b);
    return SplitCompound(b, parts);
  };
  CHECK_FALSE(broken([](auto& b) { b[0] = 0x40; }).ok());   // version 1
  CHECK_FALSE(broken([](auto& b) { b[1] = 203; }).ok());    // first packet is a BYE
  CHECK_FALSE(broken([](auto& b) { b[3] = 9; }).ok());      // length past the end
  CHECK_FALSE(broken([](auto& b) { b[0] = 0xA0; }).ok());   // padding in a non-last packet
  CHECK_FALSE(broken([](auto& b) { b.pop_back(); }).ok());  // trailing partial packet
  CHECK_FALSE(SplitCompound({}, parts).ok());
  std::array<RtcpPacketView, 1> one;
  CHECK(SplitCompound(good, one).status().code() == sb::StatusCode::kResourceExhausted);
}

TEST_CASE("SDES and BYE parsing stop at the packet's end", "[unit]") {
  // SDES with one chunk whose CNAME claims 40 bytes but the packet has 4.
  const std::vector<uint8_t> sdes = {0x80, 201, 0,   1,  0, 0, 0, 1,  // RR
                                     0x81, 202, 0,   2,  0, 0, 0, 1,  // SDES, 1 chunk
                                     1,    40,  'a', 'b'};
  std::array<RtcpPacketView, 4> parts;
  auto n = SplitCompound(sdes, parts);
  REQUIRE(n.ok());
  Sdes out;
  CHECK_FALSE(ParseSdes(parts[1], out).ok());

  const std::vector<uint8_t> bye = {0x80, 201, 0, 1, 0, 0, 0, 1,  //
                                    0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'x', 'y', 'z'};
  REQUIRE(SplitCompound(bye, parts).ok());
  CHECK_FALSE(ParseBye(parts[1]).ok());
}

TEST_CASE("NTP time and the round-trip time of RFC 3550 6.4.1", "[unit]") {
  // 2026-01-01T00:00:00.5Z: 3976214400 s since 1900, and half a second as a fraction.
  const sb::core::Clock::WallTime t{std::chrono::milliseconds(1767225600500LL)};
  const uint64_t ntp = ToNtp(t);
  CHECK((ntp >> 32) == 1767225600ULL + 2208988800ULL);
  CHECK((ntp & 0xFFFFFFFFu) == 0x80000000u);

  // We sent an SR at `ntp`; the peer held it 250 ms and its RR reached us 400 ms after we sent.
  ReportBlock b;
  b.last_sr = NtpMiddle32(ntp);
  b.delay_since_last_sr = 65536 / 4;
  const uint64_t arrival = ToNtp(t + std::chrono::milliseconds(400));
  auto rtt = RoundTripTime(b, arrival);
  REQUIRE(rtt.has_value());
  CHECK(rtt->count() == Approx(150000).margin(20));
  b.last_sr = 0;
  CHECK_FALSE(RoundTripTime(b, arrival).has_value());
}
