#include "switchboard/rtp/sdes_crypto.h"

#include <algorithm>
#include <bit>
#include <charconv>

#include "base64.h"

namespace sb::rtp {
namespace {

struct SuiteInfo {
  CryptoSuite suite;
  std::string_view name;
  size_t key_salt;
};

constexpr SuiteInfo kSuites[] = {
    {CryptoSuite::kAesCm128HmacSha1_80, "AES_CM_128_HMAC_SHA1_80", 30},
    {CryptoSuite::kAesCm128HmacSha1_32, "AES_CM_128_HMAC_SHA1_32", 30},
    {CryptoSuite::kAeadAes128Gcm, "AEAD_AES_128_GCM", 28},
};

bool ParseUint(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view NextToken(std::string_view& s) {
  const size_t start = s.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(start);
  const size_t end = s.find_first_of(" \t");
  const std::string_view token = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return token;
}

}  // namespace

std::string_view CryptoSuiteName(CryptoSuite suite) {
  for (const auto& s : kSuites) {
    if (s.suite == suite) return s.name;
  }
  return {};
}

Result<CryptoSuite> CryptoSuiteFromName(std::string_view name) {
  for (const auto& s : kSuites) {
    if (s.name == name) return s.suite;
  }
  return Status::InvalidArgument("unsupported crypto suite " + std::string(name), "crypto-suite");
}

size_t KeySaltLength(CryptoSuite suite) {
  for (const auto& s : kSuites) {
    if (s.suite == suite) return s.key_salt;
  }
  return 0;
}

Result<SdesCrypto> ParseCryptoAttribute(std::string_view value) {
  for (std::string_view prefix : {"a=crypto:", "crypto:"}) {
    if (value.starts_with(prefix)) value.remove_prefix(prefix.size());
  }
  SdesCrypto c;
  uint64_t tag = 0;
  if (!ParseUint(NextToken(value), tag) || tag > 999999999) {
    return Status::InvalidArgument("crypto tag must be 1..9 digits", "tag");
  }
  c.tag = static_cast<int>(tag);
  auto suite = CryptoSuiteFromName(NextToken(value));
  if (!suite.ok()) return suite.status();
  c.suite = *suite;

  std::string_view key_params = NextToken(value);
  // Only the first key-param is used (see the header).
  key_params = key_params.substr(0, key_params.find(';'));
  if (!key_params.starts_with("inline:")) {
    return Status::InvalidArgument("key-params must be inline:", "key-params");
  }
  key_params.remove_prefix(7);
  const size_t bar = key_params.find('|');
  const std::string_view key64 = key_params.substr(0, bar);
  auto n = internal::Base64Decode(key64, c.key_salt);
  if (!n.ok() || *n != KeySaltLength(c.suite)) {
    return Status::InvalidArgument(std::string(CryptoSuiteName(c.suite)) + " needs a " +
                                       std::to_string(KeySaltLength(c.suite)) +
                                       "-byte base64 key||salt",
                                   "key-params");
  }
  std::string_view rest =
      bar == std::string_view::npos ? std::string_view() : key_params.substr(bar + 1);
  // Up to two optional fields, lifetime then MKI; an MKI is the one with a colon (§9.1).
  for (int field = 0; field < 2 && !rest.empty(); ++field) {
    const size_t next = rest.find('|');
    const std::string_view f = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    const size_t colon = f.find(':');
    if (colon != std::string_view::npos) {
      uint64_t mki = 0, len = 0;
      if (!ParseUint(f.substr(0, colon), mki) || !ParseUint(f.substr(colon + 1), len) || len == 0 ||
          len > 128 || mki > 0xFFFFFFFFu) {
        return Status::InvalidArgument("bad MKI", "key-params");
      }
      c.mki_value = static_cast<uint32_t>(mki);
      c.mki_length = static_cast<uint8_t>(len);
    } else if (f.starts_with("2^")) {
      uint64_t exp = 0;
      if (!ParseUint(f.substr(2), exp) || exp > 63)
        return Status::InvalidArgument("bad lifetime", "key-params");
      c.lifetime = uint64_t{1} << exp;
    } else if (!ParseUint(f, c.lifetime)) {
      return Status::InvalidArgument("bad lifetime", "key-params");
    }
  }
  const size_t params = value.find_first_not_of(" \t");
  if (params != std::string_view::npos) c.session_params = std::string(value.substr(params));
  return c;
}

std::string FormatKeyParams(const SdesCrypto& c) {
  std::string out = "inline:" + internal::Base64Encode(c.key());
  if (c.lifetime != 0) {
    const bool power = (c.lifetime & (c.lifetime - 1)) == 0;
    out += "|" + (power ? "2^" + std::to_string(std::countr_zero(c.lifetime))
                        : std::to_string(c.lifetime));
  }
  if (c.mki_length != 0)
    out += "|" + std::to_string(c.mki_value) + ":" + std::to_string(c.mki_length);
  return out;
}

std::string FormatCryptoAttribute(const SdesCrypto& c) {
  std::string out = std::to_string(c.tag) + " " + std::string(CryptoSuiteName(c.suite)) + " " +
                    FormatKeyParams(c);
  if (!c.session_params.empty()) out += " " + c.session_params;
  return out;
}

Result<SdesCrypto> MakeCrypto(int tag, CryptoSuite suite, std::span<const uint8_t> key_salt) {
  if (tag < 1 || tag > 999999999) return Status::InvalidArgument("tag is 1..999999999", "tag");
  if (key_salt.size() != KeySaltLength(suite)) {
    return Status::InvalidArgument("key||salt length does not match the suite", "key_salt");
  }
  SdesCrypto c;
  c.tag = tag;
  c.suite = suite;
  std::copy(key_salt.begin(), key_salt.end(), c.key_salt.begin());
  return c;
}

}  // namespace sb::rtp
