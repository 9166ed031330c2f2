// libFuzzer target for the WAV parser: recordings and prompts come from disk, which an operator
// (or an upload) fills; the parser must reject, never crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "switchboard/codec/wav.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto audio = sb::codec::ParseWav(std::span<const uint8_t>(data, size));
  if (audio.ok()) (void)sb::codec::SerializeWav(audio->sample_rate, audio->samples);
  return 0;
}
