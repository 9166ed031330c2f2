// Tone generation and in-band DTMF detection, each checked against the other and against
// signals that must not be taken for digits.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "signal_measure.h"
#include "switchboard/codec/dtmf_detector.h"
#include "switchboard/codec/tone_generator.h"

using sb::codec::DtmfDetector;
using sb::codec::ToneGenerator;
namespace t = sb::codec::testing;

namespace {

std::vector<int16_t> Render(const sb::codec::ToneSpec& spec, size_t samples, int rate = 8000) {
  ToneGenerator gen(rate, spec);
  std::vector<int16_t> out(samples);
  gen.Generate(out);
  return out;
}

std::vector<int16_t> Digits(const std::string& digits, int on_ms, int off_ms) {
  std::vector<int16_t> out;
  for (char d : digits) {
    auto spec = sb::codec::DtmfTone(d, on_ms, off_ms);
    REQUIRE(spec.ok());
    const auto one = Render(*spec, static_cast<size_t>((on_ms + off_ms) * 8));
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}

// Runs the detector over pcm in 20 ms frames, as the media loop does.
std::string Detect(const std::vector<int16_t>& pcm, DtmfDetector& detector) {
  std::string found;
  std::array<sb::codec::DtmfDigit, 4> out;
  for (size_t i = 0; i < pcm.size(); i += 160) {
    const size_t n = std::min<size_t>(160, pcm.size() - i);
    const size_t got = detector.Process(std::span(pcm).subspan(i, n), out);
    for (size_t k = 0; k < got; ++k) found += out[k].digit;
  }
  return found;
}

std::string Detect(const std::vector<int16_t>& pcm) {
  DtmfDetector detector;
  return Detect(pcm, detector);
}

void AddNoise(std::vector<int16_t>& pcm, double rms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, rms);
  for (auto& s : pcm) s = static_cast<int16_t>(std::clamp(s + noise(rng), -32768.0, 32767.0));
}

}  // namespace

TEST_CASE("all sixteen DTMF digits are generated and detected in order", "[unit]") {
  const std::string digits = "123A456B789C*0#D";
  CHECK(Detect(Digits(digits, 60, 60)) == digits);
}

TEST_CASE("a repeated digit separated by a pause counts twice", "[unit]") {
  CHECK(Detect(Digits("5500", 80, 60)) == "5500");
}

TEST_CASE("digits are found through white noise at 12 dB SNR", "[unit]") {
  auto pcm = Digits("19#*", 70, 70);
  // The tones carry about 1.3e8 per sample (two sines of peak 10100 and 12700); noise of RMS
  // 2900 is 8.4e6: 12 dB below.
  AddNoise(pcm, 2900, 7);
  CHECK(Detect(pcm) == "19#*");
}

TEST_CASE("the detector reports where the digit started", "[unit]") {
  std::vector<int16_t> pcm(8000, 0);  // 1 s of silence first
  const auto tone = Digits("7", 100, 100);
  pcm.insert(pcm.end(), tone.begin(), tone.end());
  DtmfDetector detector;
  std::array<sb::codec::DtmfDigit, 4> out;
  size_t got = detector.Process(pcm, out);
  REQUIRE(got == 1);
  CHECK(out[0].digit == '7');
  // Within one hop (102 samples) of the true start.
  CHECK(static_cast<double>(out[0].start_sample) == Approx(8000).margin(DtmfDetector::kHop));
}

TEST_CASE("bursts shorter than the minimum digit duration are ignored", "[unit]") {
  CHECK(Detect(Digits("123456", 20, 80)).empty());
  // while 52 ms and longer tones are always found
  CHECK(Detect(Digits("123456", 52, 80)) == "123456");
}

