#include "switchboard/codec/tone_generator.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sb::codec {
namespace {

constexpr double kZeroDbm0Peak = 22706.0;

ToneSpec Dual(double f1, double f2, double level, int on_ms, int off_ms) {
  return ToneSpec{{f1, f2}, {level, level}, on_ms, off_ms, 0};
}

}  // namespace

ToneSpec CallProgressTone(ProgressTone tone, ToneRegion region) {
  if (region == ToneRegion::kNorthAmerica) {
    switch (tone) {
      case ProgressTone::kDial:
        return Dual(350, 440, -13, 0, 0);
      case ProgressTone::kRingback:
        return Dual(440, 480, -19, 2000, 4000);
      case ProgressTone::kBusy:
        return Dual(480, 620, -24, 500, 500);
      case ProgressTone::kCongestion:
        return Dual(480, 620, -24, 250, 250);
    }
  }
  switch (tone) {
    case ProgressTone::kDial:
      return Dual(425, 0, -10, 0, 0);
    case ProgressTone::kRingback:
      return Dual(425, 0, -10, 1000, 4000);
    case ProgressTone::kBusy:
      return Dual(425, 0, -10, 500, 500);
    case ProgressTone::kCongestion:
      return Dual(425, 0, -10, 250, 250);
  }
  return {};
}

Result<ToneSpec> DtmfTone(char digit, int on_ms, int off_ms) {
  static constexpr char kKeys[] = "123A456B789C*0#D";
  static constexpr double kRow[] = {697, 770, 852, 941};
  static constexpr double kCol[] = {1209, 1336, 1477, 1633};
  if (on_ms <= 0 || off_ms < 0)
    return Status::InvalidArgument("durations must be positive", "on_ms");
  for (int i = 0; i < 16; ++i) {
    if (kKeys[i] == digit) {
      return ToneSpec{{kRow[i / 4], kCol[i % 4]}, {-7, -5}, on_ms, off_ms, 1};
    }
  }
  return Status::InvalidArgument("not a DTMF digit", "digit");
}

ToneGenerator::ToneGenerator(int sample_rate, const ToneSpec& spec)
    : sample_rate_(sample_rate), spec_(spec) {
  for (int i = 0; i < 2; ++i) {
    if (spec.freq_hz[i] > 0) {
      amplitude_[i] = kZeroDbm0Peak * std::pow(10.0, spec.level_dbm0[i] / 20.0);
      phase_step_[i] = 2.0 * std::numbers::pi * spec.freq_hz[i] / sample_rate;
    }
  }
  on_len_ = static_cast<int64_t>(spec.on_ms) * sample_rate_ / 1000;
  cycle_len_ = on_len_ + static_cast<int64_t>(spec.off_ms) * sample_rate_ / 1000;
}

bool ToneGenerator::finished() const { return spec_.cycles > 0 && cycles_done_ >= spec_.cycles; }

size_t ToneGenerator::Generate(std::span<int16_t> out) {
  size_t produced = 0;
  for (int16_t& sample : out) {
    if (finished()) {
      sample = 0;
      continue;
    }
    ++produced;
    const bool continuous = spec_.on_ms == 0;
    const bool on = continuous || static_cast<int64_t>(position_) < on_len_;
    double v = 0;
    if (on) {
      for (int i = 0; i < 2; ++i) {
        v += amplitude_[i] * std::sin(phase_[i]);
        phase_[i] = std::fmod(phase_[i] + phase_step_[i], 2.0 * std::numbers::pi);
      }
    } else {
      // Each burst starts at phase zero, as a tone generator in a switch does.
      phase_ = {0, 0};
    }
    sample = static_cast<int16_t>(std::lround(std::clamp(v, -32768.0, 32767.0)));
    if (!continuous && static_cast<int64_t>(++position_) >= cycle_len_) {
      position_ = 0;
      ++cycles_done_;
    }
  }
  return produced;
}

}  // namespace sb::codec
