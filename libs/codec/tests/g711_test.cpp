// G.711 against the ITU tables. The expected values below are the G.711 reconstruction levels
// scaled to 16 bits (as ITU-T G.191's reference g711.c and every telephony stack emit them); they
// were generated once with an independent implementation (CPython's audioop) and are data here,
// not a recomputation by the code under test.
#include "switchboard/codec/g711.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>

#include "switchboard/codec/audio_codec.h"

namespace {

constexpr std::array<int16_t, 256> kUlawTable = {
    -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884, -20860,
    -19836, -18812, -17788, -16764, -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,
    -11900, -11388, -10876, -10364, -9852,  -9340,  -8828,  -8316,  -7932,  -7676,  -7420,  -7164,
    -6908,  -6652,  -6396,  -6140,  -5884,  -5628,  -5372,  -5116,  -4860,  -4604,  -4348,  -4092,
    -3900,  -3772,  -3644,  -3516,  -3388,  -3260,  -3132,  -3004,  -2876,  -2748,  -2620,  -2492,
    -2364,  -2236,  -2108,  -1980,  -1884,  -1820,  -1756,  -1692,  -1628,  -1564,  -1500,  -1436,
    -1372,  -1308,  -1244,  -1180,  -1116,  -1052,  -988,   -924,   -876,   -844,   -812,   -780,
    -748,   -716,   -684,   -652,   -620,   -588,   -556,   -524,   -492,   -460,   -428,   -396,
    -372,   -356,   -340,   -324,   -308,   -292,   -276,   -260,   -244,   -228,   -212,   -196,
    -180,   -164,   -148,   -132,   -120,   -112,   -104,   -96,    -88,    -80,    -72,    -64,
    -56,    -48,    -40,    -32,    -24,    -16,    -8,     0,      32124,  31100,  30076,  29052,
    28028,  27004,  25980,  24956,  23932,  22908,  21884,  20860,  19836,  18812,  17788,  16764,
    15996,  15484,  14972,  14460,  13948,  13436,  12924,  12412,  11900,  11388,  10876,  10364,
    9852,   9340,   8828,   8316,   7932,   7676,   7420,   7164,   6908,   6652,   6396,   6140,
    5884,   5628,   5372,   5116,   4860,   4604,   4348,   4092,   3900,   3772,   3644,   3516,
    3388,   3260,   3132,   3004,   2876,   2748,   2620,   2492,   2364,   2236,   2108,   1980,
    1884,   1820,   1756,   1692,   1628,   1564,   1500,   1436,   1372,   1308,   1244,   1180,
    1116,   1052,   988,    924,    876,    844,    812,    780,    748,    716,    684,    652,
    620,    588,    556,    524,    492,    460,    428,    396,    372,    356,    340,    324,
    308,    292,    276,    260,    244,    228,    212,    196,    180,    164,    148,    132,
    120,    112,    104,    96,     88,     80,     72,     64,     56,     48,     40,     32,
    24,     16,     8,      0,
};

constexpr std::array<int16_t, 256> kAlawTable = {
    -5504,  -5248,  -6016,  -5760,  -4480,  -4224,  -4992,  -4736,  -7552,  -7296,  -8064,  -7808,
    -6528,  -6272,  -7040,  -6784,  -2752,  -2624,  -3008,  -2880,  -2240,  -2112,  -2496,  -2368,
    -3776,  -3648,  -4032,  -3904,  -3264,  -3136,  -3520,  -3392,  -22016, -20992, -24064, -23040,
    -17920, -16896, -19968, -18944, -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136,
    -11008, -10496, -12032, -11520, -8960,  -8448,  -9984,  -9472,  -15104, -14592, -16128, -15616,
    -13056, -12544, -14080, -13568, -344,   -328,   -376,   -360,   -280,   -264,   -312,   -296,
    -472,   -456,   -504,   -488,   -408,   -392,   -440,   -424,   -88,    -72,    -120,   -104,
    -24,    -8,     -56,    -40,    -216,   -200,   -248,   -232,   -152,   -136,   -184,   -168,
    -1376,  -1312,  -1504,  -1440,  -1120,  -1056,  -1248,  -1184,  -1888,  -1824,  -2016,  -1952,
    -1632,  -1568,  -1760,  -1696,  -688,   -656,   -752,   -720,   -560,   -528,   -624,   -592,
    -944,   -912,   -1008,  -976,   -816,   -784,   -880,   -848,   5504,   5248,   6016,   5760,
    4480,   4224,   4992,   4736,   7552,   7296,   8064,   7808,   6528,   6272,   7040,   6784,
    2752,   2624,   3008,   2880,   2240,   2112,   2496,   2368,   3776,   3648,   4032,   3904,
    3264,   3136,   3520,   3392,   22016,  20992,  24064,  23040,  17920,  16896,  19968,  18944,
    30208,  29184,  32256,  31232,  26112,  25088,  28160,  27136,  11008,  10496,  12032,  11520,
    8960,   8448,   9984,   9472,   15104,  14592,  16128,  15616,  13056,  12544,  14080,  13568,
    344,    328,    376,    360,    280,    264,    312,    296,    472,    456,    504,    488,
    408,    392,    440,    424,    88,     72,     120,    104,    24,     8,      56,     40,
    216,    200,    248,    232,    152,    136,    184,    168,    1376,   1312,   1504,   1440,
    1120,   1056,   1248,   1184,   1888,   1824,   2016,   1952,   1632,   1568,   1760,   1696,
    688,    656,    752,    720,    560,    528,    624,    592,    944,    912,    1008,   976,
    816,    784,    880,    848,
};

struct EncodeCase {
  int16_t sample;
  uint8_t code;
};

// Inputs on both sides of every segment's decision value (G.711 Table 2a: 31, 95, 223, 479,
// 991, 2015, 4063 in 14-bit units, x4 here), the clip point and zero.
constexpr EncodeCase kUlawBoundaries[] = {
    {123, 0xF0},   {124, 0xEF},    {-121, 0x6F},   {-120, 0x70},   {-125, 0x6F},   {-124, 0x6F},
    {379, 0xE0},   {380, 0xDF},    {-377, 0x5F},   {-376, 0x60},   {-381, 0x5F},   {-380, 0x5F},
    {891, 0xD0},   {892, 0xCF},    {-889, 0x4F},   {-888, 0x50},   {-893, 0x4F},   {-892, 0x4F},
    {1915, 0xC0},  {1916, 0xBF},   {-1913, 0x3F},  {-1912, 0x40},  {-1917, 0x3F},  {-1916, 0x3F},
    {3963, 0xB0},  {3964, 0xAF},   {-3961, 0x2F},  {-3960, 0x30},  {-3965, 0x2F},  {-3964, 0x2F},
    {8059, 0xA0},  {8060, 0x9F},   {-8057, 0x1F},  {-8056, 0x20},  {-8061, 0x1F},  {-8060, 0x1F},
    {16251, 0x90}, {16252, 0x8F},  {-16249, 0x0F}, {-16248, 0x10}, {-16253, 0x0F}, {-16252, 0x0F},
    {32767, 0x80}, {-32768, 0x00}, {32635, 0x80},  {32636, 0x80},  {-32635, 0x00}, {-32636, 0x00},
    {0, 0xFF},     {-1, 0x7E},     {1, 0xFF}};

// G.711 Table 1a: A-law segments end at 32, 64, ..., 4096 in 13-bit units (x8 here).
constexpr EncodeCase kAlawBoundaries[] = {
    {255, 0xDA},   {256, 0xC5},   {-256, 0x5A},   {-257, 0x45},   {511, 0xCA},   {512, 0xF5},
    {-512, 0x4A},  {-513, 0x75},  {1023, 0xFA},   {1024, 0xE5},   {-1024, 0x7A}, {-1025, 0x65},
    {2047, 0xEA},  {2048, 0x95},  {-2048, 0x6A},  {-2049, 0x15},  {4095, 0x9A},  {4096, 0x85},
    {-4096, 0x1A}, {-4097, 0x05}, {8191, 0x8A},   {8192, 0xB5},   {-8192, 0x0A}, {-8193, 0x35},
    {16383, 0xBA}, {16384, 0xA5}, {-16384, 0x3A}, {-16385, 0x25}, {32767, 0xAA}, {-32768, 0x2A},
    {0, 0xD5},     {-1, 0x55},    {7, 0xD5},      {8, 0xD5},      {-8, 0x55},    {-9, 0x55}};

}  // namespace

