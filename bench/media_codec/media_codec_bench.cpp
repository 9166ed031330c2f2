// Cost of one 20 ms frame through each codec path the media node runs, single-threaded:
//   - Opus 48 kHz encode + decode (one direction of an Opus leg, both ends' work)
//   - G.711 mu-law encode + decode
//   - PCMU -> Opus Transcoder frame (decode G.711, resample 8 -> 48 kHz, encode Opus)
//   - Opus -> PCMU Transcoder frame (decode Opus, resample 48 -> 8 kHz, encode G.711)
// A transcoded call needs one Transcoder frame in each direction every 20 ms, so
// 20 ms / (PCMU->Opus + Opus->PCMU) is the number of such calls one core can carry at best.
#include <benchmark/benchmark.h>

#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "switchboard/codec/audio_codec.h"
#include "switchboard/codec/g711.h"
#include "switchboard/codec/resampler.h"
#include "switchboard/codec/transcoder.h"

namespace {

using sb::codec::CodecSpec;
using sb::codec::CodecType;

// Speech-like test signal (a gliding harmonic tone with an amplitude envelope): Opus spends
// differently on pure sines, silence and noise, and a media node mostly carries voices.
std::vector<int16_t> Voice(int rate, int seconds) {
  std::vector<int16_t> out(static_cast<size_t>(rate * seconds));
  double phase = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double t = static_cast<double>(i) / rate;
    const double f0 = 120 + 40 * std::sin(2 * std::numbers::pi * 0.7 * t);
    phase += 2 * std::numbers::pi * f0 / rate;
    const double envelope = 0.6 + 0.4 * std::sin(2 * std::numbers::pi * 3 * t);
    double v = 0;
    for (int h = 1; h <= 20 && h * f0 < rate / 2.0; ++h) v += std::sin(h * phase) / h;
    out[i] = static_cast<int16_t>(6000 * envelope * v);
  }
  return out;
}

const CodecSpec kOpus48{.type = CodecType::kOpus, .sample_rate = 48000};
const CodecSpec kPcmu{.type = CodecType::kPcmu};

void BM_OpusEncodeDecode48k(benchmark::State& state) {
  CodecSpec spec = kOpus48;
  spec.complexity = static_cast<int>(state.range(0));
  auto enc = sb::codec::MakeEncoder(spec);
  auto dec = sb::codec::MakeDecoder(spec);
  const auto pcm = Voice(48000, 4);
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  std::array<int16_t, sb::codec::kMaxFrameSamples> out;
  size_t frame = 0;
  const size_t frames = pcm.size() / 960;
  for (auto _ : state) {
    auto n = (*enc)->Encode(std::span(pcm).subspan((frame++ % frames) * 960, 960), packet);
    auto m = (*dec)->Decode(std::span(packet).first(*n), out);
    benchmark::DoNotOptimize(m);
  }
  state.SetLabel("complexity " + std::to_string(spec.complexity));
}
BENCHMARK(BM_OpusEncodeDecode48k)->Arg(9)->Arg(5)->Arg(1);

void BM_G711EncodeDecode(benchmark::State& state) {
  const auto pcm = Voice(8000, 4);
  std::array<uint8_t, 160> payload;
  std::array<int16_t, 160> out;
  size_t frame = 0;
  const size_t frames = pcm.size() / 160;
  for (auto _ : state) {
    sb::codec::EncodeUlaw(std::span(pcm).subspan((frame++ % frames) * 160, 160), payload);
    sb::codec::DecodeUlaw(payload, out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_G711EncodeDecode);

void BM_Resample8kTo48k(benchmark::State& state) {
  auto r = sb::codec::Resampler::Create(8000, 48000);
  const auto pcm = Voice(8000, 4);
  std::array<int16_t, 960> out;
  size_t frame = 0;
  const size_t frames = pcm.size() / 160;
  for (auto _ : state) {
    auto n = (*r)->Process(std::span(pcm).subspan((frame++ % frames) * 160, 160), out);
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_Resample8kTo48k);

void BM_TranscodePcmuToOpus(benchmark::State& state) {
  CodecSpec to = kOpus48;
  to.complexity = static_cast<int>(state.range(0));
  auto t = sb::codec::Transcoder::Create(kPcmu, to);
  const auto pcm = Voice(8000, 4);
  const size_t frames = pcm.size() / 160;
  std::vector<std::array<uint8_t, 160>> input(frames);
  for (size_t f = 0; f < frames; ++f)
    sb::codec::EncodeUlaw(std::span(pcm).subspan(f * 160, 160), input[f]);
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  size_t frame = 0;
  for (auto _ : state) {
    auto n = (*t)->Transcode(input[frame++ % frames], packet);
    benchmark::DoNotOptimize(n);
  }
  state.SetLabel("complexity " + std::to_string(to.complexity));
}
BENCHMARK(BM_TranscodePcmuToOpus)->Arg(9)->Arg(5)->Arg(1);

void BM_TranscodeOpusToPcmu(benchmark::State& state) {
  auto t = sb::codec::Transcoder::Create(kOpus48, kPcmu);
  auto enc = sb::codec::MakeEncoder(kOpus48);
  const auto pcm = Voice(48000, 4);
  const size_t frames = pcm.size() / 960;
  std::vector<std::vector<uint8_t>> input;
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> packet;
  for (size_t f = 0; f < frames; ++f) {
    auto n = (*enc)->Encode(std::span(pcm).subspan(f * 960, 960), packet);
    input.emplace_back(packet.begin(), packet.begin() + static_cast<ptrdiff_t>(*n));
  }
  std::array<uint8_t, sb::codec::kMaxPayloadBytes> out;
  size_t frame = 0;
  for (auto _ : state) {
    auto n = (*t)->Transcode(input[frame++ % frames], out);
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_TranscodeOpusToPcmu);

}  // namespace

BENCHMARK_MAIN();
