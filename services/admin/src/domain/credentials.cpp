#include "domain/credentials.h"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>

#include "switchboard/core/ascii.h"
#include "switchboard/core/hex.h"

namespace sb::admin {
namespace {

constexpr std::string_view kKeyScheme = "sbk_";
constexpr size_t kSecretBytes = 32;
constexpr size_t kEncodedSecretChars = 43;  // 32 bytes in unpadded base64url
constexpr size_t kPrefixSecretChars = 8;

std::string DigestHex(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest cannot fail for these built-in digests short of memory exhaustion; an empty
  // string then would silently be an unusable credential, so abort instead.
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) std::abort();
  return core::ToHex({out, len});
}

bool IsBase64Url(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string Base64Url(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = bytes[i] << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return DigestHex(EVP_sha256(), data); }

NewApiKey GenerateApiKey(core::RandomSource& random) {
  std::array<uint8_t, kSecretBytes> bytes{};
  random.Fill(bytes);
  NewApiKey key;
  key.secret = std::string(kKeyScheme) + Base64Url(bytes);
  key.prefix = key.secret.substr(0, kKeyScheme.size() + kPrefixSecretChars);
  key.hash = HashApiKey(key.secret);
  return key;
}

std::string HashApiKey(std::string_view secret) { return Sha256Hex(secret); }

bool LooksLikeApiKey(std::string_view secret) {
  if (secret.size() != kKeyScheme.size() + kEncodedSecretChars) return false;
  if (secret.substr(0, kKeyScheme.size()) != kKeyScheme) return false;
  for (char c : secret.substr(kKeyScheme.size())) {
    if (!IsBase64Url(c)) return false;
  }
  return true;
}

Result<std::string> ParseBearer(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return Status::Unauthenticated("missing API key: send 'authorization: Bearer <key>'");
  }
  if (!core::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return Status::Unauthenticated("authorization must be 'Bearer <key>'");
  }
  std::string_view key = authorization.substr(kScheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (!LooksLikeApiKey(key)) return Status::Unauthenticated("invalid API key");
  return std::string(key);
}

}  // namespace sb::admin
