// Resampler: 16-bit mono PCM between 8, 16 and 48 kHz, streaming (filter state carries over
// frame boundaries), through speexdsp's resampler.
//
//   auto up = sb::codec::Resampler::Create(8000, 48000);
//   std::array<int16_t, 960> wide;
//   auto n = (*up)->Process(narrow_160, wide);   // 160 samples in -> 960 out
//
// The rates here are whole multiples of each other, so every call turns N input samples into
// exactly N * out_rate / in_rate output samples; the filter delays the signal by a fixed number
// of samples (delay_samples()). Not thread-safe; no allocation after Create.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "switchboard/core/status.h"

struct SpeexResamplerState_;  // speexdsp's handle, kept out of this header

namespace sb::codec {

class Resampler {
 public:
  // quality: speexdsp's 0..10 (3 is its VoIP default; 5 its desktop default).
  static Result<std::unique_ptr<Resampler>> Create(int in_rate, int out_rate, int quality = 3);

  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }
  // Output samples for in_samples of input.
  size_t OutputSize(size_t in_samples) const;
  // Samples of delay the filter adds, in output samples.
  int delay_samples() const;

  // Converts all of in; out must hold OutputSize(in.size()). Returns the samples written.
  Result<size_t> Process(std::span<const int16_t> in, std::span<int16_t> out);

 private:
  struct SpeexDeleter {
    void operator()(SpeexResamplerState_* s) const;
  };
  using SpeexPtr = std::unique_ptr<SpeexResamplerState_, SpeexDeleter>;
  Resampler(int in_rate, int out_rate, SpeexPtr speex);

  int in_rate_;
  int out_rate_;
  SpeexPtr speex_;  // null when the rates are equal: Process copies
};

}  // namespace sb::codec
