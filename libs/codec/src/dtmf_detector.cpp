#include "switchboard/codec/dtmf_detector.h"

#include <cmath>
#include <numbers>

namespace sb::codec {
namespace {

constexpr std::array<double, 4> kRowHz = {697, 770, 852, 941};
constexpr std::array<double, 4> kColHz = {1209, 1336, 1477, 1633};
constexpr char kKeys[4][4] = {
    {'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

// Goertzel at the exact tone frequency (not the nearest DFT bin), so that a pure tone is not
// attenuated by falling between bins. Returns the estimated peak amplitude.
template <typename Samples>
double ToneAmplitude(const Samples& x, double hz) {
  const double w = 2.0 * std::numbers::pi * hz / DtmfDetector::kSampleRate;
  const double coeff = 2.0 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (double v : x) {
    const double s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 2.0 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(DtmfDetector::kWindow);
}

double Db(double ratio) { return 20.0 * std::log10(ratio); }

}  // namespace

DtmfDetector::DtmfDetector(const Options& options) : options_(options) {}

char DtmfDetector::Classify() const {
  std::array<double, kWindow> x{};
  double energy = 0;
  for (int i = 0; i < kWindow; ++i) {
    x[i] = window_[(head_ + i) % kWindow];
    energy += x[i] * x[i];
  }
  if (energy <= 0) return 0;

  auto strongest = [&](const std::array<double, 4>& hz, int& best, double& second) {
    std::array<double, 4> a{};
    best = 0;
    for (int i = 0; i < 4; ++i) {
      a[i] = ToneAmplitude(x, hz[i]);
      if (a[i] > a[best]) best = i;
    }
    second = 0;
    for (int i = 0; i < 4; ++i) {
      if (i != best) second = std::max(second, a[i]);
    }
    return a[best];
  };
  int row = 0, col = 0;
  double row_second = 0, col_second = 0;
  const double row_amp = strongest(kRowHz, row, row_second);
  const double col_amp = strongest(kColHz, col, col_second);

  if (row_amp < options_.min_tone_amplitude || col_amp < options_.min_tone_amplitude) return 0;
  const double twist = Db(col_amp / row_amp);
  if (twist > options_.max_forward_twist_db || -twist > options_.max_reverse_twist_db) return 0;
  if (row_second > 0 && Db(row_amp / row_second) < options_.min_peak_ratio_db) return 0;
  if (col_second > 0 && Db(col_amp / col_second) < options_.min_peak_ratio_db) return 0;
  // A sine of amplitude A carries A^2/2 per sample.
  const double tone_energy = (row_amp * row_amp + col_amp * col_amp) / 2.0 * kWindow;
  if (tone_energy < options_.min_energy_fraction * energy) return 0;
  return kKeys[row][col];
}

size_t DtmfDetector::Process(std::span<const int16_t> pcm, std::span<DtmfDigit> out) {
  size_t written = 0;
  for (int16_t sample : pcm) {
    if (filled_ < kWindow) {
      window_[(head_ + filled_) % kWindow] = sample;
      ++filled_;
    } else {
      window_[head_] = sample;
      head_ = (head_ + 1) % kWindow;
    }
    ++samples_seen_;
    ++since_last_;
    if (filled_ < kWindow || since_last_ < kHop) continue;
    since_last_ = 0;

    const uint64_t window_start = samples_seen_ - kWindow;
    const char held = Classify();
    if (active_ != 0) {
      if (held == active_) {
        misses_ = 0;
      } else if (++misses_ >= 2) {
        active_ = 0;
        misses_ = 0;
      }
    }
    if (held != 0 && held == candidate_ && active_ == 0) {
      active_ = held;
      misses_ = 0;
      if (written < out.size()) {
        out[written++] = DtmfDigit{held, candidate_start_};
      } else {
        ++dropped_;
      }
    }
    if (held != candidate_) candidate_start_ = window_start;
    candidate_ = held;
  }
  return written;
}

}  // namespace sb::codec
