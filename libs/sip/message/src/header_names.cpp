// Header and method names: the one table of long names, compact forms (§7.3.3, §20 and the
// extensions' registrations) and list-ness.
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "internal/scan.h"
#include "switchboard/sip/message.h"

namespace sb::sip {
namespace {

struct NameEntry {
  std::string_view name;
  HeaderId id;
  bool list;
};

// Indexed by HeaderId. `list` marks the headers whose grammar is a comma-separated list.
constexpr std::array<NameEntry, static_cast<size_t>(HeaderId::kCount)> kNames = {{
    {"", HeaderId::kOther, false},
    {"Via", HeaderId::kVia, true},
    {"From", HeaderId::kFrom, false},
    {"To", HeaderId::kTo, false},
    {"Call-ID", HeaderId::kCallId, false},
    {"CSeq", HeaderId::kCSeq, false},
    {"Contact", HeaderId::kContact, true},
    {"Route", HeaderId::kRoute, true},
    {"Record-Route", HeaderId::kRecordRoute, true},
    {"Max-Forwards", HeaderId::kMaxForwards, false},
    {"Expires", HeaderId::kExpires, false},
    {"Min-Expires", HeaderId::kMinExpires, false},
    {"Authorization", HeaderId::kAuthorization, false},
    {"WWW-Authenticate", HeaderId::kWwwAuthenticate, false},
    {"Proxy-Authenticate", HeaderId::kProxyAuthenticate, false},
    {"Proxy-Authorization", HeaderId::kProxyAuthorization, false},
    {"Authentication-Info", HeaderId::kAuthenticationInfo, false},
    {"Content-Type", HeaderId::kContentType, false},
    {"Content-Length", HeaderId::kContentLength, false},
    {"Content-Encoding", HeaderId::kContentEncoding, true},
    {"Content-Disposition", HeaderId::kContentDisposition, false},
    {"Supported", HeaderId::kSupported, true},
    {"Require", HeaderId::kRequire, true},
    {"Proxy-Require", HeaderId::kProxyRequire, true},
    {"Unsupported", HeaderId::kUnsupported, true},
    {"Allow", HeaderId::kAllow, true},
    {"Allow-Events", HeaderId::kAllowEvents, true},
    {"Accept", HeaderId::kAccept, true},
    {"Event", HeaderId::kEvent, false},
    {"Subscription-State", HeaderId::kSubscriptionState, false},
    {"Refer-To", HeaderId::kReferTo, false},
    {"Referred-By", HeaderId::kReferredBy, false},
    {"Replaces", HeaderId::kReplaces, false},
    {"P-Asserted-Identity", HeaderId::kPAssertedIdentity, true},
    {"P-Preferred-Identity", HeaderId::kPPreferredIdentity, true},
    {"Session-Expires", HeaderId::kSessionExpires, false},
    {"Min-SE", HeaderId::kMinSE, false},
    {"RSeq", HeaderId::kRSeq, false},
    {"RAck", HeaderId::kRAck, false},
    {"Subject", HeaderId::kSubject, false},
    {"User-Agent", HeaderId::kUserAgent, false},
    {"Server", HeaderId::kServer, false},
    {"Date", HeaderId::kDate, false},
    {"Timestamp", HeaderId::kTimestamp, false},
    {"Retry-After", HeaderId::kRetryAfter, false},
    {"Warning", HeaderId::kWarning, true},
    {"Call-Info", HeaderId::kCallInfo, true},
    {"Privacy", HeaderId::kPrivacy, false},
    {"Reason", HeaderId::kReason, true},
    {"Path", HeaderId::kPath, true},
    {"Service-Route", HeaderId::kServiceRoute, true},
    {"Identity", HeaderId::kIdentity, false},
}};

HeaderId Compact(char c) {
  switch (core::AsciiLower(c)) {
    case 'b':
      return HeaderId::kReferredBy;
    case 'c':
      return HeaderId::kContentType;
    case 'e':
      return HeaderId::kContentEncoding;
    case 'f':
      return HeaderId::kFrom;
    case 'i':
      return HeaderId::kCallId;
    case 'k':
      return HeaderId::kSupported;
    case 'l':
      return HeaderId::kContentLength;
    case 'm':
      return HeaderId::kContact;
    case 'o':
      return HeaderId::kEvent;
    case 'r':
      return HeaderId::kReferTo;
    case 's':
      return HeaderId::kSubject;
    case 't':
      return HeaderId::kTo;
    case 'u':
      return HeaderId::kAllowEvents;
    case 'v':
      return HeaderId::kVia;
    case 'x':
      return HeaderId::kSessionExpires;
    case 'y':
      return HeaderId::kIdentity;
    default:
      return HeaderId::kOther;
  }
}

// Open hash on (length, first, middle and last letter, lower-cased): a lookup hashes three
// characters and compares at most a couple of names, instead of scanning every name.
constexpr size_t kHashSize = 256;

constexpr char LowerC(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr size_t NameHash(std::string_view name) {
  size_t n = name.size();
  uint32_t h = static_cast<uint32_t>(n) * 0x9E3779B1u;
  h ^= static_cast<uint32_t>(static_cast<unsigned char>(LowerC(name[0]))) * 0x85EBCA6Bu;
  h ^= static_cast<uint32_t>(static_cast<unsigned char>(LowerC(name[n / 2]))) * 0xC2B2AE35u;
  h ^= static_cast<uint32_t>(static_cast<unsigned char>(LowerC(name[n - 1]))) * 0x27D4EB2Fu;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h % kHashSize;
}

constexpr std::array<HeaderId, kHashSize> MakeHashTable() {
  std::array<HeaderId, kHashSize> table{};
  for (size_t i = 1; i < kNames.size(); ++i) {
    size_t h = NameHash(kNames[i].name);
    while (table[h] != HeaderId::kOther) h = (h + 1) % kHashSize;  // linear probing
    table[h] = kNames[i].id;
  }
  return table;
}
constexpr std::array<HeaderId, kHashSize> kHashTable = MakeHashTable();

// Longest probe sequence of a known name; unknown names stop at the first empty slot.
constexpr size_t MaxProbes() {
  size_t worst = 0;
  for (size_t i = 1; i < kNames.size(); ++i) {
    size_t h = NameHash(kNames[i].name), probes = 1;
    while (kHashTable[h] != kNames[i].id) h = (h + 1) % kHashSize, ++probes;
    worst = probes > worst ? probes : worst;
  }
  return worst;
}
static_assert(MaxProbes() <= 3, "header name hash clusters: change NameHash");

// Case-insensitive equality of two tokens, 8 bytes at a time. Setting bit 0x20 lower-cases
// letters and leaves every other token character unchanged (digits and "-.!%*_+`'~" have it set
// already, except '_' which no known name contains), so OR-ing is enough for header names.
bool TokenEqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  constexpr uint64_t kMask = 0x2020202020202020ull;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if ((x | kMask) != (y | kMask)) return false;
  }
  for (; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

// The parser's lookup reads a name as three little-endian words straight from its padded buffer
// (message.cpp keeps kReadPadding readable bytes after the message), OR-ed with 0x20 per byte and
// masked to the name's length: one multiply-shift hash and at most three word compares, no loop
// over characters. Names longer than 24 bytes are not known names.
constexpr size_t kWords = 3;
constexpr uint64_t kLowerMask = 0x2020202020202020ull;
static_assert(std::endian::native == std::endian::little, "word-wise name lookup assumes LE");

struct NameWords {
  std::array<uint64_t, kWords> w{};
  uint8_t len = 0;
  HeaderId id = HeaderId::kOther;
};

constexpr NameWords WordsOf(std::string_view name, HeaderId id) {
  NameWords nw;
  for (size_t i = 0; i < name.size() && i < kWords * 8; ++i) {
    nw.w[i / 8] |= static_cast<uint64_t>(static_cast<unsigned char>(name[i]) | 0x20u)
                   << (8 * (i % 8));
  }
  nw.len = static_cast<uint8_t>(name.size());
  nw.id = id;
  return nw;
}

constexpr size_t kWordHashSize = 128;
constexpr size_t WordHash(uint64_t w0, size_t len) {
  return static_cast<size_t>(((w0 ^ (len * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull) >> 57);
}

constexpr std::array<NameWords, kWordHashSize> MakeWordTable() {
  std::array<NameWords, kWordHashSize> table{};
  for (size_t i = 1; i < kNames.size(); ++i) {
    NameWords nw = WordsOf(kNames[i].name, kNames[i].id);
    size_t h = WordHash(nw.w[0], nw.len);
    while (table[h].id != HeaderId::kOther) h = (h + 1) % kWordHashSize;
    table[h] = nw;
  }
  return table;
}
constexpr std::array<NameWords, kWordHashSize> kWordTable = MakeWordTable();

constexpr size_t MaxWordProbes() {
  size_t worst = 0;
  for (size_t i = 1; i < kNames.size(); ++i) {
    NameWords nw = WordsOf(kNames[i].name, kNames[i].id);
    size_t h = WordHash(nw.w[0], nw.len), probes = 1;
    while (kWordTable[h].id != nw.id) h = (h + 1) % kWordHashSize, ++probes;
    worst = probes > worst ? probes : worst;
  }
  return worst;
}
static_assert(MaxWordProbes() <= 3, "header name word hash clusters: change WordHash");

}  // namespace

namespace internal {

HeaderId HeaderIdFromPaddedName(const char* name, size_t len) {
  if (len == 1) return Compact(name[0]);
  if (len == 0 || len > kWords * 8) return HeaderId::kOther;
  // Only the words the name reaches are read and masked (most names fit in one or two): the
  // branches follow the length, which repeats from message to message.
  auto word = [name](size_t i, size_t left) {
    uint64_t w;
    std::memcpy(&w, name + 8 * i, 8);
    w |= kLowerMask;
    return left >= 8 ? w : w & (~0ull >> (64 - 8 * left));  // left is 1..7 here
  };
  uint64_t w0 = word(0, len);
  uint64_t w1 = len > 8 ? word(1, len - 8) : 0;
  uint64_t w2 = len > 16 ? word(2, len - 16) : 0;
  for (size_t h = WordHash(w0, len), probes = 0; probes < 4;
       h = (h + 1) % kWordHashSize, ++probes) {
    const NameWords& nw = kWordTable[h];
    if (nw.id == HeaderId::kOther) return HeaderId::kOther;
    if (nw.len == len && nw.w[0] == w0 && nw.w[1] == w1 && nw.w[2] == w2) return nw.id;
  }
  return HeaderId::kOther;
}

}  // namespace internal

std::string_view HeaderName(HeaderId id) {
  size_t i = static_cast<size_t>(id);
  return i < kNames.size() ? kNames[i].name : std::string_view();
}

bool IsListHeader(HeaderId id) {
  size_t i = static_cast<size_t>(id);
  return i < kNames.size() && kNames[i].list;
}

HeaderId HeaderIdFromName(std::string_view name) {
  if (name.empty()) return HeaderId::kOther;
  if (name.size() == 1) return Compact(name[0]);
  for (size_t h = NameHash(name), probes = 0; probes < kHashSize;
       h = (h + 1) % kHashSize, ++probes) {
    HeaderId id = kHashTable[h];
    if (id == HeaderId::kOther) return HeaderId::kOther;
    if (TokenEqualsNoCase(kNames[static_cast<size_t>(id)].name, name)) return id;
  }
  return HeaderId::kOther;
}

namespace {
constexpr std::array<std::string_view, 15> kMethods = {
    "",          "INVITE", "ACK",     "BYE",  "CANCEL", "OPTIONS", "REGISTER", "PRACK",
    "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER",  "MESSAGE", "UPDATE"};
}  // namespace

Method MethodFromString(std::string_view text) {
  for (size_t i = 1; i < kMethods.size(); ++i) {
    if (kMethods[i] == text) return static_cast<Method>(i);
  }
  return Method::kUnknown;
}

std::string_view MethodName(Method method) {
  size_t i = static_cast<size_t>(method);
  return i < kMethods.size() ? kMethods[i] : std::string_view();
}

}  // namespace sb::sip
