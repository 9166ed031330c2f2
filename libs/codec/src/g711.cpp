#include "switchboard/codec/g711.h"

#include <algorithm>
#include <array>

namespace sb::codec {
namespace {

// mu-law works on 14-bit magnitudes with a bias of 33 so that every segment starts on a power of
// two; the segment is then the position of the leading one (G.711 Table 2a).
constexpr int kUlawBias = 33;
constexpr int kUlawClip = 8159;
// A-law works on 13-bit magnitudes; segments 0 and 1 share the same step (G.711 Table 1a).
constexpr std::array<int, 8> kUlawSegmentEnd = {0x3F,  0x7F,  0xFF,  0x1FF,
                                                0x3FF, 0x7FF, 0xFFF, 0x1FFF};
constexpr std::array<int, 8> kAlawSegmentEnd = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

int Segment(int value, const std::array<int, 8>& ends) {
  for (int s = 0; s < 8; ++s) {
    if (value <= ends[s]) return s;
  }
  return 8;
}

constexpr int16_t DecodeUlawCompute(uint8_t code) {
  const int u = ~code & 0xFF;
  const int t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
  return static_cast<int16_t>((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

constexpr int16_t DecodeAlawCompute(uint8_t code) {
  const int a = code ^ 0x55;
  int t = (a & 0x0F) << 4;
  const int seg = (a & 0x70) >> 4;
  if (seg == 0) {
    t += 8;
  } else {
    t += 0x108;
    if (seg > 1) t <<= seg - 1;
  }
  return static_cast<int16_t>((a & 0x80) ? t : -t);
}

template <int16_t (*F)(uint8_t)>
constexpr std::array<int16_t, 256> MakeTable() {
  std::array<int16_t, 256> table{};
  for (int i = 0; i < 256; ++i) table[i] = F(static_cast<uint8_t>(i));
  return table;
}

constexpr std::array<int16_t, 256> kUlawTable = MakeTable<DecodeUlawCompute>();
constexpr std::array<int16_t, 256> kAlawTable = MakeTable<DecodeAlawCompute>();

}  // namespace

uint8_t LinearToUlaw(int16_t sample) {
  int value = sample >> 2;  // 16 -> 14 bits, arithmetic shift as in G.191
  int mask = 0xFF;
  if (value < 0) {
    value = -value;
    mask = 0x7F;
  }
  value = std::min(value, kUlawClip) + kUlawBias;
  const int seg = Segment(value, kUlawSegmentEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);  // the clipped top of the range
  const int code = (seg << 4) | ((value >> (seg + 1)) & 0x0F);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t UlawToLinear(uint8_t code) { return kUlawTable[code]; }

uint8_t LinearToAlaw(int16_t sample) {
  int value = sample >> 3;  // 16 -> 13 bits
  int mask = 0xD5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const int seg = Segment(value, kAlawSegmentEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int code = seg << 4;
  code |= (seg < 2) ? ((value >> 1) & 0x0F) : ((value >> seg) & 0x0F);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t AlawToLinear(uint8_t code) { return kAlawTable[code]; }

size_t EncodeUlaw(std::span<const int16_t> pcm, std::span<uint8_t> out) {
  const size_t n = std::min(pcm.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = LinearToUlaw(pcm[i]);
  return n;
}

size_t DecodeUlaw(std::span<const uint8_t> payload, std::span<int16_t> out) {
  const size_t n = std::min(payload.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = kUlawTable[payload[i]];
  return n;
}

size_t EncodeAlaw(std::span<const int16_t> pcm, std::span<uint8_t> out) {
  const size_t n = std::min(pcm.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = LinearToAlaw(pcm[i]);
  return n;
}

size_t DecodeAlaw(std::span<const uint8_t> payload, std::span<int16_t> out) {
  const size_t n = std::min(payload.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = kAlawTable[payload[i]];
  return n;
}

}  // namespace sb::codec
