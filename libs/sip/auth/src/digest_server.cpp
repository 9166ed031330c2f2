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

constexpr size_t kTimestampBytes = 8;
constexpr size_t kRandomBytes = 8;
constexpr size_t kTagBytes = 16;  // HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows it)
constexpr size_t kNonceBytes = kTimestampBytes + kRandomBytes + kTagBytes;
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

Result<bool> InMemoryNonceCountTracker::Accept(std::string_view nonce, uint32_t nc,
                                               core::Clock::WallTime expires) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(nonce);
  if (it != entries_.end()) {
    if (nc <= it->second.highest_nc) return false;
    it->second.highest_nc = nc;
    return true;
  }
  if (entries_.size() >= max_nonces_) PurgeExpiredLocked();
  if (entries_.size() >= max_nonces_) {
    return Status::ResourceExhausted("nonce count tracker is full");
  }
  entries_.emplace(std::string(nonce), Entry{nc, expires});
  return true;
}

size_t InMemoryNonceCountTracker::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void InMemoryNonceCountTracker::PurgeExpiredLocked() {
  auto now = clock_.WallNow();
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.expires < now ? entries_.erase(it) : std::next(it);
  }
}

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
                           NonceCountTracker& counts, DigestServerOptions options)
    : clock_(clock),
      random_(random),
      counts_(counts),
      options_(std::move(options)),
      mac_(std::make_shared<const NonceMac>(options_.secret)) {}

std::string DigestServer::MakeNonce(std::string_view realm) const {
  std::array<uint8_t, kNonceBytes> nonce{};
  uint64_t ms = static_cast<uint64_t>(WallMillis(clock_.WallNow()));
  for (size_t i = 0; i < kTimestampBytes; ++i) {
    nonce[i] = static_cast<uint8_t>(ms >> (8 * (kTimestampBytes - 1 - i)));
  }
  random_.Fill(std::span(nonce).subspan(kTimestampBytes, kRandomBytes));
  auto tag = mac_->Tag(std::span(nonce).first(kTimestampBytes + kRandomBytes), realm);
  std::memcpy(nonce.data() + kTimestampBytes + kRandomBytes, tag.data(), kTagBytes);
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

DigestServer::NonceState DigestServer::CheckNonce(std::string_view nonce, std::string_view realm,
                                                  core::Clock::WallTime* expires) const {
  auto bytes = Base64UrlDecode(nonce);
  if (!bytes || bytes->size() != kNonceBytes) return NonceState::kInvalid;
  auto body = std::span<const uint8_t>(*bytes).first(kTimestampBytes + kRandomBytes);
  auto tag = mac_->Tag(body, realm);
  if (CRYPTO_memcmp(tag.data(), bytes->data() + kTimestampBytes + kRandomBytes, kTagBytes) != 0) {
    return NonceState::kInvalid;
  }
  uint64_t ms = 0;
  for (size_t i = 0; i < kTimestampBytes; ++i) ms = (ms << 8) | (*bytes)[i];
  auto issued = core::Clock::WallTime(
      std::chrono::duration_cast<core::Clock::WallTime::duration>(std::chrono::milliseconds(ms)));
  *expires = issued + options_.nonce_lifetime;
  auto now = clock_.WallNow();
  if (issued > now + kClockSkew) return NonceState::kInvalid;
  if (now > *expires) return NonceState::kExpired;
  return NonceState::kValid;
}

Result<DigestVerdict> DigestServer::Verify(const DigestCredentials& c, std::string_view realm,
                                           std::string_view method, std::string_view request_uri,
                                           std::string_view body, std::string_view ha1) const {
  DigestCheck checked = Check(c, realm, method, request_uri, body, ha1);
  if (!checked.nonce_use) return checked.verdict;
  auto fresh = AcceptNonceCount(*checked.nonce_use);
  if (!fresh.ok()) return fresh.status();
  return AfterNonceCount(*fresh);
}

DigestCheck DigestServer::Check(const DigestCredentials& c, std::string_view realm,
                                std::string_view method, std::string_view request_uri,
                                std::string_view body, std::string_view ha1) const {
  const auto final_verdict = [](DigestVerdict v) { return DigestCheck{v, std::nullopt}; };
  if (c.realm != realm) return final_verdict(DigestVerdict::kWrongRealm);
  auto algorithm = c.algorithm ? ParseAlgorithm(*c.algorithm) : DigestAlgorithm::kMd5;
  if (!algorithm) return final_verdict(DigestVerdict::kUnsupported);

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
    if (!offered) return final_verdict(DigestVerdict::kUnsupported);
    if (!c.cnonce || c.cnonce->empty() || !c.nc) return final_verdict(DigestVerdict::kMalformed);
    auto parsed_nc = ParseNc(*c.nc);
    if (!parsed_nc || *parsed_nc == 0) return final_verdict(DigestVerdict::kMalformed);
    nc = *parsed_nc;
    input.qop = qop;
    input.cnonce = *c.cnonce;
    input.nc = *c.nc;
  } else {
    if (!options_.allow_no_qop) return final_verdict(DigestVerdict::kUnsupported);
    if (IsSessionAlgorithm(*algorithm)) {
      if (!c.cnonce) return final_verdict(DigestVerdict::kMalformed);
      input.cnonce = *c.cnonce;
    }
  }
  if (!request_uri.empty() && c.uri != request_uri) return final_verdict(DigestVerdict::kWrongUri);

  core::Clock::WallTime expires{};
  NonceState state = CheckNonce(c.nonce, realm, &expires);
  if (state == NonceState::kInvalid) return final_verdict(DigestVerdict::kBadNonce);
  // The response is checked before the nonce count is spent, so a wrong password cannot burn
  // counts of the legitimate client's nonce.
  if (!ConstantTimeEqualsIgnoreCase(ComputeResponse(ha1, input), c.response)) {
    return final_verdict(DigestVerdict::kWrongResponse);
  }
  if (state == NonceState::kExpired) return final_verdict(DigestVerdict::kStale);
  return {DigestVerdict::kOk, NonceUse{.nonce = c.nonce, .nc = nc, .expires = expires}};
}

}  // namespace sb::sip