TEST_CASE("a single 1 kHz tone, a lone DTMF row tone and a voiced sound are not digits", "[unit]") {
  CHECK(Detect(t::Sine(1000, 8000, 16000, 12000)).empty());
  CHECK(Detect(t::Sine(770, 8000, 16000, 12000)).empty());
  CHECK(Detect(t::Sine(1336, 8000, 16000, 12000)).empty());

  // A vowel-like sound: 12 harmonics of a pitch gliding from 110 to 180 Hz over 2 s, some of
  // which pass through DTMF frequencies on the way.
  std::vector<int16_t> voiced(16000);
  double phase = 0;
  for (size_t i = 0; i < voiced.size(); ++i) {
    const double f0 = 110 + 70 * static_cast<double>(i) / voiced.size();
    phase += 2 * std::numbers::pi * f0 / 8000;
    double v = 0;
    for (int h = 1; h <= 12; ++h) v += 2500.0 / h * std::sin(h * phase);
    voiced[i] = static_cast<int16_t>(v);
  }
  CHECK(Detect(voiced).empty());

  std::vector<int16_t> noise(16000, 0);
  AddNoise(noise, 5000, 3);
  CHECK(Detect(noise).empty());
}

TEST_CASE("twist and level outside the limits are rejected", "[unit]") {
  auto spec = *sb::codec::DtmfTone('5', 200, 0);
  SECTION("accepted at the default 2 dB forward twist") {
    CHECK(Detect(Render(spec, 1600)) == "5");
  }
  SECTION("low group 10 dB above the high group (reverse twist)") {
    spec.level_dbm0 = {-5, -15};
    CHECK(Detect(Render(spec, 1600)).empty());
  }
  SECTION("high group 12 dB above the low group (forward twist)") {
    spec.level_dbm0 = {-17, -5};
    CHECK(Detect(Render(spec, 1600)).empty());
  }
  SECTION("both tones at -45 dBm0") {
    spec.level_dbm0 = {-45, -45};
    CHECK(Detect(Render(spec, 1600)).empty());
  }
}

TEST_CASE("call-progress tones have the frequencies and cadence of their region", "[unit]") {
  using sb::codec::ProgressTone;
  using sb::codec::ToneRegion;
  SECTION("North American ringback: 440+480 Hz, 2 s on, 4 s off") {
    const auto pcm = Render(
        sb::codec::CallProgressTone(ProgressTone::kRingback, ToneRegion::kNorthAmerica), 8000 * 12);
    const auto on = std::span<const int16_t>(pcm).subspan(0, 16000);
    CHECK(t::PeakHz(on, 8000, 300, 460) == Approx(440).margin(2));
    CHECK(t::PeakHz(on, 8000, 460, 700) == Approx(480).margin(2));
    CHECK(t::Rms(std::span<const int16_t>(pcm).subspan(16000, 32000)) == 0);
    CHECK(t::Rms(std::span<const int16_t>(pcm).subspan(48000, 16000)) > 1000);  // next cycle
  }
  SECTION("European busy: 425 Hz, 0.5 s on, 0.5 s off") {
    const auto pcm =
        Render(sb::codec::CallProgressTone(ProgressTone::kBusy, ToneRegion::kEurope), 8000 * 2);
    CHECK(t::ZeroCrossingHz(std::span<const int16_t>(pcm).first(4000), 8000) ==
          Approx(425).margin(1));
    CHECK(t::Rms(std::span<const int16_t>(pcm).subspan(4000, 4000)) == 0);
    CHECK(t::Rms(std::span<const int16_t>(pcm).subspan(8000, 4000)) > 1000);
  }
  SECTION("levels follow dBm0: -10 dBm0 is a sine of peak 7180") {
    const sb::codec::ToneSpec spec{{1000, 0}, {-10, 0}, 0, 0, 0};
    const auto pcm = Render(spec, 48000, 48000);
    CHECK(t::Rms(pcm) * std::sqrt(2.0) == Approx(7180).epsilon(0.01));
    CHECK(t::ZeroCrossingHz(pcm, 48000) == Approx(1000).margin(0.5));
  }
}

TEST_CASE("a finite tone ends, then generates silence", "[unit]") {
  auto spec = *sb::codec::DtmfTone('1', 100, 50);
  ToneGenerator gen(8000, spec);
  std::vector<int16_t> out(2000, 99);
  CHECK(gen.Generate(out) == 1200);
  CHECK(gen.finished());
  CHECK(t::Rms(std::span<const int16_t>(out).subspan(1200)) == 0);
  CHECK_FALSE(sb::codec::DtmfTone('x', 100, 50).ok());
}
