// The per-frame paths of sb::codec must not allocate: this binary counts every operator new and
// runs encode, decode, concealment, resampling, transcoding, DTMF detection and tone generation
// many times after set-up, including a corrupt packet from the network.
#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "switchboard/codec/audio_codec.h"
#include "switchboard/codec/dtmf_detector.h"
#include "switchboard/codec/g711.h"
#include "switchboard/codec/tone_generator.h"
#include "switchboard/codec/transcoder.h"
#include "switchboard/testing/alloc_counter.h"

// AddressSanitizer owns operator new/delete itself and reports a replacement's frees as
// mismatches, so under -DSB_SANITIZE=ON this binary has no test: the counting runs in the
// ordinary build.
#if !defined(__SANITIZE_ADDRESS__)

TEST_CASE("codec frame paths allocate nothing per frame", "[unit]") {
  using sb::codec::CodecType;
  // The counter sees allocations (otherwise the zero below would prove nothing).
  REQUIRE(sb::testing::CountsAllocations());
  auto to_opus = sb::codec::Transcoder::Create({.type = CodecType::kPcmu},
                                               {.type = CodecType::kOpus, .sample_rate = 48000});
  auto to_pcmu = sb::codec::Transcoder::Create({.type = CodecType::kOpus, .sample_rate = 48000},
                                               {.type = CodecType::kPcmu});
  REQUIRE(to_opus.ok());
  REQUIRE(to_pcmu.ok());
  sb::codec::ToneGenerator tone(8000, *sb::codec::DtmfTone('5', 100, 100));
  sb::codec::DtmfDetector detector;
  std::array<int16_t, 160> pcm{};
  std::array<uint8_t, 160> pcmu{};
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> opus{};
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> back{};
  std::array<sb::codec::DtmfDigit, 4> digits;
  const std::array<uint8_t, 2> corrupt = {0x03, 0x00};

  const uint64_t before = sb::testing::AllocationCount();
  for (int frame = 0; frame < 500; ++frame) {
    tone.Generate(pcm);
    detector.Process(pcm, digits);
    sb::codec::EncodeUlaw(pcm, pcmu);
    auto n =
        (frame % 10 == 9) ? (*to_opus)->TranscodeLost(opus) : (*to_opus)->Transcode(pcmu, opus);
    REQUIRE(n.ok());
    auto m = (*to_pcmu)->Transcode(std::span(opus).first(*n), back);
    REQUIRE(m.ok());
    CHECK_FALSE((*to_pcmu)->Transcode(corrupt, back).ok());
  }
  CHECK(sb::testing::AllocationCount() - before == 0);
}

#endif  // !defined(__SANITIZE_ADDRESS__)
