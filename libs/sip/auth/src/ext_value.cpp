#include "ext_value.h"

#include "auth_params.h"

namespace sb::sip::internal {
namespace {

// RFC 8187 §3.2.1 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~".
bool IsAttrChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t extra;
    unsigned min;
    unsigned cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = b & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Status Bad(std::string_view problem) {
  return Status::InvalidArgument("username*: " + std::string(problem), "authorization");
}

}  // namespace

Result<std::string> DecodeExtValue(std::string_view v) {
  size_t first = v.find('\'');
  if (first == std::string_view::npos) return Bad("no charset (expected UTF-8''...)");
  size_t second = v.find('\'', first + 1);
  if (second == std::string_view::npos) return Bad("no second quote after the language");
  if (!EqualsIgnoreCase(v.substr(0, first), "UTF-8")) return Bad("charset other than UTF-8");
  for (char c : v.substr(first + 1, second - first - 1)) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-') return Bad("bad language tag");
  }
  std::string out;
  for (size_t i = second + 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == '%') {
      int hi = i + 2 < v.size() ? HexDigit(v[i + 1]) : -1;
      int lo = i + 2 < v.size() ? HexDigit(v[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Bad("bad percent-encoding");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (IsAttrChar(c)) {
      out.push_back(c);
    } else {
      return Bad("character that must be percent-encoded");
    }
  }
  if (out.empty()) return Bad("empty name");
  if (!IsUtf8(out)) return Bad("not UTF-8");
  return out;
}

std::string EncodeExtValue(std::string_view utf8) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (char c : utf8) {
    if (IsAttrChar(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

}  // namespace sb::sip::internal
