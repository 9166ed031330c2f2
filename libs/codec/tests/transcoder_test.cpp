#include "switchboard/codec/transcoder.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "signal_measure.h"
#include "switchboard/codec/g711.h"

using sb::codec::CodecSpec;
using sb::codec::CodecType;
namespace t = sb::codec::testing;

namespace {

const CodecSpec kPcmu{.type = CodecType::kPcmu};
const CodecSpec kOpus48{.type = CodecType::kOpus, .sample_rate = 48000};

}  // namespace

TEST_CASE("a 1 kHz tone sent as PCMU comes out of the Opus leg at 1 kHz", "[unit]") {
  auto transcoder = sb::codec::Transcoder::Create(kPcmu, kOpus48);
  REQUIRE(transcoder.ok());
  auto opus = sb::codec::MakeDecoder(kOpus48);
  REQUIRE(opus.ok());

  constexpr int kFrames = 100;  // 2 s
  const auto tone = t::Sine(1000, 8000, 160 * kFrames, 10000);
  std::vector<int16_t> heard;
  std::array<uint8_t, 160> pcmu;
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  std::array<int16_t, sb::codec::kMaxFrameSamples> pcm;
  for (int f = 0; f < kFrames; ++f) {
    sb::codec::EncodeUlaw(std::span(tone).subspan(f * 160, 160), pcmu);
    auto n = (*transcoder)->Transcode(pcmu, packet);
    REQUIRE(n.ok());
    REQUIRE(*n > 0);
    REQUIRE(*n < 400);  // an Opus frame, not PCM in disguise
    auto got = (*opus)->Decode(std::span(packet).first(*n), pcm);
    REQUIRE(got.ok());
    REQUIRE(*got == 960);
    heard.insert(heard.end(), pcm.begin(), pcm.begin() + 960);
  }
  const auto steady = std::span<const int16_t>(heard).subspan(heard.size() / 4);
  CHECK(t::ZeroCrossingHz(steady, 48000) == Approx(1000).margin(3));
  CHECK(t::PeakHz(steady.first(9600), 48000, 200, 3000) == Approx(1000).margin(5));
  CHECK(t::Rms(steady) == Approx(10000 / std::sqrt(2.0)).epsilon(0.25));
}

TEST_CASE("the Opus leg's 1 kHz reaches the PCMU leg at 1 kHz", "[unit]") {
  auto transcoder = sb::codec::Transcoder::Create(kOpus48, kPcmu);
  REQUIRE(transcoder.ok());
  auto opus = sb::codec::MakeEncoder(kOpus48);
  REQUIRE(opus.ok());
  const auto tone = t::Sine(1000, 48000, 960 * 100, 10000);
  std::vector<int16_t> heard;
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> pcmu;
  std::array<int16_t, 160> pcm;
  for (int f = 0; f < 100; ++f) {
    auto n = (*opus)->Encode(std::span(tone).subspan(f * 960, 960), packet);
    REQUIRE(n.ok());
    auto m = (*transcoder)->Transcode(std::span(packet).first(*n), pcmu);
    REQUIRE(m.ok());
    REQUIRE(*m == 160);
    sb::codec::DecodeUlaw(std::span(pcmu).first(160), pcm);
    heard.insert(heard.end(), pcm.begin(), pcm.end());
  }
  const auto steady = std::span<const int16_t>(heard).subspan(heard.size() / 4);
  CHECK(t::ZeroCrossingHz(steady, 8000) == Approx(1000).margin(3));
}

TEST_CASE("a lost frame is concealed and still produces a packet for the other leg", "[unit]") {
  auto transcoder = sb::codec::Transcoder::Create(kPcmu, kOpus48);
  REQUIRE(transcoder.ok());
  auto opus = sb::codec::MakeDecoder(kOpus48);
  REQUIRE(opus.ok());
  const auto tone = t::Sine(500, 8000, 160 * 30, 10000);
  std::array<uint8_t, 160> pcmu;
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  std::array<int16_t, sb::codec::kMaxFrameSamples> pcm;
  for (int f = 0; f < 30; ++f) {
    sb::codec::EncodeUlaw(std::span(tone).subspan(f * 160, 160), pcmu);
    auto n = (*transcoder)->Transcode(pcmu, packet);
    REQUIRE(n.ok());
    REQUIRE((*opus)->Decode(std::span(packet).first(*n), pcm).ok());
  }
  auto n = (*transcoder)->TranscodeLost(packet);
  REQUIRE(n.ok());
  REQUIRE(*n > 0);
  REQUIRE(*(*opus)->Decode(std::span(packet).first(*n), pcm) == 960);
  // G.711 concealment repeated the last 20 ms: the tone goes on, not silence.
  CHECK(t::Rms(std::span<const int16_t>(pcm).first(960)) > 3000);
}

TEST_CASE("the transcoder refuses legs with different ptimes and payloads of the wrong length",
          "[unit]") {
  CHECK(sb::codec::Transcoder::Create({.type = CodecType::kPcmu, .frame_ms = 30}, kOpus48)
            .status()
            .field() == "frame_ms");
  auto transcoder = sb::codec::Transcoder::Create(kPcmu, kOpus48);
  REQUIRE(transcoder.ok());
  std::array<uint8_t, 240> thirty_ms{};
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  auto n = (*transcoder)->Transcode(thirty_ms, packet);
  CHECK(n.status().code() == sb::StatusCode::kInvalidArgument);
  CHECK(n.status().message() == "frame mismatch");
  CHECK(n.status().field() == "payload");
}
