// DtmfDetector: in-band DTMF digits (ITU-T Q.23 frequencies) found in 8 kHz PCM with the Goertzel
// algorithm, for endpoints that send no RFC 4733 events.
//
//   sb::codec::DtmfDetector detector;
//   std::array<sb::codec::DtmfDigit, 8> found;
//   size_t n = detector.Process(pcm_frame, found);   // call with every decoded 8 kHz frame
//   for (size_t i = 0; i < n; ++i) Report(found[i].digit);
//
// Each 205-sample window (25.6 ms; hop 102 samples) is tested as Q.24 receivers do:
//  - level: both tones at least min_tone_amplitude;
//  - twist: the high-group tone at most max_forward_twist_db above the low-group one and at most
//    max_reverse_twist_db below it;
//  - purity: the strongest tone of each group stands max(others) + min_peak_ratio_db clear of the
//    other tones of its group, and the two tones carry at least min_energy_fraction of the
//    window's energy (speech and music spread theirs);
//  - duration: a digit is reported once it holds for two consecutive windows (307 samples, so
//    any tone of 51 ms or more is found and none under 25.6 ms is), and ends after two windows
//    without it, so a single dropped window does not split a digit in two.
// Not thread-safe; no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace sb::codec {

struct DtmfDigit {
  char digit = 0;             // '0'..'9', '*', '#', 'A'..'D'
  uint64_t start_sample = 0;  // first sample of the window that first held it
};

class DtmfDetector {
 public:
  struct Options {
    double min_tone_amplitude = 400;  // peak, 16-bit scale: about -35 dBm0
    double max_forward_twist_db = 8;
    double max_reverse_twist_db = 4;
    double min_peak_ratio_db = 6;
    double min_energy_fraction = 0.7;
  };

  static constexpr int kSampleRate = 8000;
  static constexpr int kWindow = 205;
  static constexpr int kHop = 102;

  DtmfDetector() : DtmfDetector(Options{}) {}
  explicit DtmfDetector(const Options& options);

  // Feeds 8 kHz samples; writes the digits that started in them to out (at most out.size(),
  // the rest are dropped and counted in dropped()) and returns how many it wrote.
  size_t Process(std::span<const int16_t> pcm, std::span<DtmfDigit> out);

  uint64_t dropped() const { return dropped_; }

 private:
  // The digit one window holds, or 0.
  char Classify() const;

  Options options_;
  std::array<int16_t, kWindow> window_{};
  int filled_ = 0;  // samples in window_ (ring, oldest at head_)
  int head_ = 0;
  int since_last_ = 0;  // new samples since the last analysed window
  uint64_t samples_seen_ = 0;

  char candidate_ = 0;  // what the previous window held
  uint64_t candidate_start_ = 0;
  char active_ = 0;  // the digit reported and not yet ended
  int misses_ = 0;   // consecutive windows without the active digit
  uint64_t dropped_ = 0;
};

}  // namespace sb::codec
