// Character classes and small scanning helpers shared by the parsers (RFC 3261 §25.1). Every
// helper is iterative and bounded by its input: nothing here recurses on untrusted text.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "switchboard/core/ascii.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sb::sip {
enum class HeaderId : uint8_t;
struct Uri;
struct NameAddr;
struct Via;
}  // namespace sb::sip

namespace sb::sip::internal {

// Bytes after a parsed message's end that may be read (never used): word-wise scans of names and
// lines need no end-of-buffer checks inside their loops.
inline constexpr size_t kReadPadding = 32;

// HeaderIdFromName for a token that has kReadPadding readable bytes after it (header_names.cpp).
HeaderId HeaderIdFromPaddedName(const char* name, size_t len);

// The parsers behind ParseUri / ParseNameAddr / ParseContact / ParseVia, filling a value in its
// final place (a Message's cache) instead of returning it through a Result and copying it: a
// parsed name-addr was copied four times on its way into the cache. They return the problem
// (the message the public parsers wrap in a Status) or nullptr; `out` must be freshly made.
const char* ParseUriInto(std::string_view text, Uri& out);
const char* ParseNameAddrInto(std::string_view value, NameAddr& out);
const char* ParseContactInto(std::string_view value, NameAddr& out);
const char* ParseViaInto(std::string_view value, Via& out);

enum CharClass : uint16_t {
  kAlnum = 1 << 0,
  kTokenChar = 1 << 1,   // token (§25.1)
  kUnreserved = 1 << 2,  // alphanum / mark
  kUserChar = 1 << 3,    // unreserved / user-unreserved (escaped handled apart)
  kPasswordChar = 1 << 4,
  kParamChar = 1 << 5,   // unreserved / param-unreserved
  kHeaderChar = 1 << 6,  // unreserved / hnv-unreserved
  kHostChar = 1 << 7,    // hostname, IPv4, IPv6 reference
  kWordChar = 1 << 8,    // word (Call-ID)
  kLws = 1 << 9,         // SP HTAB CR LF: whitespace inside a (possibly folded) header value
  kDigit = 1 << 10,
  kSchemeChar = 1 << 11,
  kUriChar = 1 << 12,   // printable ASCII a URI may hold unescaped somewhere
  kGenValue = 1 << 13,  // token / host characters of a generic-param value
  kHostName = 1 << 14,  // hostname / IPv4address characters: alphanum "-" "."
};

constexpr std::array<uint16_t, 256> MakeTable() {
  std::array<uint16_t, 256> t{};
  auto add = [&t](std::string_view chars, uint16_t cls) {
    for (char c : chars) t[static_cast<unsigned char>(c)] |= cls;
  };
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (alpha || digit) {
      t[c] |= kAlnum | kTokenChar | kUnreserved | kUserChar | kPasswordChar | kParamChar |
              kHeaderChar | kHostChar | kWordChar | kSchemeChar;
    }
    if (digit) t[c] |= kDigit;
  }
  add("-.!%*_+`'~", kTokenChar);
  add("-_.!~*'()", kUnreserved | kUserChar | kPasswordChar | kParamChar | kHeaderChar | kWordChar);
  add("&=+$,;?/", kUserChar);
  add("&=+$,", kPasswordChar);
  add("[]/:&+$", kParamChar);
  add("[]/?:+$", kHeaderChar);
  add("-.:[]", kHostChar);
  add("-.!%*_+`'~()<>:\\\"/[]?{}", kWordChar);
  add(" \t\r\n", kLws);
  add("+-.", kSchemeChar);
  for (int c = 0x21; c < 0x7F; ++c) {
    if (c != '<' && c != '>' && c != '"') t[c] |= kUriChar;
  }
  for (int c = 0; c < 256; ++c) {
    if (t[c] & kTokenChar) t[c] |= kGenValue;
  }
  add(":[]", kGenValue);
  for (int c = 0; c < 256; ++c) {
    if (t[c] & kAlnum) t[c] |= kHostName;
  }
  add("-.", kHostName);
  return t;
}

inline constexpr std::array<uint16_t, 256> kCharTable = MakeTable();

inline bool Is(char c, uint16_t cls) {
  return (kCharTable[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool IsLws(char c) { return Is(c, kLws); }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
inline std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsLws(s[i])) ++i;
  return s.substr(i);
}
inline std::string_view TrimRight(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && IsLws(s[n - 1])) --n;
  return s.substr(0, n);
}
inline std::string_view Trim(std::string_view s) { return TrimRight(TrimLeft(s)); }

// Length of the run of hostname / IPv4address characters (alphanum "-" ".") at the start of s.
// Host names are the longest runs a message's URIs and Vias hold: whole 16-byte blocks are
// classified at once (reading only inside s, so any text is safe), the tail byte by byte.
inline size_t HostNameSpan(std::string_view s) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i lower_bit = _mm_set1_epi8(0x20);
  const __m128i a = _mm_set1_epi8('a');
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i max_letter = _mm_set1_epi8(25);
  const __m128i max_digit = _mm_set1_epi8(9);
  const __m128i dash = _mm_set1_epi8('-');
  const __m128i dot = _mm_set1_epi8('.');
  for (; i + 16 <= s.size(); i += 16) {
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Unsigned "x - base <= max" as max_epu8(x - base, max) == max.
    __m128i letter = _mm_sub_epi8(_mm_or_si128(b, lower_bit), a);
    __m128i digit = _mm_sub_epi8(b, zero);
    __m128i ok =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(letter, max_letter), max_letter),
                                  _mm_cmpeq_epi8(_mm_max_epu8(digit, max_digit), max_digit)),
                     _mm_or_si128(_mm_cmpeq_epi8(b, dash), _mm_cmpeq_epi8(b, dot)));
    unsigned bad = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xFFFFu;
    if (bad != 0) return i + static_cast<size_t>(__builtin_ctz(bad));
  }
#endif
  while (i < s.size() && Is(s[i], kHostName)) ++i;
  return i;
}

// Whether every character of a non-empty text is in the class.
inline bool AllOf(std::string_view s, uint16_t cls) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!Is(c, cls)) return false;
  }
  return true;
}

// Position of the closing quote of a quoted-string whose opening quote is at s[open], honouring
// quoted-pairs; npos when unterminated.
inline size_t FindQuoteEnd(std::string_view s, size_t open) {
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Position of the first `sep` at or after `from` outside quoted strings (and outside <...> when
// `angles`), or npos. An unterminated quote runs to the end.
inline size_t FindTopLevel(std::string_view s, char sep, size_t from, bool angles) {
  bool in_angle = false;
  for (size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      size_t end = FindQuoteEnd(s, i);
      if (end == std::string_view::npos) return std::string_view::npos;
      i = end;
    } else if (angles && c == '<') {
      in_angle = true;
    } else if (angles && c == '>') {
      in_angle = false;
    } else if (c == sep && !in_angle) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Parses 1*DIGIT into a uint64 with overflow detection; false on empty, non-digit or overflow
// past `max`.
inline bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty()) return false;
  size_t z = 0;
  while (z + 1 < s.size() && s[z] == '0') ++z;  // "0068" is 68 (RFC 4475 §3.1.1.1)
  s.remove_prefix(z);
  if (s.size() > 20) return false;
  // Overflow by multiply/add checks, not a division per digit (a division costs ~25 cycles).
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, d, &v) || v > max) {
      return false;
    }
  }
  *out = v;
  return true;
}

}  // namespace sb::sip::internal
