// Receive statistics of one RTP stream as RFC 3550 Appendix A computes them: extended highest
// sequence (A.1, with wrap-around), expected and lost packets (A.3) and interarrival jitter
// (A.8), plus a listening-quality MOS estimate from a simplified ITU-T G.107 E-model.
//
//   ReceiveStats stats(8000);
//   stats.Update(rtp.sequence, rtp.timestamp, arrival_in_timestamp_units);
//   double loss = stats.loss_fraction();
//   double mos = EstimateMos({.codec_ie = 0, .codec_bpl = 25.1}, loss, stats.jitter_ms(), 40);
#pragma once

#include <cstdint>

namespace sb::media {

class ReceiveStats {
 public:
  explicit ReceiveStats(uint32_t clock_rate) : clock_rate_(clock_rate) {}

  // `arrival` is the arrival time converted to the stream's timestamp units.
  void Update(uint16_t sequence, uint32_t timestamp, uint32_t arrival);

  uint64_t received() const { return received_; }
  uint32_t extended_max() const { return cycles_ + max_seq_; }
  uint64_t expected() const { return received_ == 0 ? 0 : extended_max() - base_seq_ + 1; }
  // Negative when duplicates outnumber losses (RFC 3550 A.3 allows it).
  int64_t lost() const {
    return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_);
  }
  double loss_fraction() const;
  uint32_t jitter_units() const { return static_cast<uint32_t>(jitter_); }
  double jitter_ms() const { return jitter_ * 1000.0 / clock_rate_; }
  // Fraction lost since the previous call, 0..255 (for an RTCP report block), and resets the
  // interval counters.
  uint8_t TakeIntervalFractionLost();

 private:
  uint32_t clock_rate_;
  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // count of sequence wraps, shifted left by 16
  uint32_t base_seq_ = 0;
  uint64_t received_ = 0;
  double jitter_ = 0;
  int64_t last_transit_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
};

// Per-codec impairment constants of ITU-T G.113 Appendix I: Ie (equipment impairment) and Bpl
// (packet-loss robustness).
struct CodecImpairment {
  double ie = 0;
  double bpl = 25.1;  // G.711 with PLC (G.711 Appendix I)
};

// MOS-LQE 1..4.5 from loss (0..1), jitter and one-way network delay in ms. The jitter buffer is
// taken to add twice the jitter to the delay.
double EstimateMos(const CodecImpairment& codec, double loss_fraction, double jitter_ms,
                   double network_delay_ms);

}  // namespace sb::media
