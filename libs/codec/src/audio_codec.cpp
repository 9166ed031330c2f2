#include "switchboard/codec/audio_codec.h"

#include "internal/codecs.h"

namespace sb::codec {
namespace {

Status Validate(const CodecSpec& spec) {
  const bool g711 = spec.type != CodecType::kOpus;
  if (g711 && spec.sample_rate != 8000) {
    return Status::InvalidArgument("G.711 runs at 8000 Hz", "sample_rate");
  }
  if (!g711 && spec.sample_rate != 8000 && spec.sample_rate != 16000 && spec.sample_rate != 48000) {
    return Status::InvalidArgument("Opus rate must be 8000, 16000 or 48000", "sample_rate");
  }
  if (spec.frame_ms != 10 && spec.frame_ms != 20 && spec.frame_ms != 40 && spec.frame_ms != 60) {
    return Status::InvalidArgument("frame must be 10, 20, 40 or 60 ms", "frame_ms");
  }
  if (spec.bitrate < 0 || (spec.bitrate > 0 && (spec.bitrate < 6000 || spec.bitrate > 510000))) {
    return Status::InvalidArgument("Opus bitrate must be 6000..510000 bit/s", "bitrate");
  }
  if (spec.complexity > 10) return Status::InvalidArgument("complexity is 0..10", "complexity");
  return Status::Ok();
}

}  // namespace

std::string_view CodecName(CodecType type) {
  switch (type) {
    case CodecType::kPcmu:
      return "PCMU";
    case CodecType::kPcma:
      return "PCMA";
    case CodecType::kOpus:
      return "opus";
  }
  return "unknown";
}

Result<std::unique_ptr<AudioEncoder>> MakeEncoder(const CodecSpec& spec) {
  SB_RETURN_IF_ERROR(Validate(spec));
  if (spec.type == CodecType::kOpus) return internal::MakeOpusEncoder(spec);
  return internal::MakeG711Encoder(spec);
}

Result<std::unique_ptr<AudioDecoder>> MakeDecoder(const CodecSpec& spec) {
  SB_RETURN_IF_ERROR(Validate(spec));
  if (spec.type == CodecType::kOpus) return internal::MakeOpusDecoder(spec);
  return internal::MakeG711Decoder(spec);
}

}  // namespace sb::codec
