#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "signal_measure.h"
#include "switchboard/codec/audio_codec.h"

using sb::codec::CodecSpec;
using sb::codec::CodecType;
namespace t = sb::codec::testing;

namespace {

// Encodes and decodes `seconds` of a tone frame by frame; returns the decoded audio.
std::vector<int16_t> RoundTrip(const CodecSpec& spec, double hz, int frames,
                               std::vector<size_t>* sizes = nullptr) {
  auto enc = sb::codec::MakeEncoder(spec);
  auto dec = sb::codec::MakeDecoder(spec);
  REQUIRE(enc.ok());
  REQUIRE(dec.ok());
  const size_t n = static_cast<size_t>(spec.frame_samples());
  const auto input = t::Sine(hz, spec.sample_rate, n * frames, 8000);
  std::vector<int16_t> output;
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> payload;
  std::array<int16_t, sb::codec::kMaxFrameSamples> pcm;
  for (int f = 0; f < frames; ++f) {
    auto len = (*enc)->Encode(std::span(input).subspan(f * n, n), payload);
    REQUIRE(len.ok());
    if (sizes != nullptr) sizes->push_back(*len);
    auto got = (*dec)->Decode(std::span(payload).first(*len), pcm);
    REQUIRE(got.ok());
    REQUIRE(*got == n);
    output.insert(output.end(), pcm.begin(), pcm.begin() + static_cast<ptrdiff_t>(n));
  }
  return output;
}

}  // namespace

TEST_CASE("Opus carries a tone at 8, 16 and 48 kHz and it decodes at the same pitch", "[unit]") {
  const int rate = GENERATE(8000, 16000, 48000);
  DYNAMIC_SECTION("at " << rate << " Hz") {
    const auto out = RoundTrip({.type = CodecType::kOpus, .sample_rate = rate}, 1000, 50);
    // Skip the first 200 ms while the encoder settles.
    const auto steady = std::span(out).subspan(out.size() / 5);
    CHECK(t::ZeroCrossingHz(steady, rate) == Approx(1000).margin(5));
    CHECK(t::Rms(steady) == Approx(8000 / std::sqrt(2.0)).epsilon(0.25));
  }
}

TEST_CASE("the Opus bitrate setting changes how many bytes a frame takes", "[unit]") {
  std::vector<size_t> low, high;
  RoundTrip({.type = CodecType::kOpus, .sample_rate = 48000, .bitrate = 12000}, 440, 50, &low);
  RoundTrip({.type = CodecType::kOpus, .sample_rate = 48000, .bitrate = 64000}, 440, 50, &high);
  auto average = [](const std::vector<size_t>& v) {
    size_t sum = 0;
    for (size_t s : v) sum += s;
    return static_cast<double>(sum) / static_cast<double>(v.size());
  };
  // 12 kbit/s at 50 frames/s is 30 bytes a frame, 64 kbit/s is 160.
  CHECK(average(low) == Approx(30).epsilon(0.35));
  CHECK(average(high) == Approx(160).epsilon(0.35));
}

TEST_CASE("Opus concealment continues the tone through a lost frame", "[unit]") {
  const CodecSpec spec{.type = CodecType::kOpus, .sample_rate = 48000};
  auto enc = sb::codec::MakeEncoder(spec);
  auto dec = sb::codec::MakeDecoder(spec);
  REQUIRE(enc.ok());
  REQUIRE(dec.ok());
  const auto input = t::Sine(600, 48000, 960 * 20, 8000);
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> payload;
  std::array<int16_t, sb::codec::kMaxFrameSamples> pcm;
  for (int f = 0; f < 20; ++f) {
    auto len = (*enc)->Encode(std::span(input).subspan(f * 960, 960), payload);
    REQUIRE(len.ok());
    REQUIRE((*dec)->Decode(std::span(payload).first(*len), pcm).ok());
  }
  auto concealed = (*dec)->Conceal(pcm);
  REQUIRE(concealed.ok());
  REQUIRE(*concealed == 960);
  const auto frame = std::span<const int16_t>(pcm).first(960);
  CHECK(t::Rms(frame) > 1000);  // not silence
  CHECK(t::PeakHz(frame, 48000, 300, 1500) == Approx(600).margin(30));
}

TEST_CASE("Opus refuses a corrupt packet instead of playing garbage", "[unit]") {
  auto dec = sb::codec::MakeDecoder({.type = CodecType::kOpus, .sample_rate = 48000});
  REQUIRE(dec.ok());
  std::array<int16_t, sb::codec::kMaxFrameSamples> pcm;
  // TOC code 3 (arbitrary frame count) announcing 0 frames is invalid (RFC 6716 §3.2.5).
  const std::array<uint8_t, 2> bad = {0x03, 0x00};
  auto got = (*dec)->Decode(bad, pcm);
  CHECK(got.status().code() == sb::StatusCode::kInvalidArgument);
  CHECK((*dec)->Decode({}, pcm).status().code() == sb::StatusCode::kInvalidArgument);
}
