// ToneGenerator: single and dual sine tones with an on/off cadence, as PCM at any rate:
// DTMF digits (ITU-T Q.23) and the call-progress tones of ITU-T E.180 for two regions.
//
//   sb::codec::ToneGenerator ringback(8000, sb::codec::CallProgressTone(
//       sb::codec::ProgressTone::kRingback, sb::codec::ToneRegion::kNorthAmerica));
//   std::array<int16_t, 160> frame;
//   ringback.Generate(frame);                      // the next 20 ms of 440+480 Hz, 2 s on 4 s off
//
//   auto five = sb::codec::DtmfTone('5', 100, 50);  // 770+1336 Hz for 100 ms, then 50 ms silence
//   sb::codec::ToneGenerator gen(8000, *five);
//
// Levels are in dBm0 per component, taking 0 dBm0 as a sine of peak 22706 (3.14 dB below the
// G.711 overload point). Phase is continuous across Generate calls. No allocation.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "switchboard/core/status.h"

namespace sb::codec {

struct ToneSpec {
  std::array<double, 2> freq_hz = {0, 0};  // a zero frequency is no component
  std::array<double, 2> level_dbm0 = {-10, -10};
  int on_ms = 0;  // 0: continuous tone
  int off_ms = 0;
  int cycles = 0;  // on/off cycles before the tone finishes; 0: forever
};

enum class ProgressTone { kDial, kRingback, kBusy, kCongestion };
enum class ToneRegion {
  kNorthAmerica,  // ANSI T1.401 "precise" tones: 350+440, 440+480, 480+620
  kEurope,        // CEPT (ETSI TR 101 041) 425 Hz tones
};

ToneSpec CallProgressTone(ProgressTone tone, ToneRegion region);
// Q.23 digit at -7 dBm0 (low group) and -5 dBm0 (high group): 2 dB of forward twist, which is
// what phones send to make up for the line's higher loss at high frequencies.
Result<ToneSpec> DtmfTone(char digit, int on_ms, int off_ms);

class ToneGenerator {
 public:
  ToneGenerator(int sample_rate, const ToneSpec& spec);

  // Fills out with the next samples; after the last cycle the rest is silence. Returns the
  // number of samples that belong to the tone (out.size() until it finishes).
  size_t Generate(std::span<int16_t> out);
  bool finished() const;

 private:
  int sample_rate_;
  ToneSpec spec_;
  std::array<double, 2> amplitude_{};
  std::array<double, 2> phase_step_{};
  std::array<double, 2> phase_{};
  uint64_t position_ = 0;  // samples into the current cycle
  int64_t cycle_len_ = 0;
  int64_t on_len_ = 0;
  int cycles_done_ = 0;
};

}  // namespace sb::codec
