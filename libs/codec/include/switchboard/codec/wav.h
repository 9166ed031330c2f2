// WAV (RIFF WAVE) files of 16-bit linear PCM, mono: prompts to play and recordings to write.
//
//   auto prompt = sb::codec::ReadWavFile("/var/lib/switchboard/prompts/welcome.wav");
//   if (!prompt.ok()) return prompt.status();      // names what is wrong: not PCM, stereo, ...
//   Play(prompt->sample_rate, prompt->samples);
//
//   auto rec = sb::codec::WavWriter::Open(path, 8000);
//   (*rec)->Append(frame);                          // every 20 ms while recording
//   (*rec)->Close();                                // writes the final RIFF and data sizes
//
// Parsing skips chunks it does not need (LIST, fact, ...) and accepts WAVE_FORMAT_EXTENSIBLE
// with the PCM sub-format. Files are the one I/O here: callers keep it off the packet path.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::codec {

struct WavAudio {
  int sample_rate = 0;
  std::vector<int16_t> samples;
};

Result<WavAudio> ParseWav(std::span<const uint8_t> bytes);
std::vector<uint8_t> SerializeWav(int sample_rate, std::span<const int16_t> samples);

Result<WavAudio> ReadWavFile(const std::string& path);
Status WriteWavFile(const std::string& path, int sample_rate, std::span<const int16_t> samples);

// Streams a recording to disk; the header's sizes are right after Close (or destruction).
class WavWriter {
 public:
  static Result<std::unique_ptr<WavWriter>> Open(const std::string& path, int sample_rate);
  ~WavWriter();
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  Status Append(std::span<const int16_t> samples);
  Status Close();
  uint64_t samples_written() const { return samples_; }
  int sample_rate() const { return sample_rate_; }

 private:
  WavWriter(std::FILE* file, int sample_rate) : file_(file), sample_rate_(sample_rate) {}
  std::FILE* file_;  // owned; null once closed
  int sample_rate_;
  uint64_t samples_ = 0;
};

}  // namespace sb::codec