TEST_CASE("every mu-law code decodes to its G.711 table value", "[unit]") {
  for (int code = 0; code < 256; ++code) {
    INFO("code " << code);
    CHECK(sb::codec::UlawToLinear(static_cast<uint8_t>(code)) == kUlawTable[code]);
  }
}

TEST_CASE("every A-law code decodes to its G.711 table value", "[unit]") {
  for (int code = 0; code < 256; ++code) {
    INFO("code " << code);
    CHECK(sb::codec::AlawToLinear(static_cast<uint8_t>(code)) == kAlawTable[code]);
  }
}

TEST_CASE("the mu-law encoder changes segment exactly at the G.711 decision values", "[unit]") {
  for (const auto& c : kUlawBoundaries) {
    INFO("sample " << c.sample);
    CHECK(static_cast<int>(sb::codec::LinearToUlaw(c.sample)) == c.code);
  }
}

TEST_CASE("the A-law encoder changes segment exactly at the G.711 decision values", "[unit]") {
  for (const auto& c : kAlawBoundaries) {
    INFO("sample " << c.sample);
    CHECK(static_cast<int>(sb::codec::LinearToAlaw(c.sample)) == c.code);
  }
}

TEST_CASE("each table value encodes back to its own code", "[unit]") {
  for (int code = 0; code < 256; ++code) {
    // mu-law has two zeros (0x7F and 0xFF); the encoder chooses the positive one.
    const int expected_u = code == 0x7F ? 0xFF : code;
    CHECK(sb::codec::LinearToUlaw(kUlawTable[code]) == expected_u);
    CHECK(sb::codec::LinearToAlaw(kAlawTable[code]) == code);
  }
}

