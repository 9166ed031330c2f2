// Per-codec constructors behind MakeEncoder/MakeDecoder; the spec is validated by the caller.
#pragma once

#include <memory>

#include "switchboard/codec/audio_codec.h"

namespace sb::codec::internal {

std::unique_ptr<AudioEncoder> MakeG711Encoder(const CodecSpec& spec);
std::unique_ptr<AudioDecoder> MakeG711Decoder(const CodecSpec& spec);
Result<std::unique_ptr<AudioEncoder>> MakeOpusEncoder(const CodecSpec& spec);
Result<std::unique_ptr<AudioDecoder>> MakeOpusDecoder(const CodecSpec& spec);

}  // namespace sb::codec::internal
