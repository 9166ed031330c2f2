// AudioEncoder / AudioDecoder: one frame of 16-bit mono PCM in, one RTP payload out, and back,
// for every codec the media node speaks (PCMU, PCMA, Opus), with packet-loss concealment.
//
//   auto enc = sb::codec::MakeEncoder({.type = sb::codec::CodecType::kOpus, .sample_rate = 48000});
//   auto dec = sb::codec::MakeDecoder({.type = sb::codec::CodecType::kOpus, .sample_rate = 48000});
//   std::array<uint8_t, 1500> payload;
//   auto n = (*enc)->Encode(pcm_960, payload);                 // 20 ms at 48 kHz
//   auto samples = (*dec)->Decode(std::span(payload).first(*n), pcm_out);
//   samples = (*dec)->Conceal(pcm_out);                          // the next packet was lost
//
// Encoders and decoders keep state between frames (Opus prediction, the last frame for G.711
// concealment): one instance per direction of one leg. Not thread-safe; no allocation after
// construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::codec {

enum class CodecType { kPcmu, kPcma, kOpus };

std::string_view CodecName(CodecType type);

struct CodecSpec {
  CodecType type = CodecType::kPcmu;
  // PCM rate at the codec's edge: always 8000 for G.711; 8000, 16000 or 48000 for Opus (the
  // RTP clock of Opus stays 48 kHz whatever this is, RFC 7587 §4.1).
  int sample_rate = 8000;
  int frame_ms = 20;    // 10, 20, 40 or 60
  int bitrate = 0;      // Opus only, bits/s; 0 keeps libopus' default for the rate
  int complexity = -1;  // Opus only, 0..10; -1 keeps libopus' default (9 in 1.3)

  int frame_samples() const { return sample_rate * frame_ms / 1000; }
};

// Largest frame any codec here produces or accepts, in samples (60 ms at 48 kHz) and bytes.
inline constexpr size_t kMaxFrameSamples = 2880;
inline constexpr size_t kMaxPayloadBytes = 1500;

class AudioEncoder {
 public:
  virtual ~AudioEncoder() = default;
  virtual const CodecSpec& spec() const = 0;
  // Encodes exactly spec().frame_samples() samples; returns the payload size written to out.
  virtual Result<size_t> Encode(std::span<const int16_t> pcm, std::span<uint8_t> out) = 0;
};

class AudioDecoder {
 public:
  virtual ~AudioDecoder() = default;
  virtual const CodecSpec& spec() const = 0;
  // Decodes one payload; returns the number of samples written to pcm.
  virtual Result<size_t> Decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) = 0;
  // Fills one frame (spec().frame_samples()) in place of a lost packet: Opus through its own PLC,
  // G.711 by repeating the last frame with the fade of G.711 Appendix I (full level for 10 ms,
  // then -20% per 10 ms, silence after 60 ms of loss).
  virtual Result<size_t> Conceal(std::span<int16_t> pcm) = 0;
};

Result<std::unique_ptr<AudioEncoder>> MakeEncoder(const CodecSpec& spec);
Result<std::unique_ptr<AudioDecoder>> MakeDecoder(const CodecSpec& spec);

}  // namespace sb::codec
