#include "switchboard/codec/resampler.h"

#include <catch2/catch.hpp>
#include <vector>

#include "signal_measure.h"

namespace t = sb::codec::testing;

TEST_CASE("resampling between 8, 16 and 48 kHz keeps the pitch and the level", "[unit]") {
  const auto [in_rate, out_rate] =
      GENERATE(std::pair{8000, 48000}, std::pair{48000, 8000}, std::pair{8000, 16000},
               std::pair{16000, 48000}, std::pair{48000, 16000}, std::pair{16000, 8000});
  DYNAMIC_SECTION(in_rate << " -> " << out_rate) {
    auto r = sb::codec::Resampler::Create(in_rate, out_rate);
    REQUIRE(r.ok());
    const size_t in_frame = static_cast<size_t>(in_rate / 50);
    const size_t out_frame = static_cast<size_t>(out_rate / 50);
    const auto input = t::Sine(1000, in_rate, in_frame * 50, 10000);
    std::vector<int16_t> out(out_frame);
    std::vector<int16_t> all;
    for (size_t f = 0; f < 50; ++f) {
      auto n = (*r)->Process(std::span(input).subspan(f * in_frame, in_frame), out);
      REQUIRE(n.ok());
      // Whole-number ratios: every 20 ms in gives exactly 20 ms out.
      REQUIRE(*n == out_frame);
      all.insert(all.end(), out.begin(), out.end());
    }
    const auto steady = std::span<const int16_t>(all).subspan(all.size() / 5);
    CHECK(t::ZeroCrossingHz(steady, out_rate) == Approx(1000).margin(2));
    CHECK(t::Rms(steady) == Approx(10000 / std::sqrt(2.0)).epsilon(0.05));
  }
}

TEST_CASE("downsampling to 8 kHz removes what 8 kHz cannot carry", "[unit]") {
  auto r = sb::codec::Resampler::Create(48000, 8000);
  REQUIRE(r.ok());
  // 6 kHz would alias to 2 kHz if it were not filtered out.
  const auto input = t::Sine(6000, 48000, 960 * 25, 10000);
  std::vector<int16_t> out(160), all;
  for (size_t f = 0; f < 25; ++f) {
    REQUIRE((*r)->Process(std::span(input).subspan(f * 960, 960), out).ok());
    all.insert(all.end(), out.begin(), out.end());
  }
  CHECK(t::Rms(std::span<const int16_t>(all).subspan(800)) < 100);
}

TEST_CASE("the resampler refuses rates it was not built for and short output buffers", "[unit]") {
  CHECK(sb::codec::Resampler::Create(44100, 8000).status().field() == "in_rate");
  CHECK(sb::codec::Resampler::Create(8000, 22050).status().field() == "out_rate");
  auto r = sb::codec::Resampler::Create(8000, 48000);
  REQUIRE(r.ok());
  std::vector<int16_t> in(160), out(959);
  CHECK((*r)->Process(in, out).status().code() == sb::StatusCode::kResourceExhausted);
  auto same = sb::codec::Resampler::Create(16000, 16000);
  REQUIRE(same.ok());
  std::vector<int16_t> copy(160);
  in[7] = 1234;
  REQUIRE(*(*same)->Process(in, copy) == 160);
  CHECK(copy[7] == 1234);
}
