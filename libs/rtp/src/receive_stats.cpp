#include "switchboard/rtp/receive_stats.h"

#include <algorithm>

namespace sb::rtp {
namespace {

constexpr uint32_t kSeqMod = 1u << 16;

}  // namespace

void RtpReceiveStats::InitSequence(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;  // so seq == bad_seq is false
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

// §A.1 update_seq, verbatim in structure.
bool RtpReceiveStats::UpdateSequence(uint16_t seq, Verdict& verdict) {
  const uint16_t udelta = static_cast<uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    if (seq == static_cast<uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        InitSequence(seq);
        ++received_;
        verdict = Verdict::kValid;
        return true;
      }
    } else {
      probation_ = kMinSequential - 1;
      max_seq_ = seq;
    }
    verdict = Verdict::kProbation;
    return false;
  }
  if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped
    max_seq_ = seq;
    verdict = Verdict::kValid;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    if (seq == bad_seq_) {
      // Two sequential packets after a jump: the other side restarted without telling us.
      InitSequence(seq);
      verdict = Verdict::kRestarted;
      have_transit_ = false;
    } else {
      bad_seq_ = (seq + 1u) & (kSeqMod - 1);
      verdict = Verdict::kBadSequence;
      return false;
    }
  } else {
    verdict = Verdict::kValid;  // duplicate or reordered: counted, as §A.1 does
  }
  ++received_;
  return true;
}

RtpReceiveStats::Verdict RtpReceiveStats::OnPacket(uint16_t seq, uint32_t timestamp,
                                                   core::Clock::TimePoint arrival) {
  if (!started_) {
    started_ = true;
    InitSequence(seq);
    max_seq_ = static_cast<uint16_t>(seq - 1);
    probation_ = min_sequential_;
    epoch_ = arrival;
  }
  Verdict verdict = Verdict::kValid;
  if (UpdateSequence(seq, verdict)) UpdateJitter(timestamp, arrival);
  return verdict;
}

void RtpReceiveStats::UpdateJitter(uint32_t timestamp, core::Clock::TimePoint arrival) {
  // Arrival in timestamp units; only differences matter, so a wrapping 32-bit value serves.
  const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(arrival - epoch_).count();
  const auto arrival_ts = static_cast<uint32_t>(
      static_cast<int64_t>(static_cast<__int128>(since) * clock_rate_ / 1000000000));
  const int64_t transit = static_cast<int32_t>(arrival_ts - timestamp);
  if (have_transit_) {
    int64_t d = static_cast<int32_t>(static_cast<uint32_t>(transit - last_transit_));
    if (d < 0) d = -d;
    // J += (|D| - J) / 16, in the integer form: jitter_q4_ holds J * 16.
    jitter_q4_ = static_cast<uint32_t>(static_cast<int64_t>(jitter_q4_) + d -
                                       ((static_cast<int64_t>(jitter_q4_) + 8) >> 4));
  }
  have_transit_ = true;
  last_transit_ = transit;
}

void RtpReceiveStats::OnSenderReport(uint64_t ntp_timestamp, core::Clock::TimePoint arrival) {
  last_sr_ = NtpMiddle32(ntp_timestamp);
  last_sr_arrival_ = arrival;
}

int64_t RtpReceiveStats::expected() const {
  if (received_ == 0 && probation_ > 0) return 0;
  return static_cast<int64_t>(extended_highest_sequence()) - base_seq_ + 1;
}

double RtpReceiveStats::loss_ratio() const {
  const int64_t e = expected();
  if (e <= 0) return 0;
  return std::clamp(static_cast<double>(cumulative_lost()) / static_cast<double>(e), 0.0, 1.0);
}

ReportBlock RtpReceiveStats::MakeReportBlock(uint32_t ssrc, core::Clock::TimePoint now) {
  ReportBlock b;
  b.ssrc = ssrc;
  const int64_t expected_now = std::max<int64_t>(expected(), 0);
  const auto expected_interval = expected_now - static_cast<int64_t>(expected_prior_);
  const auto received_interval = static_cast<int64_t>(received_ - received_prior_);
  expected_prior_ = static_cast<uint64_t>(expected_now);
  received_prior_ = received_;
  const int64_t lost_interval = expected_interval - received_interval;
  b.fraction_lost =
      (expected_interval <= 0 || lost_interval <= 0)
          ? 0
          : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
  b.cumulative_lost =
      static_cast<int32_t>(std::clamp<int64_t>(cumulative_lost(), -0x800000, 0x7FFFFF));
  b.extended_highest_seq = extended_highest_sequence();
  b.jitter = jitter();
  if (last_sr_ != 0) {
    b.last_sr = last_sr_;
    const auto delay =
        std::chrono::duration_cast<std::chrono::microseconds>(now - last_sr_arrival_);
    b.delay_since_last_sr = static_cast<uint32_t>(delay.count() * 65536 / 1000000);
  }
  return b;
}

}  // namespace sb::rtp
