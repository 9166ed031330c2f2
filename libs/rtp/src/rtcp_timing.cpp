#include "switchboard/rtp/rtcp_timing.h"

#include <algorithm>
#include <cmath>

namespace sb::rtp {
namespace {

constexpr double kRtcpMinTime = 5.0;
constexpr double kSenderFraction = 0.25;
constexpr double kReceiverFraction = 0.75;
constexpr double kRtcpBandwidthShare = 0.05;
constexpr double kCompensation = 2.71828 - 1.5;

}  // namespace

void RtpSendStats::OnSent(uint32_t rtp_timestamp, size_t payload_bytes,
                          core::Clock::TimePoint now) {
  ++packets_;
  octets_ += static_cast<uint32_t>(payload_bytes);
  last_timestamp_ = rtp_timestamp;
  last_sent_ = now;
}

SenderInfo RtpSendStats::MakeSenderInfo(core::Clock::TimePoint now,
                                        core::Clock::WallTime wall_now) const {
  SenderInfo info;
  info.ntp_timestamp = ToNtp(wall_now);
  const auto since = std::chrono::duration_cast<std::chrono::microseconds>(now - last_sent_);
  info.rtp_timestamp =
      last_timestamp_ + static_cast<uint32_t>(since.count() * clock_rate_ / 1000000);
  info.packet_count = packets_;
  info.octet_count = octets_;
  return info;
}

void RtcpSchedule::OnRtcpPacket(size_t bytes) {
  avg_size_ += (static_cast<double>(bytes) - avg_size_) / 16.0;
}

std::chrono::microseconds RtcpSchedule::Interval(const RtcpIntervalInput& in,
                                                 double random01) const {
  const double min_time = in.initial ? kRtcpMinTime / 2 : kRtcpMinTime;
  double bandwidth = std::max(in.session_bandwidth * kRtcpBandwidthShare, 1.0);
  double n = std::max(in.members, 1);
  // When senders are few, they share a quarter of the RTCP bandwidth and receivers the rest.
  if (in.senders <= in.members * kSenderFraction) {
    if (in.we_sent) {
      bandwidth *= kSenderFraction;
      n = std::max(in.senders, 1);
    } else {
      bandwidth *= kReceiverFraction;
      n = std::max(in.members - in.senders, 1);
    }
  }
  double t = std::max(avg_size_ * n / bandwidth, min_time);
  t = t * (std::clamp(random01, 0.0, 1.0) + 0.5) / kCompensation;
  return std::chrono::microseconds(std::llround(t * 1e6));
}

}  // namespace sb::rtp
