#include "switchboard/rtp/receive_stats.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <random>

using namespace std::chrono_literals;
using sb::core::FakeClock;
using sb::rtp::RtpReceiveStats;
using Verdict = RtpReceiveStats::Verdict;

TEST_CASE("a new source is valid only after two packets in sequence (A.1 probation)", "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  CHECK(s.OnPacket(100, 0, clock.Now()) == Verdict::kProbation);
  CHECK(s.OnPacket(101, 160, clock.Now()) == Verdict::kValid);
  CHECK(s.OnPacket(102, 320, clock.Now()) == Verdict::kValid);
  CHECK(s.received() == 2);
  CHECK(s.expected() == 2);

  RtpReceiveStats jumpy(8000);
  CHECK(jumpy.OnPacket(100, 0, clock.Now()) == Verdict::kProbation);
  CHECK(jumpy.OnPacket(500, 0, clock.Now()) == Verdict::kProbation);  // not in sequence: restart
  CHECK(jumpy.OnPacket(501, 0, clock.Now()) == Verdict::kValid);
}

TEST_CASE("without probation every packet of a source counts from the first", "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000, /*min_sequential=*/0);
  CHECK(s.OnPacket(100, 0, clock.Now()) == Verdict::kValid);
  CHECK(s.received() == 1);
  CHECK(s.expected() == 1);
  CHECK(s.OnPacket(102, 320, clock.Now()) == Verdict::kValid);  // 101 lost
  CHECK(s.received() == 2);
  CHECK(s.expected() == 3);
  CHECK(s.cumulative_lost() == 1);
}

TEST_CASE("sequence numbers wrap into an extended sequence number with cycle count", "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  uint16_t seq = 65530;
  uint32_t ts = 0xFFFFFD00;  // the timestamp wraps too
  for (int i = 0; i < 20; ++i, ++seq, ts += 160) {
    s.OnPacket(seq, ts, clock.Now());
    clock.Advance(20ms);
  }
  // 65530 + 19 = 65549 = one cycle + 13.
  CHECK(s.extended_highest_sequence() == (1u << 16) + 13);
  CHECK(s.cumulative_lost() == 0);
  CHECK(s.jitter() == 0);  // perfectly paced across the timestamp wrap
}

TEST_CASE("loss is counted cumulatively and as a fraction per report interval (A.3)", "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  uint16_t seq = 1000;
  auto send = [&](int n, bool drop_every_fourth) {
    for (int i = 0; i < n; ++i, ++seq) {
      if (!(drop_every_fourth && i % 4 == 1)) s.OnPacket(seq, seq * 160u, clock.Now());
      clock.Advance(20ms);
    }
  };
  send(100, false);
  auto first = s.MakeReportBlock(0xAB, clock.Now());
  CHECK(first.ssrc == 0xAB);
  CHECK(first.fraction_lost == 0);
  CHECK(first.cumulative_lost == 0);

  send(100, true);  // 25 of 100 lost
  auto second = s.MakeReportBlock(0xAB, clock.Now());
  CHECK(second.fraction_lost == 64);  // 25% of 256
  CHECK(second.cumulative_lost == 25);
  CHECK(s.loss_ratio() == Approx(25.0 / 199).epsilon(0.02));

  send(100, false);
  auto third = s.MakeReportBlock(0xAB, clock.Now());
  CHECK(third.fraction_lost == 0);  // a new interval
  CHECK(third.cumulative_lost == 25);
}

TEST_CASE("reordered packets are counted once and do not move the highest sequence back",
          "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  for (uint16_t seq : {10, 11, 13, 12, 14}) s.OnPacket(seq, seq * 160u, clock.Now());
  CHECK(s.extended_highest_sequence() == 14);
  CHECK(s.cumulative_lost() == 0);
  // Across the wrap: 65535 arrives after 0.
  RtpReceiveStats w(8000);
  for (uint16_t seq : {65533, 65534, 0, 65535, 1}) w.OnPacket(seq, 0, clock.Now());
  CHECK(w.extended_highest_sequence() == (1u << 16) + 1);
  CHECK(w.cumulative_lost() == 0);
}

TEST_CASE("a jump beyond MAX_DROPOUT is dropped until confirmed, then restarts the count",
          "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  for (uint16_t seq = 1; seq <= 10; ++seq) s.OnPacket(seq, 0, clock.Now());
  CHECK(s.OnPacket(20000, 0, clock.Now()) == Verdict::kBadSequence);
  CHECK(s.OnPacket(5, 0, clock.Now()) == Verdict::kValid);  // the old stream goes on
  CHECK(s.OnPacket(30000, 0, clock.Now()) == Verdict::kBadSequence);
  CHECK(s.OnPacket(30001, 0, clock.Now()) == Verdict::kRestarted);
  CHECK(s.extended_highest_sequence() == 30001);
  CHECK(s.received() == 1);
}

TEST_CASE("interarrival jitter follows A.8 for a known arrival pattern", "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  // Packets every 20 ms of media, arriving alternately 0 and 10 ms late: |D| = 80 units each
  // time, so J converges to 80 units = 10 ms.
  for (int i = 0; i < 400; ++i) {
    const auto arrival = clock.Now() + std::chrono::milliseconds(20 * i + (i % 2 ? 10 : 0));
    s.OnPacket(static_cast<uint16_t>(i), static_cast<uint32_t>(160 * i), arrival);
  }
  CHECK(s.jitter() == Approx(80).margin(2));
  CHECK(s.jitter_ms() == Approx(10).margin(0.25));

  // Random delay uniform in 0..40 ms: E|X - Y| = 40/3 ms.
  RtpReceiveStats r(8000);
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> delay_us(0, 40000);
  for (int i = 0; i < 5000; ++i) {
    const auto arrival =
        clock.Now() + std::chrono::milliseconds(20 * i) + std::chrono::microseconds(delay_us(rng));
    r.OnPacket(static_cast<uint16_t>(i), static_cast<uint32_t>(160 * i), arrival);
  }
  CHECK(r.jitter_ms() == Approx(40.0 / 3).epsilon(0.25));
}

TEST_CASE("LSR and DLSR echo the last sender report and the time since", "[unit]") {
  FakeClock clock;
  RtpReceiveStats s(8000);
  s.OnPacket(1, 0, clock.Now());
  s.OnPacket(2, 160, clock.Now());
  CHECK(s.MakeReportBlock(1, clock.Now()).last_sr == 0);
  s.OnSenderReport(0xAAAABBBBCCCCDDDDULL, clock.Now());
  clock.Advance(1500ms);
  auto b = s.MakeReportBlock(1, clock.Now());
  CHECK(b.last_sr == 0xBBBBCCCC);
  CHECK(b.delay_since_last_sr == 98304);  // 1.5 * 65536
}

TEST_CASE("unwrappers extend sequence numbers and timestamps across wrap-around", "[unit]") {
  sb::rtp::SequenceUnwrapper seq;
  const int64_t a = seq.Unwrap(65535);
  CHECK(seq.Unwrap(0) == a + 1);
  CHECK(seq.Unwrap(65534) == a - 1);  // late, before the wrap
  CHECK(seq.Unwrap(1) == a + 2);
  sb::rtp::TimestampUnwrapper ts;
  const int64_t t = ts.Unwrap(0xFFFFFF60);
  CHECK(ts.Unwrap(0x00000000) == t + 160);
  CHECK(ts.Unwrap(0x000000A0) == t + 320);
}
