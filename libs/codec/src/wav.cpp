#include "switchboard/codec/wav.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace sb::codec {
namespace {

constexpr size_t kHeaderSize = 44;
constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatExtensible = 0xFFFE;
// A data chunk may not grow past what its 32-bit size field can say.
constexpr uint64_t kMaxDataBytes = std::numeric_limits<uint32_t>::max() - kHeaderSize;

uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

std::array<uint8_t, kHeaderSize> Header(int sample_rate, uint32_t data_bytes) {
  std::array<uint8_t, kHeaderSize> h{};
  std::memcpy(h.data(), "RIFF", 4);
  Put32(&h[4], 36 + data_bytes);
  std::memcpy(&h[8], "WAVEfmt ", 8);
  Put32(&h[16], 16);
  Put16(&h[20], kFormatPcm);
  Put16(&h[22], 1);
  Put32(&h[24], static_cast<uint32_t>(sample_rate));
  Put32(&h[28], static_cast<uint32_t>(sample_rate) * 2);
  Put16(&h[32], 2);
  Put16(&h[34], 16);
  std::memcpy(&h[36], "data", 4);
  Put32(&h[40], data_bytes);
  return h;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::Unavailable(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<WavAudio> ParseWav(std::span<const uint8_t> bytes) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 ||
      std::memcmp(bytes.data() + 8, "WAVE", 4) != 0) {
    return Status::InvalidArgument("not a RIFF WAVE file");
  }
  bool have_fmt = false;
  WavAudio audio;
  size_t pos = 12;
  // Each chunk advances pos by at least 8, so this ends.
  while (pos + 8 <= bytes.size()) {
    const uint8_t* chunk = bytes.data() + pos;
    const uint64_t size = Le32(chunk + 4);
    const size_t body = pos + 8;
    const size_t available = bytes.size() - body;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (size < 16 || size > available) return Status::InvalidArgument("short fmt chunk");
      const uint8_t* f = bytes.data() + body;
      uint16_t format = Le16(f);
      if (format == kFormatExtensible && size >= 40) format = Le16(f + 24);  // sub-format GUID
      if (format != kFormatPcm) return Status::InvalidArgument("WAV is not linear PCM");
      if (Le16(f + 2) != 1) return Status::InvalidArgument("WAV is not mono");
      if (Le16(f + 14) != 16) return Status::InvalidArgument("WAV is not 16-bit");
      audio.sample_rate = static_cast<int>(Le32(f + 4));
      if (audio.sample_rate <= 0) return Status::InvalidArgument("WAV sample rate is 0");
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!have_fmt) return Status::InvalidArgument("WAV data before fmt");
      // Writers that crash leave the size at 0 or too large: take what is there.
      const size_t n = static_cast<size_t>(std::min<uint64_t>(size, available)) / 2;
      audio.samples.resize(n);
      for (size_t i = 0; i < n; ++i) {
        audio.samples[i] = static_cast<int16_t>(Le16(bytes.data() + body + 2 * i));
      }
      return audio;
    }
    pos = body + static_cast<size_t>(size) + (size & 1);  // chunks are padded to even sizes
  }
  return Status::InvalidArgument(have_fmt ? "WAV has no data chunk" : "WAV has no fmt chunk");
}

std::vector<uint8_t> SerializeWav(int sample_rate, std::span<const int16_t> samples) {
  const auto header = Header(sample_rate, static_cast<uint32_t>(samples.size() * 2));
  std::vector<uint8_t> out(header.begin(), header.end());
  out.resize(kHeaderSize + samples.size() * 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    Put16(&out[kHeaderSize + 2 * i], static_cast<uint16_t>(samples[i]));
  }
  return out;
}

Result<WavAudio> ReadWavFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("cannot open", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  auto audio = ParseWav(bytes);
  if (!audio.ok()) return Status::InvalidArgument(path + ": " + audio.status().message());
  return audio;
}

Status WriteWavFile(const std::string& path, int sample_rate, std::span<const int16_t> samples) {
  auto writer = WavWriter::Open(path, sample_rate);
  if (!writer.ok()) return writer.status();
  SB_RETURN_IF_ERROR((*writer)->Append(samples));
  return (*writer)->Close();
}

Result<std::unique_ptr<WavWriter>> WavWriter::Open(const std::string& path, int sample_rate) {
  if (sample_rate <= 0)
    return Status::InvalidArgument("sample rate must be positive", "sample_rate");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Errno("cannot create", path);
  auto writer = std::unique_ptr<WavWriter>(new WavWriter(f, sample_rate));
  const auto header = Header(sample_rate, 0);
  if (std::fwrite(header.data(), 1, header.size(), f) != header.size()) {
    return Errno("cannot write", path);
  }
  return writer;
}

WavWriter::~WavWriter() { (void)Close(); }

Status WavWriter::Append(std::span<const int16_t> samples) {
  if (file_ == nullptr) return Status::FailedPrecondition("WAV writer is closed");
  if ((samples_ + samples.size()) * 2 > kMaxDataBytes) {
    return Status::ResourceExhausted("WAV file would pass 4 GiB");
  }
  std::array<uint8_t, 2048> buf;
  size_t done = 0;
  while (done < samples.size()) {
    const size_t n = std::min(samples.size() - done, buf.size() / 2);
    for (size_t i = 0; i < n; ++i) Put16(&buf[2 * i], static_cast<uint16_t>(samples[done + i]));
    if (std::fwrite(buf.data(), 1, 2 * n, file_) != 2 * n) {
      return Status::Unavailable(std::string("WAV write failed: ") + std::strerror(errno));
    }
    done += n;
  }
  samples_ += samples.size();
  return Status::Ok();
}

Status WavWriter::Close() {
  if (file_ == nullptr) return Status::Ok();
  const auto header = Header(sample_rate_, static_cast<uint32_t>(samples_ * 2));
  bool ok = std::fseek(file_, 0, SEEK_SET) == 0 &&
            std::fwrite(header.data(), 1, header.size(), file_) == header.size();
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) return Status::Unavailable(std::string("WAV close failed: ") + std::strerror(errno));
  return Status::Ok();
}

}  // namespace sb::codec
