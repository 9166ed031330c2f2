#include "switchboard/core/ids.h"

#include <array>
#include <chrono>

namespace sb::core {

bool IsUuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

UuidV7Generator::UuidV7Generator(const Clock& clock, uint64_t seed)
    : clock_(clock), random_(seed) {}

UuidV7Generator::UuidV7Generator(const Clock& clock)
    : UuidV7Generator(clock, (uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

std::string UuidV7Generator::Next() {
  std::array<uint8_t, 16> b{};
  uint64_t ms;
  uint32_t counter;
  uint64_t rand_b;
  {
    std::lock_guard lock(mu_);
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.WallNow().time_since_epoch())
            .count();
    const uint64_t now_ms = now < 0 ? 0 : static_cast<uint64_t>(now);
    if (now_ms > last_ms_) {
      last_ms_ = now_ms;
      counter_ = static_cast<uint32_t>(random_() & 0x1ff);  // room to count up within the ms
    } else if (++counter_ > 0xfff) {
      ++last_ms_;
      counter_ = 0;
    }
    ms = last_ms_;
    counter = counter_;
    rand_b = random_();
  }
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((counter >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(counter & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | ((rand_b >> 56) & 0x3f));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(rand_b >> (8 * (15 - i)));

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace sb::core