TEST_CASE("encoding quantises to the nearest level: error within half a step of the segment",
          "[unit]") {
  // Step sizes of G.711 Tables 1 and 2 in 16-bit units: mu-law 8 << segment with segments on
  // powers of two of (|x| + 132); A-law 16 up to 512, doubling per segment above.
  auto ulaw_step = [](int m) {
    const int seg = std::clamp(static_cast<int>(std::floor(std::log2(m + 132.0))) - 7, 0, 7);
    return 8 << seg;
  };
  auto alaw_step = [](int m) {
    return m < 512 ? 16 : 16 << (static_cast<int>(std::floor(std::log2(m))) - 8);
  };
  int ulaw_violations = 0, alaw_violations = 0;
  for (int x = -32768; x <= 32767; ++x) {
    const auto s = static_cast<int16_t>(x);
    const int m = std::abs(x);
    // The encoders drop the low 2 (mu) or 3 (A) bits first, as the reference does, so an input
    // may land up to 3 or 7 units further than half a step, and a negative input up to 3 units
    // below a decision value already falls in the next segment; past the top level it clips.
    if (m <= 32124 && std::abs(sb::codec::UlawToLinear(sb::codec::LinearToUlaw(s)) - x) >
                          ulaw_step(m + 4) / 2 + 3) {
      ++ulaw_violations;
    }
    if (m <= 32256 &&
        std::abs(sb::codec::AlawToLinear(sb::codec::LinearToAlaw(s)) - x) > alaw_step(m) / 2 + 7) {
      ++alaw_violations;
    }
  }
  CHECK(ulaw_violations == 0);
  CHECK(alaw_violations == 0);
}

TEST_CASE("G.711 concealment repeats the last frame and fades to silence by 60 ms", "[unit]") {
  auto dec = sb::codec::MakeDecoder({.type = sb::codec::CodecType::kPcmu});
  REQUIRE(dec.ok());
  std::array<uint8_t, 160> payload;
  std::array<int16_t, 160> pcm{};
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = (i % 2) ? 0x80 : 0x00;  // +-32124
  REQUIRE(*(*dec)->Decode(payload, pcm) == 160);

  auto peak = [](std::span<const int16_t> s) {
    int p = 0;
    for (int16_t v : s) p = std::max(p, std::abs(static_cast<int>(v)));
    return p;
  };
  std::array<int16_t, 160> concealed{};
  REQUIRE(*(*dec)->Conceal(concealed) == 160);
  // The first 10 ms are the last frame at full level, then the fade begins.
  CHECK(std::equal(concealed.begin(), concealed.begin() + 80, pcm.begin()));
  CHECK(peak(std::span(concealed).subspan(150)) < 32124);
  REQUIRE(*(*dec)->Conceal(concealed) == 160);  // 20..40 ms
  CHECK(peak(concealed) <= 32124 * 8 / 10);
  REQUIRE(*(*dec)->Conceal(concealed) == 160);  // 40..60 ms: fades out
  CHECK(peak(std::span(concealed).subspan(140)) < 32124 / 10);
  REQUIRE(*(*dec)->Conceal(concealed) == 160);  // past 60 ms: silence
  CHECK(peak(concealed) == 0);

  // A real packet restores full level at once.
  REQUIRE(*(*dec)->Decode(payload, pcm) == 160);
  REQUIRE(*(*dec)->Conceal(concealed) == 160);
  CHECK(peak(std::span(concealed).first(80)) == 32124);
}

TEST_CASE("codec specs that libopus or G.711 cannot honour are refused with the field named",
          "[unit]") {
  using sb::codec::CodecType;
  CHECK(sb::codec::MakeEncoder({.type = CodecType::kPcmu, .sample_rate = 16000}).status().field() ==
        "sample_rate");
  CHECK(sb::codec::MakeEncoder({.type = CodecType::kOpus, .sample_rate = 44100}).status().field() ==
        "sample_rate");
  CHECK(sb::codec::MakeEncoder({.type = CodecType::kOpus, .sample_rate = 48000, .frame_ms = 25})
            .status()
            .field() == "frame_ms");
  CHECK(sb::codec::MakeEncoder({.type = CodecType::kOpus, .sample_rate = 48000, .bitrate = 100})
            .status()
            .field() == "bitrate");
}
