#include "switchboard/rtp/rtcp_timing.h"

#include <catch2/catch.hpp>
#include <chrono>

using namespace std::chrono_literals;
using sb::rtp::RtcpIntervalInput;
using sb::rtp::RtcpSchedule;

TEST_CASE("a two-party call reports every 5 s on average, randomised 0.5..1.5 (A.7)", "[unit]") {
  RtcpSchedule s;
  const RtcpIntervalInput call{.members = 2, .senders = 2, .session_bandwidth = 8000};
  // 5 s minimum wins over 128 B * 2 / 400 B/s; then * (r + 0.5) / (e - 1.5).
  CHECK(s.Interval(call, 0.5).count() == Approx(5e6 / 1.21828).epsilon(1e-4));
  CHECK(s.Interval(call, 0.0).count() == Approx(2.5e6 / 1.21828).epsilon(1e-4));
  CHECK(s.Interval(call, 1.0).count() == Approx(7.5e6 / 1.21828).epsilon(1e-4));
  RtcpIntervalInput first = call;
  first.initial = true;
  CHECK(s.Interval(first, 0.5).count() == Approx(2.5e6 / 1.21828).epsilon(1e-4));
}

TEST_CASE("a large conference stretches the interval with its membership", "[unit]") {
  RtcpSchedule s;
  // 200 listeners, 2 talkers, 8000 B/s: receivers share 75 % of 400 B/s among 198 members.
  const RtcpIntervalInput listener{
      .members = 200, .senders = 2, .session_bandwidth = 8000, .we_sent = false};
  CHECK(s.Interval(listener, 0.5).count() ==
        Approx(128.0 * 198 / 300 / 1.21828 * 1e6).epsilon(1e-4));
  RtcpIntervalInput talker = listener;
  talker.we_sent = true;
  // Senders share 25 %: 128 * 2 / 100 = 2.56 s, below the 5 s minimum.
  CHECK(s.Interval(talker, 0.5).count() == Approx(5e6 / 1.21828).epsilon(1e-4));
}

TEST_CASE("the average RTCP size follows packets with gain 1/16", "[unit]") {
  RtcpSchedule s;
  CHECK(s.average_size() == 128);
  s.OnRtcpPacket(288);
  CHECK(s.average_size() == Approx(138));
}

TEST_CASE("sender info counts packets and octets and extrapolates the RTP timestamp", "[unit]") {
  sb::core::FakeClock clock;
  sb::rtp::RtpSendStats sent(8000);
  CHECK_FALSE(sent.has_sent());
  for (uint32_t i = 0; i < 50; ++i) {
    sent.OnSent(1000 + 160 * i, 160, clock.Now());
    clock.Advance(20ms);
  }
  // The last packet (ts 1000 + 49 * 160) went out 20 ms ago: 160 units more by now.
  clock.Advance(30ms);
  const auto info = sent.MakeSenderInfo(clock.Now(), clock.WallNow());
  CHECK(info.packet_count == 50);
  CHECK(info.octet_count == 8000);
  CHECK(info.rtp_timestamp == 1000 + 49 * 160 + 400);
  CHECK(info.ntp_timestamp == sb::rtp::ToNtp(clock.WallNow()));
}
