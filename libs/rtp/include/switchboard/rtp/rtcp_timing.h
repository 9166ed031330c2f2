// What a media leg needs to send its own RTCP: the sender-side counters of a sender report
// (RFC 3550 §6.4.1) and the randomised transmission interval of §6.3.1 / §A.7.
//
//   sb::rtp::RtpSendStats sent(8000);
//   sent.OnSent(rtp_timestamp, payload.size(), clock.Now());        // every packet sent
//   sr.sender = sent.MakeSenderInfo(clock.Now(), clock.WallNow());  // when a report is due
//
//   sb::rtp::RtcpSchedule schedule;
//   auto next = schedule.Interval({.members = 2, .senders = 2, .session_bandwidth = 8000,
//                                  .we_sent = true, .initial = first}, uniform01(rng));
//   schedule.OnRtcpPacket(report_size);                             // sent or received
//
// Randomness is the caller's (a seeded source in tests): Interval takes a uniform [0, 1) draw.
#pragma once

#include <chrono>
#include <cstdint>

#include "switchboard/core/clock.h"
#include "switchboard/rtp/rtcp.h"

namespace sb::rtp {

class RtpSendStats {
 public:
  explicit RtpSendStats(uint32_t clock_rate) : clock_rate_(clock_rate) {}

  void OnSent(uint32_t rtp_timestamp, size_t payload_bytes, core::Clock::TimePoint now);
  // Sender info for an SR sent now: NTP wall time and the RTP timestamp that corresponds to the
  // same instant (the last sent timestamp advanced by the time since it was sent, §6.4.1), so a
  // receiver can line up this stream with others (lip sync, RTT).
  SenderInfo MakeSenderInfo(core::Clock::TimePoint now, core::Clock::WallTime wall_now) const;

  bool has_sent() const { return packets_ > 0; }
  uint32_t packets() const { return packets_; }
  uint32_t octets() const { return octets_; }

 private:
  uint32_t clock_rate_;
  uint32_t packets_ = 0;  // both wrap modulo 2^32, as on the wire
  uint32_t octets_ = 0;
  uint32_t last_timestamp_ = 0;
  core::Clock::TimePoint last_sent_{};
};

struct RtcpIntervalInput {
  int members = 2;                  // participants including us
  int senders = 2;                  // participants that sent RTP recently, including us if we did
  double session_bandwidth = 8000;  // bytes/s of the RTP session; RTCP gets 5 % of it
  bool we_sent = true;
  bool initial = false;  // before our first RTCP packet: half the minimum (§6.2)
};

class RtcpSchedule {
 public:
  // Average compound RTCP packet size in bytes (with UDP/IP headers, §6.3.3), starting from a
  // typical RR + SDES.
  double average_size() const { return avg_size_; }
  void OnRtcpPacket(size_t bytes_with_headers);
  // §A.7 rtcp_interval(): deterministic interval, minimum 5 s (2.5 s initially), scaled by
  // random01 + 0.5 and divided by e - 3/2 to compensate for timer reconsideration.
  std::chrono::microseconds Interval(const RtcpIntervalInput& in, double random01) const;

 private:
  double avg_size_ = 128;
};

}  // namespace sb::rtp
