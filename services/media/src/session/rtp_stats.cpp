#include "session/rtp_stats.h"

#include <algorithm>
#include <cmath>

namespace sb::media {
namespace {
// RFC 3550 A.1: a jump of more than this is a restart, not loss.
constexpr uint16_t kMaxDropout = 3000;
}  // namespace

void ReceiveStats::Update(uint16_t sequence, uint32_t timestamp, uint32_t arrival) {
  if (!started_) {
    started_ = true;
    max_seq_ = sequence;
    base_seq_ = sequence;
    last_transit_ = static_cast<int64_t>(arrival) - static_cast<int64_t>(timestamp);
    received_ = 1;
    return;
  }
  uint16_t delta = static_cast<uint16_t>(sequence - max_seq_);
  if (delta != 0 && delta < kMaxDropout) {
    if (sequence < max_seq_) cycles_ += 1u << 16;
    max_seq_ = sequence;
  }
  ++received_;
  // Transit differences are taken modulo 2^32 so that a timestamp wrap is a small step.
  int32_t transit = static_cast<int32_t>(arrival - timestamp);
  int32_t d = transit - static_cast<int32_t>(last_transit_);
  last_transit_ = transit;
  jitter_ += (std::abs(static_cast<double>(d)) - jitter_) / 16.0;
}

double ReceiveStats::loss_fraction() const {
  uint64_t exp = expected();
  if (exp == 0) return 0;
  return std::clamp(static_cast<double>(lost()) / static_cast<double>(exp), 0.0, 1.0);
}

uint8_t ReceiveStats::TakeIntervalFractionLost() {
  uint64_t exp = expected();
  int64_t expected_interval = static_cast<int64_t>(exp - expected_prior_);
  int64_t received_interval = static_cast<int64_t>(received_ - received_prior_);
  expected_prior_ = exp;
  received_prior_ = received_;
  int64_t lost_interval = expected_interval - received_interval;
  if (expected_interval <= 0 || lost_interval <= 0) return 0;
  return static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
}

double EstimateMos(const CodecImpairment& codec, double loss_fraction, double jitter_ms,
                   double network_delay_ms) {
  // G.107 §7 with the default values of Table 3, which give R = 93.2 for a perfect G.711 call.
  double delay = network_delay_ms + 2 * jitter_ms + 20;  // + one frame of packetisation
  double id = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0);
  double ppl = std::clamp(loss_fraction, 0.0, 1.0) * 100;
  double ie_eff = codec.ie + (95 - codec.ie) * ppl / (ppl + codec.bpl);
  double r = 93.2 - id - ie_eff;
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return std::clamp(1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6, 1.0, 4.5);
}

}  // namespace sb::media
