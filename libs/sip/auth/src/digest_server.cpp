#include "switchboard/sip/digest_server.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "auth_params.h"

namespace sb::sip {
namespace {

// Milliseconds since the epoch fit 48 bits until the year 10889.
constexpr size_t kTimestampBytes = 6;
constexpr size_t kIssuerBytes = 6;
constexpr size_t kSerialBytes = 4;
constexpr size_t kBodyBytes = kTimestampBytes + kIssuerBytes + kSerialBytes;
constexpr size_t kTagBytes = 16;  // HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows it)
constexpr size_t kNonceBytes = kBodyBytes + kTagBytes;
// Replicas' clocks differ a little; a nonce from slightly in the future is still ours.
constexpr std::chrono::seconds kClockSkew{5};

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::span<const uint8_t> in) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kBase64Url[(v >> s) & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    if (rest == 2) out += kBase64Url[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::vector<uint8_t>> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* at = std::strchr(kBase64Url, c);
    if (c == '\0' || at == nullptr) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(at - kBase64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

}  // namespace

// RFC 2104 HMAC with the key's inner and outer pads hashed once, at start: a tag then costs two
// copies of a keyed SHA-256 state and two short hashes, where HMAC() would key (and look the
// algorithm up) again for every nonce made or checked.
class NonceMac {
 public:
  explicit NonceMac(std::string_view secret)
      : md_(EVP_MD_fetch(nullptr, "SHA2-256", nullptr)),
        inner_(EVP_MD_CTX_new()),
        outer_(EVP_MD_CTX_new()) {
    constexpr size_t kBlock = 64;
    std::array<uint8_t, kBlock> key{};
    if (secret.size() > kBlock) {
      unsigned int size = 0;
      EVP_Digest(secret.data(), secret.size(), key.data(), &size, md_, nullptr);
    } else {
      std::memcpy(key.data(), secret.data(), secret.size());
    }
    std::array<uint8_t, kBlock> ipad{}, opad{};
    for (size_t i = 0; i < kBlock; ++i) {
      ipad[i] = key[i] ^ 0x36;
      opad[i] = key[i] ^ 0x5c;
    }
    // These fail only when memory runs out or SHA-256 is missing: nothing could be signed.
    if (md_ == nullptr || !inner_ || !outer_ ||
        EVP_DigestInit_ex2(inner_.get(), md_, nullptr) != 1 ||
        EVP_DigestUpdate(inner_.get(), ipad.data(), kBlock) != 1 ||
        EVP_DigestInit_ex2(outer_.get(), md_, nullptr) != 1 ||
        EVP_DigestUpdate(outer_.get(), opad.data(), kBlock) != 1) {
      std::abort();
    }
    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(ipad.data(), ipad.size());
    OPENSSL_cleanse(opad.data(), opad.size());
  }
  ~NonceMac() { EVP_MD_free(md_); }
  NonceMac(const NonceMac&) = delete;
  NonceMac& operator=(const NonceMac&) = delete;

  // Truncated to kTagBytes (RFC 2104 §5 allows it). Thread-safe: the keyed states are only read.
  std::array<uint8_t, kTagBytes> Tag(std::span<const uint8_t> body, std::string_view realm) const {
    thread_local MdCtx ctx(EVP_MD_CTX_new());
    std::array<uint8_t, EVP_MAX_MD_SIZE> inner{};
    std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned int inner_size = 0;
    unsigned int size = 0;
    if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), inner_.get()) != 1 ||
        EVP_DigestUpdate(ctx.get(), body.data(), body.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), realm.data(), realm.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), inner.data(), &inner_size) != 1 ||
        EVP_MD_CTX_copy_ex(ctx.get(), outer_.get()) != 1 ||
        EVP_DigestUpdate(ctx.get(), inner.data(), inner_size) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), mac.data(), &size) != 1) {
      std::abort();  // out of memory: no tag can be trusted
    }
    std::array<uint8_t, kTagBytes> tag{};
    std::memcpy(tag.data(), mac.data(), kTagBytes);
    return tag;
  }

 private:
  EVP_MD* md_;
  MdCtx inner_;
  MdCtx outer_;
};

namespace {

int64_t WallMillis(core::Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::optional<uint32_t> ParseNc(std::string_view nc) {
  if (nc.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : nc) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return v;
}

bool ConstantTimeEqualsIgnoreCase(std::string_view expected, std::string_view given) {
  if (expected.size() != given.size()) return false;
  std::string lowered(given);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return CRYPTO_memcmp(expected.data(), lowered.data(), expected.size()) == 0;
}

}  // namespace

std::string_view DigestVerdictName(DigestVerdict verdict) {
  switch (verdict) {
    case DigestVerdict::kOk:
      return "ok";
    case DigestVerdict::kStale:
      return "stale";
    case DigestVerdict::kWrongResponse:
      return "wrong_response";
    case DigestVerdict::kBadNonce:
      return "bad_nonce";
    case DigestVerdict::kWrongRealm:
      return "wrong_realm";
    case DigestVerdict::kWrongUri:
      return "wrong_uri";
    case DigestVerdict::kUnsupported:
      return "unsupported";
    case DigestVerdict::kMalformed:
      return "malformed";
  }
  return "malformed";
}

DigestServer::DigestServer(const core::Clock& clock, core::RandomSource& random,
                           DigestServerOptions options)
    : clock_(clock),
      options_(std::move(options)),
      mac_(std::make_shared<const NonceMac>(options_.secret)),
      ledger_(options_.nonce_slots) {
  random.Fill(issuer_);
}

namespace {

// The low out.size() bytes of `value`, big-endian.
void PutBigEndian(uint64_t value, std::span<uint8_t> out) {
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(value >> (8 * (out.size() - 1 - i)));
  }
}

uint64_t GetBigEndian(std::span<const uint8_t> in) {
  uint64_t value = 0;
  for (uint8_t b : in) value = (value << 8) | b;
  return value;
}

}  // namespace

