// AudioEncoder/AudioDecoder over libopus 1.3 (mono, VoIP application).
#include <opus.h>

#include <string>

#include "internal/codecs.h"

namespace sb::codec::internal {
namespace {

struct EncoderDeleter {
  void operator()(OpusEncoder* e) const { opus_encoder_destroy(e); }
};
struct DecoderDeleter {
  void operator()(OpusDecoder* d) const { opus_decoder_destroy(d); }
};

Status OpusError(const char* what, int code) {
  return Status::Internal(std::string(what) + ": " + opus_strerror(code));
}

class OpusAudioEncoder final : public AudioEncoder {
 public:
  OpusAudioEncoder(const CodecSpec& spec, OpusEncoder* enc) : spec_(spec), enc_(enc) {}
  const CodecSpec& spec() const override { return spec_; }
  Result<size_t> Encode(std::span<const int16_t> pcm, std::span<uint8_t> out) override {
    const int n = spec_.frame_samples();
    if (pcm.size() < static_cast<size_t>(n))
      return Status::InvalidArgument("short PCM frame", "pcm");
    const opus_int32 cap = static_cast<opus_int32>(std::min(out.size(), kMaxPayloadBytes));
    const opus_int32 len = opus_encode(enc_.get(), pcm.data(), n, out.data(), cap);
    if (len < 0) return OpusError("opus_encode", len);
    return static_cast<size_t>(len);
  }

 private:
  CodecSpec spec_;
  std::unique_ptr<OpusEncoder, EncoderDeleter> enc_;
};

class OpusAudioDecoder final : public AudioDecoder {
 public:
  OpusAudioDecoder(const CodecSpec& spec, OpusDecoder* dec) : spec_(spec), dec_(dec) {}
  const CodecSpec& spec() const override { return spec_; }
  Result<size_t> Decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) override {
    if (payload.empty()) return Status::InvalidArgument("empty Opus payload", "payload");
    const int n = opus_decode(dec_.get(), payload.data(), static_cast<opus_int32>(payload.size()),
                              pcm.data(), static_cast<int>(pcm.size()), 0);
    // Corrupt packets come from the network and may come in floods: a short literal message
    // (no allocation) for them.
    if (n == OPUS_INVALID_PACKET) return Status(StatusCode::kInvalidArgument, "opus: corrupt");
    if (n == OPUS_BUFFER_TOO_SMALL) return Status(StatusCode::kResourceExhausted, "opus: pcm room");
    if (n < 0) return OpusError("opus_decode", n);
    return static_cast<size_t>(n);
  }
  Result<size_t> Conceal(std::span<int16_t> pcm) override {
    const int frame = spec_.frame_samples();
    if (pcm.size() < static_cast<size_t>(frame)) {
      return Status::ResourceExhausted("PCM buffer too small");
    }
    // A null payload asks libopus for its own concealment of one frame of this length.
    const int n = opus_decode(dec_.get(), nullptr, 0, pcm.data(), frame, 0);
    if (n < 0) return OpusError("opus_decode(PLC)", n);
    return static_cast<size_t>(n);
  }

 private:
  CodecSpec spec_;
  std::unique_ptr<OpusDecoder, DecoderDeleter> dec_;
};

}  // namespace

Result<std::unique_ptr<AudioEncoder>> MakeOpusEncoder(const CodecSpec& spec) {
  int err = OPUS_OK;
  OpusEncoder* enc = opus_encoder_create(spec.sample_rate, 1, OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK || enc == nullptr) return OpusError("opus_encoder_create", err);
  auto owned = std::make_unique<OpusAudioEncoder>(spec, enc);
  if (spec.bitrate > 0) {
    err = opus_encoder_ctl(enc, OPUS_SET_BITRATE(spec.bitrate));
    if (err != OPUS_OK) return OpusError("OPUS_SET_BITRATE", err);
  }
  if (spec.complexity >= 0) {
    err = opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(spec.complexity));
    if (err != OPUS_OK) return OpusError("OPUS_SET_COMPLEXITY", err);
  }
  return std::unique_ptr<AudioEncoder>(std::move(owned));
}

Result<std::unique_ptr<AudioDecoder>> MakeOpusDecoder(const CodecSpec& spec) {
  int err = OPUS_OK;
  OpusDecoder* dec = opus_decoder_create(spec.sample_rate, 1, &err);
  if (err != OPUS_OK || dec == nullptr) return OpusError("opus_decoder_create", err);
  return std::unique_ptr<AudioDecoder>(std::make_unique<OpusAudioDecoder>(spec, dec));
}

}  // namespace sb::codec::internal
