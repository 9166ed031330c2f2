#include "switchboard/codec/wav.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "signal_measure.h"

namespace fs = std::filesystem;

namespace {

fs::path TempPath(const char* name) {
  return fs::temp_directory_path() /
         (std::string("sb_codec_wav_") + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST_CASE("a WAV written in pieces reads back with the same samples and rate", "[unit]") {
  const auto path = TempPath("pieces.wav");
  const auto tone = sb::codec::testing::Sine(440, 16000, 16000, 9000);
  {
    auto writer = sb::codec::WavWriter::Open(path.string(), 16000);
    REQUIRE(writer.ok());
    for (size_t i = 0; i < tone.size(); i += 320) {
      REQUIRE((*writer)->Append(std::span(tone).subspan(i, 320)).ok());
    }
    CHECK((*writer)->samples_written() == 16000);
    REQUIRE((*writer)->Close().ok());
    CHECK((*writer)->Append(tone).code() == sb::StatusCode::kFailedPrecondition);
  }
  CHECK(fs::file_size(path) == 44 + 32000);
  auto audio = sb::codec::ReadWavFile(path.string());
  REQUIRE(audio.ok());
  CHECK(audio->sample_rate == 16000);
  CHECK(audio->samples == tone);
  fs::remove(path);
}

TEST_CASE("the header is the canonical 44-byte PCM header", "[unit]") {
  const std::vector<int16_t> samples = {1, -2, 0x1234};
  const auto bytes = sb::codec::SerializeWav(8000, samples);
  const std::vector<uint8_t> expected = {
      'R', 'I', 'F', 'F', 42, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1,
      0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0,        // PCM, mono, 8000, 16000 B/s
      2, 0, 16, 0, 'd', 'a', 't', 'a', 6, 0, 0, 0,  // align 2, 16 bits,
                                                    // 6 bytes
      1, 0, 0xFE, 0xFF, 0x34, 0x12};
  CHECK(bytes == expected);
}

TEST_CASE("chunks before the data are skipped and a writer's unfinished size is tolerated",
          "[unit]") {
  auto bytes = sb::codec::SerializeWav(8000, std::vector<int16_t>{5, 6, 7});
  // Insert an odd-sized LIST chunk (padded to even) between fmt and data.
  const std::vector<uint8_t> list = {'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
  bytes.insert(bytes.begin() + 36, list.begin(), list.end());
  auto audio = sb::codec::ParseWav(bytes);
  REQUIRE(audio.ok());
  CHECK(audio->samples == std::vector<int16_t>{5, 6, 7});

  // A crashed recorder leaves the data size at 0xFFFFFFFF: the samples present are used.
  auto crashed = sb::codec::SerializeWav(8000, std::vector<int16_t>{9, 10});
  crashed[40] = crashed[41] = crashed[42] = crashed[43] = 0xFF;
  auto partial = sb::codec::ParseWav(crashed);
  REQUIRE(partial.ok());
  CHECK(partial->samples == std::vector<int16_t>{9, 10});
}

TEST_CASE("WAVs that are not 16-bit mono PCM are refused with the reason", "[unit]") {
  auto bytes = sb::codec::SerializeWav(8000, std::vector<int16_t>{1, 2});
  SECTION("stereo") {
    bytes[22] = 2;
    CHECK(sb::codec::ParseWav(bytes).status().message() == "WAV is not mono");
  }
  SECTION("8-bit") {
    bytes[34] = 8;
    CHECK(sb::codec::ParseWav(bytes).status().message() == "WAV is not 16-bit");
  }
  SECTION("mu-law format tag") {
    bytes[20] = 7;
    CHECK(sb::codec::ParseWav(bytes).status().message() == "WAV is not linear PCM");
  }
  SECTION("not RIFF") {
    bytes[0] = 'X';
    CHECK(sb::codec::ParseWav(bytes).status().message() == "not a RIFF WAVE file");
  }
  SECTION("truncated before the data chunk") {
    bytes.resize(30);
    CHECK_FALSE(sb::codec::ParseWav(bytes).ok());
  }
  CHECK(sb::codec::ReadWavFile("/nonexistent/dir/x.wav").status().code() ==
        sb::StatusCode::kUnavailable);
}
