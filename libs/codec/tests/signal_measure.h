// Measurements the codec tests make on decoded audio: what frequency it carries and how loud it
// is, so that a test checks the sound that came out rather than the bytes that went through.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace sb::codec::testing {

// Frequency from positive-going zero crossings, interpolated between samples.
inline double ZeroCrossingHz(std::span<const int16_t> x, int rate) {
  double first = -1, last = -1;
  int crossings = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    if (x[i - 1] < 0 && x[i] >= 0) {
      const double t = static_cast<double>(i - 1) +
                       static_cast<double>(-x[i - 1]) / static_cast<double>(x[i] - x[i - 1]);
      if (first < 0) first = t;
      last = t;
      ++crossings;
    }
  }
  if (crossings < 2) return 0;
  return (crossings - 1) * rate / (last - first);
}

// The strongest frequency between lo and hi Hz (1 Hz steps), by Goertzel power.
inline double PeakHz(std::span<const int16_t> x, int rate, double lo, double hi) {
  double best_hz = lo, best = -1;
  for (double hz = lo; hz <= hi; hz += 1) {
    const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * hz / rate);
    double s1 = 0, s2 = 0;
    for (int16_t v : x) {
      const double s0 = v + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const double p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (p > best) {
      best = p;
      best_hz = hz;
    }
  }
  return best_hz;
}

inline double Rms(std::span<const int16_t> x) {
  if (x.empty()) return 0;
  double sum = 0;
  for (int16_t v : x) sum += static_cast<double>(v) * v;
  return std::sqrt(sum / static_cast<double>(x.size()));
}

inline std::vector<int16_t> Sine(double hz, int rate, size_t samples, double amplitude) {
  std::vector<int16_t> out(samples);
  for (size_t i = 0; i < samples; ++i) {
    out[i] = static_cast<int16_t>(std::lround(
        amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate)));
  }
  return out;
}

}  // namespace sb::codec::testing
