// SDES keying for SRTP (RFC 4568): the a=crypto attribute of an SDP offer or answer, parsed and
// formatted, for the suites this platform speaks.
//
//   auto crypto = sb::rtp::ParseCryptoAttribute(
//       "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4");
//   auto srtp = sb::rtp::SrtpSession::Create(Direction::kInbound, crypto->suite, crypto->key());
//
//   // answering: our own key from a CSPRNG (the caller's), same tag and suite as the offer
//   auto ours = sb::rtp::MakeCrypto(crypto->tag, crypto->suite, random_bytes_of_key_length);
//   sdp.AddAttribute("crypto", sb::rtp::FormatCryptoAttribute(*ours));
//
// Implements §9.1 (the attribute grammar) with one key-param (§6.1 allows several, each with an
// MKI, for re-keying: a first key without MKI is what SIP phones send) and the SRTP suites of
// §6.2.1 (AES_CM_128_HMAC_SHA1_80/32) and RFC 7714 §14.2 (AEAD_AES_128_GCM). Session
// parameters (UNENCRYPTED_SRTP, KDR=, ...) are kept as text; unknown ones make the offer
// unacceptable only to the caller that checks them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::rtp {

enum class CryptoSuite {
  kAesCm128HmacSha1_80,  // 16-byte key, 14-byte salt, 80-bit tag (SRTCP 80 too)
  kAesCm128HmacSha1_32,  // as above, 32-bit SRTP tag (SRTCP keeps 80, RFC 4568 §6.2.1)
  kAeadAes128Gcm,        // 16-byte key, 12-byte salt, 128-bit tag (RFC 7714)
};

std::string_view CryptoSuiteName(CryptoSuite suite);
Result<CryptoSuite> CryptoSuiteFromName(std::string_view name);
// Master key plus master salt, in bytes: 30 for AES-CM, 28 for GCM.
size_t KeySaltLength(CryptoSuite suite);

inline constexpr size_t kMaxKeySaltLength = 30;

struct SdesCrypto {
  int tag = 1;  // 1..999999999, echoed by the answer (§5.1)
  CryptoSuite suite = CryptoSuite::kAesCm128HmacSha1_80;
  std::array<uint8_t, kMaxKeySaltLength> key_salt{};
  uint64_t lifetime = 0;  // packets; 0 when absent (the suite's default, 2^48 / 2^31)
  uint32_t mki_value = 0;
  uint8_t mki_length = 0;  // bytes; 0 when there is no MKI
  std::string session_params;

  std::span<const uint8_t> key() const { return std::span(key_salt).first(KeySaltLength(suite)); }
};

// Accepts the attribute value with or without the "a=crypto:" / "crypto:" prefix.
Result<SdesCrypto> ParseCryptoAttribute(std::string_view value);
// "<tag> <suite> inline:<base64>[|lifetime][|mki:len][ <session params>]", the value of a=crypto.
std::string FormatCryptoAttribute(const SdesCrypto& crypto);
// "inline:<base64>[|lifetime][|mki:len]": the key-params field alone (§9.1), for SDP code that
// writes the tag and suite of the attribute itself.
std::string FormatKeyParams(const SdesCrypto& crypto);
// A crypto line for our own key: key_salt must be exactly KeySaltLength(suite) random bytes.
Result<SdesCrypto> MakeCrypto(int tag, CryptoSuite suite, std::span<const uint8_t> key_salt);

}  // namespace sb::rtp
