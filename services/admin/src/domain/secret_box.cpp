#include "domain/secret_box.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "switchboard/core/hex.h"

namespace sb::admin {
namespace {

constexpr std::string_view kPrefix = "v1:";
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool FromHex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigit(hex[i]);
    const int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<SecretBox> SecretBox::FromHexKey(std::string_view hex) {
  std::string key;
  if (hex.size() != 64 || !FromHex(hex, key)) {
    return Status::InvalidArgument(
        "SB_ADMIN_SECRET_KEY must be 64 hex digits (a 32-byte AES-256-GCM key, e.g. from "
        "`openssl rand -hex 32`)",
        "SB_ADMIN_SECRET_KEY");
  }
  SecretBox box;
  std::copy(key.begin(), key.end(), box.key_.begin());
  return box;
}

bool SecretBox::IsSealed(std::string_view value) {
  return value.substr(0, kPrefix.size()) == kPrefix;
}

Result<std::string> SecretBox::Seal(std::string_view plaintext, std::string_view associated) const {
  unsigned char nonce[kNonce];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) return Status::Internal("no random bytes for a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  std::copy(nonce, nonce + kNonce, o);
  int len = 0;
  int total = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonce, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return Status::Internal("AES-256-GCM encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), o + kNonce + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + plaintext.size()) !=
          1) {
    return Status::Internal("AES-256-GCM encryption failed");
  }
  return std::string(kPrefix) + core::ToHex({o, out.size()});
}

Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view associated) const {
  std::string raw;
  if (!IsSealed(sealed) || !FromHex(sealed.substr(kPrefix.size()), raw) ||
      raw.size() < kNonce + kTag) {
    return Status::FailedPrecondition("stored secret is not in the sealed form");
  }
  const auto* r = Bytes(raw);
  const size_t n = raw.size() - kNonce - kTag;
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  std::array<unsigned char, kTag> tag{};
  std::copy(r + kNonce + n, r + raw.size(), tag.begin());
  const bool ok = ctx &&
                  EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), r) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(associated),
                                    static_cast<int>(associated.size())) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), o, &len, r + kNonce, static_cast<int>(n)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
                  EVP_DecryptFinal_ex(ctx.get(), o + len, &len) == 1;
  if (!ok) {
    return Status::FailedPrecondition(
        "stored secret does not open with SB_ADMIN_SECRET_KEY (another key, or tampered)");
  }
  return out;
}

}  // namespace sb::admin
