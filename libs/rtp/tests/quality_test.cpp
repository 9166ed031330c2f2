#include "switchboard/rtp/quality.h"

#include <catch2/catch.hpp>

using namespace sb::rtp;

TEST_CASE("the R to MOS mapping of G.107 Annex B", "[unit]") {
  CHECK(MosFromR(-5) == 1.0);
  CHECK(MosFromR(0) == 1.0);
  CHECK(MosFromR(50) == Approx(2.575).margin(0.001));
  CHECK(MosFromR(70) == Approx(3.597).margin(0.001));
  CHECK(MosFromR(80) == Approx(4.024).margin(0.001));
  CHECK(MosFromR(93.2) == Approx(4.409).margin(0.001));
  CHECK(MosFromR(120) == 4.5);
}

TEST_CASE("an unimpaired G.711 call scores about 4.4", "[unit]") {
  const double mos = EstimateMos({.codec = QualityCodec::kPcmu});
  // d = 20 ms of framing: Id = 0.48, R = 92.7.
  CHECK(RFactor({.codec = QualityCodec::kPcmu}) == Approx(92.72).margin(0.01));
  CHECK(mos == Approx(4.40).margin(0.01));
}

TEST_CASE("loss lowers MOS by the G.107 effective equipment impairment", "[unit]") {
  // 2% random loss with PLC: Ie_eff = 95 * 2 / (2 + 25.1) = 7.01.
  const double r = RFactor({.loss_ratio = 0.02, .codec = QualityCodec::kPcmu});
  CHECK(r == Approx(92.72 - 7.01).margin(0.02));
  double previous = 5;
  for (double loss : {0.0, 0.01, 0.03, 0.05, 0.10, 0.20}) {
    const double mos = EstimateMos({.loss_ratio = loss});
    CHECK(mos < previous);
    previous = mos;
  }
  CHECK(EstimateMos({.loss_ratio = 0.20}) < 3.0);
}

TEST_CASE("delay beyond 177 ms costs more per millisecond than below it", "[unit]") {
  const double r100 = RFactor({.one_way_delay_ms = 100});
  const double r150 = RFactor({.one_way_delay_ms = 150});
  const double r300 = RFactor({.one_way_delay_ms = 300});
  const double r350 = RFactor({.one_way_delay_ms = 350});
  CHECK(r100 - r150 == Approx(50 * 0.024).margin(1e-9));
  CHECK(r300 - r350 == Approx(50 * (0.024 + 0.11)).margin(1e-9));
  // Jitter counts twice, as the buffer that absorbs it.
  CHECK(RFactor({.jitter_ms = 25}) == Approx(RFactor({.one_way_delay_ms = 50})));
  // Opus adds its look-ahead.
  CHECK(RFactor({.codec = QualityCodec::kOpus}) < RFactor({.codec = QualityCodec::kPcmu}));
}