std::string DigestServer::MakeNonce(std::string_view realm) const {
  std::array<uint8_t, kNonceBytes> nonce{};
  const std::span<uint8_t> bytes(nonce);
  PutBigEndian(static_cast<uint64_t>(WallMillis(clock_.WallNow())), bytes.first(kTimestampBytes));
  std::memcpy(nonce.data() + kTimestampBytes, issuer_.data(), kIssuerBytes);
  PutBigEndian(ledger_.Issue(), bytes.subspan(kTimestampBytes + kIssuerBytes, kSerialBytes));
  auto tag = mac_->Tag(bytes.first(kBodyBytes), realm);
  std::memcpy(nonce.data() + kBodyBytes, tag.data(), kTagBytes);
  return Base64UrlEncode(nonce);
}

DigestChallenge DigestServer::Challenge(std::string_view realm, DigestAlgorithm algorithm,
                                        bool stale) const {
  DigestChallenge c;
  c.realm = std::string(realm);
  c.nonce = MakeNonce(realm);
  c.algorithm = algorithm;
  c.qop = options_.qop;
  c.stale = stale;
  c.userhash = options_.userhash;
  return c;
}

DigestServer::Nonce DigestServer::CheckNonce(std::string_view nonce, std::string_view realm) const {
  Nonce out;
  auto bytes = Base64UrlDecode(nonce);
  if (!bytes || bytes->size() != kNonceBytes) return out;
  const std::span<const uint8_t> nonce_bytes(*bytes);
  auto tag = mac_->Tag(nonce_bytes.first(kBodyBytes), realm);
  if (CRYPTO_memcmp(tag.data(), bytes->data() + kBodyBytes, kTagBytes) != 0) return out;
  const auto issued =
      core::Clock::WallTime(std::chrono::duration_cast<core::Clock::WallTime::duration>(
          std::chrono::milliseconds(GetBigEndian(nonce_bytes.first(kTimestampBytes)))));
  const auto now = clock_.WallNow();
  if (issued > now + kClockSkew) return out;
  out.state = now > issued + options_.nonce_lifetime ? NonceState::kExpired : NonceState::kValid;
  out.ours = std::memcmp(bytes->data() + kTimestampBytes, issuer_.data(), kIssuerBytes) == 0;
  out.serial = static_cast<uint32_t>(
      GetBigEndian(nonce_bytes.subspan(kTimestampBytes + kIssuerBytes, kSerialBytes)));
  return out;
}

DigestVerdict DigestServer::Verify(const DigestCredentials& c, std::string_view realm,
                                   std::string_view method, std::string_view request_uri,
                                   std::string_view body, std::string_view ha1) const {
  if (c.realm != realm) return DigestVerdict::kWrongRealm;
  auto algorithm = c.algorithm ? ParseAlgorithm(*c.algorithm) : DigestAlgorithm::kMd5;
  if (!algorithm) return DigestVerdict::kUnsupported;

  DigestResponseInput input;
  input.algorithm = *algorithm;
  input.method = method;
  input.uri = c.uri;
  input.nonce = c.nonce;
  input.body = body;
  uint32_t nc = 1;
  if (c.qop) {
    std::optional<Qop> qop;
    if (internal::EqualsIgnoreCase(*c.qop, "auth")) qop = Qop::kAuth;
    if (internal::EqualsIgnoreCase(*c.qop, "auth-int")) qop = Qop::kAuthInt;
    bool offered = false;
    for (Qop q : options_.qop) offered = offered || (qop && q == *qop);
    if (!offered) return DigestVerdict::kUnsupported;
    if (!c.cnonce || c.cnonce->empty() || !c.nc) return DigestVerdict::kMalformed;
    auto parsed_nc = ParseNc(*c.nc);
    if (!parsed_nc || *parsed_nc == 0) return DigestVerdict::kMalformed;
    nc = *parsed_nc;
    input.qop = qop;
    input.cnonce = *c.cnonce;
    input.nc = *c.nc;
  } else {
    if (!options_.allow_no_qop) return DigestVerdict::kUnsupported;
    if (IsSessionAlgorithm(*algorithm)) {
      if (!c.cnonce) return DigestVerdict::kMalformed;
      input.cnonce = *c.cnonce;
    }
  }
  if (!request_uri.empty() && c.uri != request_uri) return DigestVerdict::kWrongUri;

  const Nonce nonce = CheckNonce(c.nonce, realm);
  if (nonce.state == NonceState::kInvalid) return DigestVerdict::kBadNonce;
  // The response is checked before the nonce count is spent, so a wrong password cannot burn
  // counts of the legitimate client's nonce.
  if (!ConstantTimeEqualsIgnoreCase(ComputeResponse(ha1, input), c.response)) {
    return DigestVerdict::kWrongResponse;
  }
  if (nonce.state == NonceState::kExpired || !nonce.ours) return DigestVerdict::kStale;
  return ledger_.Accept(nonce.serial, nc) ? DigestVerdict::kOk : DigestVerdict::kStale;
}

}  // namespace sb::sip
