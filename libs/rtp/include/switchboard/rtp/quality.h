// Call quality per leg: an MOS (mean opinion score, 1..4.5) estimated from delay, jitter, loss
// and codec with a simplified ITU-T G.107 E-model, for the leg statistics the media node
// reports.
//
//   sb::rtp::QualityInput in{.one_way_delay_ms = rtt_ms / 2, .jitter_ms = stats.jitter_ms(),
//                            .loss_ratio = stats.loss_ratio(), .codec = QualityCodec::kPcmu};
//   double mos = sb::rtp::EstimateMos(in);
//
// The formula (G.107 (06/2015) with every default left at its default except the terms below):
//   d      = one_way_delay + 2 * jitter + codec_delay            mouth-to-ear delay, ms; a jitter
//                                                                buffer holds about 2x jitter
//   Id     = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)             delay impairment (Cole &
//                                                                Rosenbluth's fit of G.107 Idd)
//   Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)         G.107 §7.2, Ppl in %, random
//                                                                loss (BurstR = 1)
//   R      = 93.2 - Id - Ie_eff                                  Ro - Is with defaults = 93.2
//   MOS    = 1                                  for R < 0
//          = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6  for 0 <= R <= 100 (G.107 Annex B)
//          = 4.5                                for R > 100
// Codec constants (G.113 Appendix I): G.711 with packet-loss concealment Ie = 0, Bpl = 25.1,
// 20 ms frame. Opus has no G.113 entry in the narrowband E-model; it is taken as Ie = 0,
// Bpl = 25.1 (its PLC at least as good as G.711's Appendix I) with 20 ms frame + 6.5 ms
// look-ahead. A wideband call is therefore not scored above a narrowband one: the estimate
// tracks network impairment, not codec bandwidth.
#pragma once

namespace sb::rtp {

enum class QualityCodec { kPcmu, kPcma, kOpus };

struct QualityInput {
  double one_way_delay_ms = 0;  // network, e.g. RTT / 2 from RTCP
  double jitter_ms = 0;         // RFC 3550 interarrival jitter
  double loss_ratio = 0;        // 0..1, lost / expected
  QualityCodec codec = QualityCodec::kPcmu;
};

double RFactor(const QualityInput& in);
double MosFromR(double r);
double EstimateMos(const QualityInput& in);

}  // namespace sb::rtp
