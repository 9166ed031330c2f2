// G.711 (ITU-T G.711, 11/88) mu-law and A-law companding of 16-bit linear PCM at 8 kHz.
//
//   std::array<uint8_t, 160> payload;
//   sb::codec::EncodeUlaw(pcm, payload);            // 160 samples -> 160 bytes (20 ms)
//   sb::codec::DecodeUlaw(payload, pcm);
//
// Decoding is a lookup in the G.711 reconstruction tables (scaled to 16 bits exactly like the
// reference implementation in ITU-T G.191's g711.c); encoding picks the segment by the decision
// values of G.711 Tables 1 and 2. The per-sample functions are constexpr-cheap and allocation
// free; the span versions require out.size() >= in.size() and process min(in, out) samples.
#pragma once

#include <cstdint>
#include <span>

namespace sb::codec {

uint8_t LinearToUlaw(int16_t sample);
int16_t UlawToLinear(uint8_t code);
uint8_t LinearToAlaw(int16_t sample);
int16_t AlawToLinear(uint8_t code);

// Each returns the number of samples processed: min(in.size(), out.size()).
size_t EncodeUlaw(std::span<const int16_t> pcm, std::span<uint8_t> out);
size_t DecodeUlaw(std::span<const uint8_t> payload, std::span<int16_t> out);
size_t EncodeAlaw(std::span<const int16_t> pcm, std::span<uint8_t> out);
size_t DecodeAlaw(std::span<const uint8_t> payload, std::span<int16_t> out);

// The byte a silent (all-zero) frame encodes to: 0xFF for mu-law, 0xD5 for A-law.
inline constexpr uint8_t kUlawSilence = 0xFF;
inline constexpr uint8_t kAlawSilence = 0xD5;

}  // namespace sb::codec
