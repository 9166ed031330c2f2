#include "switchboard/rtp/quality.h"

#include <algorithm>

namespace sb::rtp {
namespace {

struct CodecImpairment {
  double ie;
  double bpl;
  double delay_ms;  // frame + look-ahead
};

CodecImpairment ImpairmentOf(QualityCodec codec) {
  switch (codec) {
    case QualityCodec::kPcmu:
    case QualityCodec::kPcma:
      return {0.0, 25.1, 20.0};
    case QualityCodec::kOpus:
      return {0.0, 25.1, 26.5};
  }
  return {0.0, 25.1, 20.0};
}

}  // namespace

double RFactor(const QualityInput& in) {
  const CodecImpairment c = ImpairmentOf(in.codec);
  const double d =
      std::max(0.0, in.one_way_delay_ms) + 2.0 * std::max(0.0, in.jitter_ms) + c.delay_ms;
  double id = 0.024 * d;
  if (d > 177.3) id += 0.11 * (d - 177.3);
  const double ppl = std::clamp(in.loss_ratio, 0.0, 1.0) * 100.0;
  const double ie_eff = c.ie + (95.0 - c.ie) * ppl / (ppl + c.bpl);
  return 93.2 - id - ie_eff;
}

double MosFromR(double r) {
  if (r < 0) return 1.0;
  if (r > 100) return 4.5;
  return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
}

double EstimateMos(const QualityInput& in) { return MosFromR(RFactor(in)); }

}  // namespace sb::rtp
