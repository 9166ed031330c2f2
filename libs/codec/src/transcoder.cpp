#include "switchboard/codec/transcoder.h"

namespace sb::codec {

Result<std::unique_ptr<Transcoder>> Transcoder::Create(const CodecSpec& from, const CodecSpec& to) {
  if (from.frame_ms != to.frame_ms) {
    return Status::InvalidArgument("both legs need the same frame duration", "frame_ms");
  }
  auto decoder = MakeDecoder(from);
  if (!decoder.ok()) return decoder.status();
  auto encoder = MakeEncoder(to);
  if (!encoder.ok()) return encoder.status();
  auto resampler = Resampler::Create(from.sample_rate, to.sample_rate);
  if (!resampler.ok()) return resampler.status();
  return std::unique_ptr<Transcoder>(
      new Transcoder(std::move(*decoder), std::move(*resampler), std::move(*encoder)));
}

Transcoder::Transcoder(std::unique_ptr<AudioDecoder> decoder, std::unique_ptr<Resampler> resampler,
                       std::unique_ptr<AudioEncoder> encoder)
    : decoder_(std::move(decoder)),
      resampler_(std::move(resampler)),
      encoder_(std::move(encoder)) {}

Result<size_t> Transcoder::Transcode(std::span<const uint8_t> in, std::span<uint8_t> out) {
  auto decoded = decoder_->Decode(in, decoded_);
  if (!decoded.ok()) return decoded.status();
  if (*decoded != static_cast<size_t>(decoder_->spec().frame_samples())) {
    // Per packet from a peer that ignores the negotiated ptime: a literal, no allocation.
    return Status(StatusCode::kInvalidArgument, "frame mismatch", "payload");
  }
  return EncodeDecoded(*decoded, out);
}

Result<size_t> Transcoder::TranscodeLost(std::span<uint8_t> out) {
  auto decoded = decoder_->Conceal(decoded_);
  if (!decoded.ok()) return decoded.status();
  return EncodeDecoded(*decoded, out);
}

Result<size_t> Transcoder::EncodeDecoded(size_t decoded, std::span<uint8_t> out) {
  auto resampled = resampler_->Process(std::span(decoded_).first(decoded), resampled_);
  if (!resampled.ok()) return resampled.status();
  if (*resampled != static_cast<size_t>(encoder_->spec().frame_samples())) {
    return Status::Internal("resampler returned a short frame");
  }
  return encoder_->Encode(std::span(resampled_).first(*resampled), out);
}

}  // namespace sb::codec
