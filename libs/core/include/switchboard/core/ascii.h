// ASCII case, as SIP, SDP and HTTP compare tokens, scheme and host names (RFC 3261 §7.3.1,
// RFC 4566 §5): locale-free, and bytes outside A-Z are left as they are.
//
//   sb::core::EqualsIgnoreCase("Digest", "DIGEST");   // true
//   sb::core::AsciiLowered("UDP");                    // "udp"
#pragma once

#include <string>
#include <string_view>

namespace sb::core {

// Branch-free: a data-dependent branch per character mispredicts on mixed-case text.
inline char AsciiLower(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return static_cast<char>(u | (static_cast<unsigned char>(u - 'A') < 26 ? 0x20 : 0));
}

inline std::string AsciiLowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace sb::core
