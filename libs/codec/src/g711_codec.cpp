// AudioEncoder/AudioDecoder for G.711, with the concealment of G.711 Appendix I reduced to its
// envelope (repeat the last frame; no pitch search, which costs more than a media node should
// spend per lost 20 ms).
#include <algorithm>
#include <array>

#include "internal/codecs.h"
#include "switchboard/codec/g711.h"

namespace sb::codec::internal {
namespace {

constexpr size_t kMaxG711Frame = 480;  // 60 ms at 8 kHz
constexpr int kFullLevelSamples = 80;  // 10 ms
constexpr int kFadeSamples = 400;      // 20% per 10 ms: silent after a further 50 ms

class G711Encoder final : public AudioEncoder {
 public:
  explicit G711Encoder(const CodecSpec& spec) : spec_(spec) {}
  const CodecSpec& spec() const override { return spec_; }
  Result<size_t> Encode(std::span<const int16_t> pcm, std::span<uint8_t> out) override {
    const size_t n = static_cast<size_t>(spec_.frame_samples());
    if (pcm.size() < n) return Status::InvalidArgument("short PCM frame", "pcm");
    if (out.size() < n) return Status::ResourceExhausted("payload buffer too small");
    return spec_.type == CodecType::kPcmu ? EncodeUlaw(pcm.first(n), out)
                                          : EncodeAlaw(pcm.first(n), out);
  }

 private:
  CodecSpec spec_;
};

class G711Decoder final : public AudioDecoder {
 public:
  explicit G711Decoder(const CodecSpec& spec) : spec_(spec) {}
  const CodecSpec& spec() const override { return spec_; }

  Result<size_t> Decode(std::span<const uint8_t> payload, std::span<int16_t> pcm) override {
    if (pcm.size() < payload.size()) return Status::ResourceExhausted("PCM buffer too small");
    const size_t n =
        spec_.type == CodecType::kPcmu ? DecodeUlaw(payload, pcm) : DecodeAlaw(payload, pcm);
    // Remember the tail of what was played: concealment repeats it.
    last_len_ = std::min(n, kMaxG711Frame);
    std::copy(pcm.begin() + static_cast<ptrdiff_t>(n - last_len_),
              pcm.begin() + static_cast<ptrdiff_t>(n), last_.begin());
    concealed_ = 0;
    return n;
  }

  Result<size_t> Conceal(std::span<int16_t> pcm) override {
    const size_t n = static_cast<size_t>(spec_.frame_samples());
    if (pcm.size() < n) return Status::ResourceExhausted("PCM buffer too small");
    for (size_t i = 0; i < n; ++i) {
      const int t = concealed_ + static_cast<int>(i);
      int gain_permille = 1000;
      if (t >= kFullLevelSamples) {
        gain_permille = std::max(0, 1000 - (t - kFullLevelSamples) * 1000 / kFadeSamples);
      }
      const int16_t source = last_len_ == 0 ? 0 : last_[i % last_len_];
      pcm[i] = static_cast<int16_t>(source * gain_permille / 1000);
    }
    concealed_ = std::min(concealed_ + static_cast<int>(n), kFullLevelSamples + kFadeSamples);
    return n;
  }

 private:
  CodecSpec spec_;
  std::array<int16_t, kMaxG711Frame> last_{};
  size_t last_len_ = 0;
  int concealed_ = 0;
};

}  // namespace

std::unique_ptr<AudioEncoder> MakeG711Encoder(const CodecSpec& spec) {
  return std::make_unique<G711Encoder>(spec);
}
std::unique_ptr<AudioDecoder> MakeG711Decoder(const CodecSpec& spec) {
  return std::make_unique<G711Decoder>(spec);
}

}  // namespace sb::codec::internal
