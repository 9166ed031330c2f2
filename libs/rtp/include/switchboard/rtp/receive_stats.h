// Receive-side statistics of one RTP source (RFC 3550 Appendix A): source validation and
// extended sequence numbers (§A.1), expected/lost packets and fraction lost (§A.3),
// interarrival jitter (§A.8), and the LSR/DLSR fields of reception report blocks (§6.4.1).
//
//   sb::rtp::RtpReceiveStats stats(8000);              // the payload's RTP clock rate
//   switch (stats.OnPacket(h.sequence, h.timestamp, clock.Now())) {
//     case Verdict::kValid: Deliver(...); break;
//     case Verdict::kProbation: break;                 // not yet validated: hold or drop
//     case Verdict::kRestarted: ...                    // the source jumped; counters restarted
//     case Verdict::kBadSequence: CountDropped(); break;
//   }
//   rr.blocks[0] = stats.MakeReportBlock(remote_ssrc, clock.Now());   // every RTCP interval
//
// Arrival times come from the caller (an injected Clock), never from here. Also here: extending
// 16-bit sequence numbers and 32-bit timestamps to 64 bits across wrap-around.
#pragma once

#include <cstdint>

#include "switchboard/core/clock.h"
#include "switchboard/rtp/rtcp.h"

namespace sb::rtp {

// Extends a wrapping counter to 64 bits by taking each new value as the one nearest to the
// highest seen so far, so that reordering across the wrap goes backwards, not 65535 ahead.
// The first value maps to itself plus 2^32, which leaves room below for late packets.
template <typename Narrow, typename SignedNarrow>
class Unwrapper {
 public:
  int64_t Unwrap(Narrow value) {
    if (!started_) {
      started_ = true;
      highest_ = (int64_t{1} << 32) + value;
      return highest_;
    }
    const auto delta =
        static_cast<SignedNarrow>(static_cast<Narrow>(value - static_cast<Narrow>(highest_)));
    const int64_t extended = highest_ + delta;
    if (extended > highest_) highest_ = extended;
    return extended;
  }
  bool started() const { return started_; }
  void Reset() { started_ = false; }

 private:
  bool started_ = false;
  int64_t highest_ = 0;
};

using SequenceUnwrapper = Unwrapper<uint16_t, int16_t>;
using TimestampUnwrapper = Unwrapper<uint32_t, int32_t>;

class RtpReceiveStats {
 public:
  enum class Verdict {
    kValid,        // counted in the statistics
    kProbation,    // a new source is not valid until kMinSequential packets in sequence
    kRestarted,    // after a jump, two sequential packets: the sender restarted (§A.1)
    kBadSequence,  // a jump of more than kMaxDropout: dropped until confirmed
  };

  static constexpr int kMinSequential = 2;
  static constexpr int kMaxDropout = 3000;
  static constexpr int kMaxMisorder = 100;

  explicit RtpReceiveStats(uint32_t clock_rate) : clock_rate_(clock_rate) {}
  // min_sequential 0 skips probation: for a source already validated by other means (§A.1
  // allows it), e.g. one the caller latched by address and SSRC, every packet counts from the
  // first.
  RtpReceiveStats(uint32_t clock_rate, int min_sequential)
      : clock_rate_(clock_rate), min_sequential_(min_sequential) {}

  Verdict OnPacket(uint16_t sequence, uint32_t timestamp, core::Clock::TimePoint arrival);
  // A sender report from this source arrived (for LSR/DLSR).
  void OnSenderReport(uint64_t ntp_timestamp, core::Clock::TimePoint arrival);

  // The report block for this source; starts a new interval for fraction_lost.
  ReportBlock MakeReportBlock(uint32_t ssrc, core::Clock::TimePoint now);

  uint64_t received() const { return received_; }
  uint32_t extended_highest_sequence() const { return cycles_ + max_seq_; }
  int64_t expected() const;
  int64_t cumulative_lost() const { return expected() - static_cast<int64_t>(received_); }
  // §A.8 jitter in timestamp units and in milliseconds.
  uint32_t jitter() const { return jitter_q4_ >> 4; }
  double jitter_ms() const { return 1000.0 * jitter() / clock_rate_; }
  // Lost over expected since the stream started, 0..1.
  double loss_ratio() const;

 private:
  void InitSequence(uint16_t seq);
  bool UpdateSequence(uint16_t seq, Verdict& verdict);
  void UpdateJitter(uint32_t timestamp, core::Clock::TimePoint arrival);

  uint32_t clock_rate_;
  int min_sequential_ = kMinSequential;
  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // shifted count of sequence number cycles
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0;
  int probation_ = 0;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;

  bool have_transit_ = false;
  core::Clock::TimePoint epoch_{};
  int64_t last_transit_ = 0;
  uint32_t jitter_q4_ = 0;  // jitter * 16, as in the integer form of §A.8

  uint32_t last_sr_ = 0;
  core::Clock::TimePoint last_sr_arrival_{};
};

}  // namespace sb::rtp
