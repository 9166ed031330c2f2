#include "session/mixer.h"

#include <algorithm>
#include <array>

namespace sb::media {
namespace {
int16_t Clip(int32_t v) { return static_cast<int16_t>(std::clamp<int32_t>(v, -32768, 32767)); }
constexpr size_t kChunk = 480;  // 60 ms at 8 kHz: the sum is built a chunk at a time on the stack
}  // namespace

void MixMinusSelf(std::span<const int16_t* const> inputs, std::span<int16_t* const> outputs,
                  size_t samples) {
  std::array<int32_t, kChunk> sum;
  for (size_t start = 0; start < samples; start += kChunk) {
    const size_t n = std::min(kChunk, samples - start);
    std::fill_n(sum.begin(), n, 0);
    for (const int16_t* in : inputs) {
      if (in == nullptr) continue;
      for (size_t i = 0; i < n; ++i) sum[i] += in[start + i];
    }
    for (size_t m = 0; m < outputs.size(); ++m) {
      int16_t* out = outputs[m];
      if (out == nullptr) continue;
      const int16_t* own = m < inputs.size() ? inputs[m] : nullptr;
      if (own == nullptr) {
        for (size_t i = 0; i < n; ++i) out[start + i] = Clip(sum[i]);
      } else {
        for (size_t i = 0; i < n; ++i) out[start + i] = Clip(sum[i] - own[start + i]);
      }
    }
  }
}

void MixInto(std::span<int16_t> a, std::span<const int16_t> b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) a[i] = Clip(int32_t{a[i]} + b[i]);
}

}  // namespace sb::media
