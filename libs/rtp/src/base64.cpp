#include "base64.h"

#include <algorithm>

namespace sb::rtp::internal {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    if (n > 1) v |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (n > 2) v |= bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
    out += n > 2 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

Result<size_t> Base64Decode(std::string_view text, std::span<uint8_t> out) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 length");
  size_t written = 0;
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      const int d = Value(c);
      if (d < 0 || pad > 0) return Status::InvalidArgument("base64 character");
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    const size_t n = 3 - static_cast<size_t>(pad);
    if (written + n > out.size()) return Status::InvalidArgument("base64 too long");
    for (size_t k = 0; k < n; ++k) out[written++] = static_cast<uint8_t>(v >> (16 - 8 * k));
  }
  return written;
}

}  // namespace sb::rtp::internal
