// The per-packet paths of sb::rtp must not allocate: this binary counts every operator new and
// runs each path many times after its set-up, including the error paths a hostile peer can
// trigger at line rate (malformed, replayed and forged packets).
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "switchboard/rtp/jitter_buffer.h"
#include "switchboard/rtp/receive_stats.h"
#include "switchboard/rtp/rtcp.h"
#include "switchboard/rtp/rtp_packet.h"
#include "switchboard/rtp/srtp_session.h"
#include "switchboard/rtp/telephone_event.h"
#include "switchboard/testing/alloc_counter.h"

// AddressSanitizer owns operator new/delete itself and reports a replacement's frees as
// mismatches, so under -DSB_SANITIZE=ON this binary has no test: the counting runs in the
// ordinary build.
#if !defined(__SANITIZE_ADDRESS__)

using namespace std::chrono_literals;

TEST_CASE("parsing, statistics, jitter buffering and SRTP allocate nothing per packet", "[unit]") {
  sb::core::FakeClock clock;
  // The counter sees allocations (otherwise the zero below would prove nothing).
  REQUIRE(sb::testing::CountsAllocations());
  auto jb = sb::rtp::JitterBuffer::Create({});
  REQUIRE(jb.ok());
  sb::rtp::RtpReceiveStats stats(8000);
  std::vector<uint8_t> key(30, 0x5A);
  auto tx = sb::rtp::SrtpSession::Create(sb::rtp::SrtpSession::Direction::kOutbound,
                                         sb::rtp::CryptoSuite::kAesCm128HmacSha1_80, key);
  auto rx = sb::rtp::SrtpSession::Create(sb::rtp::SrtpSession::Direction::kInbound,
                                         sb::rtp::CryptoSuite::kAesCm128HmacSha1_80, key);
  REQUIRE(tx.ok());
  REQUIRE(rx.ok());
  sb::rtp::TelephoneEventReceiver events;
  std::array<uint8_t, 1500> buf{};
  std::array<uint8_t, 1500> wire{};
  std::array<uint8_t, 1500> out{};
  std::array<uint8_t, 160> payload{};
  std::array<sb::rtp::RtcpPacketView, 8> parts;
  const std::array<uint8_t, 5> garbage = {0x80, 0x00, 0x01};
  // Warm up once (libsrtp and the allocator may set things up on first use).
  {
    sb::rtp::RtpHeader h;
    h.sequence = 1;
    h.timestamp = 160;
    h.ssrc = 7;
    auto n = sb::rtp::BuildRtp(h, payload, buf);
    REQUIRE((*tx)->ProtectRtp(buf, *n).ok());
  }

  const uint64_t before = sb::testing::AllocationCount();
  for (uint16_t seq = 2; seq < 2002; ++seq) {
    sb::rtp::RtpHeader h;
    h.sequence = seq;
    h.timestamp = seq * 160u;
    h.ssrc = 7;
    auto n = sb::rtp::BuildRtp(h, payload, buf);
    REQUIRE(n.ok());
    auto p = (*tx)->ProtectRtp(buf, *n);
    REQUIRE(p.ok());
    std::copy(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*p), wire.begin());
    auto plain = (*rx)->UnprotectRtp(std::span(wire).first(*p));
    REQUIRE(plain.ok());
    auto parsed = sb::rtp::ParseRtp(std::span(wire).first(*plain));
    REQUIRE(parsed.ok());
    stats.OnPacket(parsed->header.sequence, parsed->header.timestamp, clock.Now());
    jb->Push(parsed->header.sequence, parsed->header.timestamp, false, parsed->payload,
             clock.Now());
    jb->Pop(clock.Now(), out);
    clock.Advance(20ms);

    // Hostile input: a replay, a forgery, garbage RTP/RTCP/4733.
    std::copy(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*p), wire.begin());
    CHECK_FALSE((*rx)->UnprotectRtp(std::span(wire).first(*p)).ok());
    std::copy(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*p), wire.begin());
    wire[20] ^= 1;
    CHECK_FALSE((*rx)->UnprotectRtp(std::span(wire).first(*p)).ok());
    CHECK_FALSE(sb::rtp::ParseRtp(garbage).ok());
    CHECK_FALSE(sb::rtp::SplitCompound(garbage, parts).ok());
    CHECK_FALSE(events.OnPacket(0, std::span(garbage).first(2)).ok());
  }
  const uint64_t during = sb::testing::AllocationCount() - before;
  CHECK(during == 0);

  // Reports every few seconds allocate nothing either.
  const uint64_t before_rtcp = sb::testing::AllocationCount();
  sb::rtp::ReceiverReport rr;
  rr.ssrc = 1;
  rr.block_count = 1;
  rr.blocks[0] = stats.MakeReportBlock(7, clock.Now());
  sb::rtp::RtcpWriter w(buf);
  REQUIRE(w.AddReceiverReport(rr).ok());
  REQUIRE(sb::rtp::SplitCompound(std::span(buf).first(w.size()), parts).ok());
  CHECK(sb::testing::AllocationCount() - before_rtcp == 0);
}

#endif  // !defined(__SANITIZE_ADDRESS__)
