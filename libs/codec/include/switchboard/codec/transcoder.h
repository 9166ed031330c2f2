// Transcoder: one RTP payload of one codec in, one payload of another out, for a bridged call
// whose legs did not agree on a codec (PCMU on a carrier trunk, Opus on a WebRTC phone):
//
//   decode (with PLC for lost frames) -> PCM -> resample -> encode
//
//   auto t = sb::codec::Transcoder::Create({.type = CodecType::kPcmu},
//                                          {.type = CodecType::kOpus, .sample_rate = 48000});
//   std::array<uint8_t, sb::codec::kMaxPayloadBytes> out;
//   auto n = (*t)->Transcode(pcmu_payload, out);    // 160 bytes of PCMU -> one Opus packet
//   auto m = (*t)->TranscodeLost(out);              // the jitter buffer reported a gap
//
// Frame-based: both specs have the same frame_ms (the legs' ptime), and every input payload holds
// exactly one frame. One Transcoder per direction of a bridge. Not thread-safe; buffers are
// allocated once in Create, none per frame.
#pragma once

#include <array>
#include <memory>
#include <span>

#include "switchboard/codec/audio_codec.h"
#include "switchboard/codec/resampler.h"

namespace sb::codec {

class Transcoder {
 public:
  static Result<std::unique_ptr<Transcoder>> Create(const CodecSpec& from, const CodecSpec& to);

  // Transcodes one frame; returns the size of the payload written to out.
  Result<size_t> Transcode(std::span<const uint8_t> in, std::span<uint8_t> out);
  // The input frame was lost: conceals it in the decoder, then encodes the concealment.
  Result<size_t> TranscodeLost(std::span<uint8_t> out);

  const CodecSpec& from() const { return decoder_->spec(); }
  const CodecSpec& to() const { return encoder_->spec(); }

 private:
  Transcoder(std::unique_ptr<AudioDecoder> decoder, std::unique_ptr<Resampler> resampler,
             std::unique_ptr<AudioEncoder> encoder);
  Result<size_t> EncodeDecoded(size_t decoded, std::span<uint8_t> out);

  std::unique_ptr<AudioDecoder> decoder_;
  std::unique_ptr<Resampler> resampler_;
  std::unique_ptr<AudioEncoder> encoder_;
  std::array<int16_t, kMaxFrameSamples> decoded_{};
  std::array<int16_t, kMaxFrameSamples> resampled_{};
};

}  // namespace sb::codec
