#include "switchboard/sip/digest.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>

#include "auth_params.h"
#include "ext_value.h"
#include "switchboard/core/hex.h"

namespace sb::sip {
namespace {

// Fetched once: OpenSSL 3 looks a built-in EVP_md5() up in its provider store again on every
// digest, which cost more than the hashing of these short strings.
const EVP_MD* Fetched(const char* name, const EVP_MD* built_in) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md != nullptr ? md : built_in;
}

const EVP_MD* Md(DigestAlgorithm algorithm) {
  static const EVP_MD* const md5 = Fetched("MD5", EVP_md5());
  static const EVP_MD* const sha256 = Fetched("SHA2-256", EVP_sha256());
  static const EVP_MD* const sha512_256 = Fetched("SHA2-512/256", EVP_sha512_256());
  switch (BaseAlgorithm(algorithm)) {
    case DigestAlgorithm::kSha256:
      return sha256;
    case DigestAlgorithm::kSha512_256:
      return sha512_256;
    default:
      return md5;
  }
}

std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto p : parts) {
    if (!first) out += ':';
    out.append(p);
    first = false;
  }
  return out;
}

}  // namespace

std::string_view AlgorithmName(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5:
      return "MD5";
    case DigestAlgorithm::kMd5Sess:
      return "MD5-sess";
    case DigestAlgorithm::kSha256:
      return "SHA-256";
    case DigestAlgorithm::kSha256Sess:
      return "SHA-256-sess";
    case DigestAlgorithm::kSha512_256:
      return "SHA-512-256";
    case DigestAlgorithm::kSha512_256Sess:
      return "SHA-512-256-sess";
  }
  return "MD5";
}

std::optional<DigestAlgorithm> ParseAlgorithm(std::string_view name) {
  for (auto a : {DigestAlgorithm::kMd5, DigestAlgorithm::kMd5Sess, DigestAlgorithm::kSha256,
                 DigestAlgorithm::kSha256Sess, DigestAlgorithm::kSha512_256,
                 DigestAlgorithm::kSha512_256Sess}) {
    if (internal::EqualsIgnoreCase(AlgorithmName(a), name)) return a;
  }
  return std::nullopt;
}

bool IsSessionAlgorithm(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5Sess || algorithm == DigestAlgorithm::kSha256Sess ||
         algorithm == DigestAlgorithm::kSha512_256Sess;
}

DigestAlgorithm BaseAlgorithm(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5Sess:
      return DigestAlgorithm::kMd5;
    case DigestAlgorithm::kSha256Sess:
      return DigestAlgorithm::kSha256;
    case DigestAlgorithm::kSha512_256Sess:
      return DigestAlgorithm::kSha512_256;
    default:
      return algorithm;
  }
}

std::string_view QopName(Qop qop) { return qop == Qop::kAuthInt ? "auth-int" : "auth"; }

std::string DigestHash(DigestAlgorithm algorithm, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  // EVP_Digest only fails on allocation failure; an empty hash then fails every comparison.
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, Md(algorithm), nullptr) != 1) {
    return {};
  }
  return core::ToHex({out.data(), size});
}

std::string ComputeHa1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                       std::string_view password) {
  return DigestHash(algorithm, Join({username, realm, password}));
}

std::string ComputeUserhash(DigestAlgorithm algorithm, std::string_view username,
                            std::string_view realm) {
  return DigestHash(BaseAlgorithm(algorithm), Join({username, realm}));
}

std::string ComputeResponse(std::string_view ha1, const DigestResponseInput& in) {
  std::string session_ha1;
  if (IsSessionAlgorithm(in.algorithm)) {
    session_ha1 = DigestHash(in.algorithm, Join({ha1, in.nonce, in.cnonce}));
    ha1 = session_ha1;
  }
  std::string ha2 =
      in.qop == Qop::kAuthInt
          ? DigestHash(in.algorithm, Join({in.method, in.uri, DigestHash(in.algorithm, in.body)}))
          : DigestHash(in.algorithm, Join({in.method, in.uri}));
  if (!in.qop) return DigestHash(in.algorithm, Join({ha1, in.nonce, ha2}));
  return DigestHash(in.algorithm, Join({ha1, in.nonce, in.nc, in.cnonce, QopName(*in.qop), ha2}));
}

std::string FormatChallenge(const DigestChallenge& c) {
  std::string out = "Digest realm=" + internal::Quote(c.realm);
  if (c.domain) out += ", domain=" + internal::Quote(*c.domain);
  out += ", nonce=" + internal::Quote(c.nonce);
  if (c.opaque) out += ", opaque=" + internal::Quote(*c.opaque);
  if (c.stale) out += ", stale=TRUE";
  out += ", algorithm=";
  out += AlgorithmName(c.algorithm);
  if (!c.qop.empty()) {
    std::string qop;
    for (Qop q : c.qop) {
      if (!qop.empty()) qop += ',';
      qop += QopName(q);
    }
    out += ", qop=" + internal::Quote(qop);
  }
  if (c.userhash) out += ", userhash=true";
  return out;
}

std::string FormatCredentials(const DigestCredentials& c) {
  std::string out = c.username_encoded ? "Digest username*=" + internal::EncodeExtValue(c.username)
                                       : "Digest username=" + internal::Quote(c.username);
  out += ", realm=" + internal::Quote(c.realm);
  out += ", nonce=" + internal::Quote(c.nonce);
  out += ", uri=" + internal::Quote(c.uri);
  out += ", response=" + internal::Quote(c.response);
  if (c.algorithm) out += ", algorithm=" + *c.algorithm;
  if (c.cnonce) out += ", cnonce=" + internal::Quote(*c.cnonce);
  if (c.opaque) out += ", opaque=" + internal::Quote(*c.opaque);
  // qop and nc are tokens, never quoted (RFC 7616 §3.4; some servers reject quoted ones).
  if (c.qop) out += ", qop=" + *c.qop;
  if (c.nc) out += ", nc=" + *c.nc;
  if (c.userhash) out += ", userhash=true";
  return out;
}

Result<DigestChallenge> ParseChallenge(std::string_view value) {
  auto params = internal::ParseDigestParams(value);
  if (!params.ok()) return params.status();
  DigestChallenge c;
  bool have_realm = false, have_nonce = false;
  for (auto& [name, v] : *params) {
    if (internal::EqualsIgnoreCase(name, "realm")) {
      c.realm = std::move(v);
      have_realm = true;
    } else if (internal::EqualsIgnoreCase(name, "nonce")) {
      c.nonce = std::move(v);
      have_nonce = true;
    } else if (internal::EqualsIgnoreCase(name, "opaque")) {
      c.opaque = std::move(v);
    } else if (internal::EqualsIgnoreCase(name, "domain")) {
      c.domain = std::move(v);
    } else if (internal::EqualsIgnoreCase(name, "stale")) {
      c.stale = internal::EqualsIgnoreCase(v, "true");
    } else if (internal::EqualsIgnoreCase(name, "userhash")) {
      c.userhash = internal::EqualsIgnoreCase(v, "true");
    } else if (internal::EqualsIgnoreCase(name, "algorithm")) {
      auto a = ParseAlgorithm(v);
      if (!a) return Status::InvalidArgument("unsupported digest algorithm " + v, "algorithm");
      c.algorithm = *a;
    } else if (internal::EqualsIgnoreCase(name, "qop")) {
      for (auto option : internal::SplitList(v)) {
        if (internal::EqualsIgnoreCase(option, "auth")) c.qop.push_back(Qop::kAuth);
        if (internal::EqualsIgnoreCase(option, "auth-int")) c.qop.push_back(Qop::kAuthInt);
      }
    }
  }
  if (!have_realm || !have_nonce) {
    return Status::InvalidArgument("a digest challenge needs realm and nonce", "challenge");
  }
  return c;
}

Result<DigestCredentials> ParseCredentials(std::string_view value) {
  auto params = internal::ParseDigestParams(value);
  if (!params.ok()) return params.status();
  DigestCredentials c;
  bool have[5] = {false, false, false, false, false};
  for (auto& param : *params) {
    // Not a structured binding: clang 14 cannot capture those in a lambda.
    const std::string& name = param.first;
    std::string& v = param.second;
    auto is = [&](std::string_view n) { return internal::EqualsIgnoreCase(name, n); };
    if (is("username") || is("username*")) {
      if (have[0]) {
        return Status::InvalidArgument(
            "digest credentials name the user twice (username, username*)", "authorization");
      }
      if (is("username*")) {
        auto decoded = internal::DecodeExtValue(v);
        if (!decoded.ok()) return decoded.status();
        c.username = *std::move(decoded);
        c.username_encoded = true;
      } else {
        c.username = std::move(v);
      }
      have[0] = true;
    } else if (is("realm")) {
      c.realm = std::move(v);
      have[1] = true;
    } else if (is("nonce")) {
      c.nonce = std::move(v);
      have[2] = true;
    } else if (is("uri")) {
      c.uri = std::move(v);
      have[3] = true;
    } else if (is("response")) {
      c.response = std::move(v);
      have[4] = true;
    } else if (is("algorithm")) {
      c.algorithm = std::move(v);
    } else if (is("cnonce")) {
      c.cnonce = std::move(v);
    } else if (is("opaque")) {
      c.opaque = std::move(v);
    } else if (is("qop")) {
      c.qop = std::move(v);
    } else if (is("nc")) {
      c.nc = std::move(v);
    } else if (is("userhash")) {
      c.userhash = internal::EqualsIgnoreCase(v, "true");
    }
  }
  // These are written back unquoted (FormatCredentials), so they must be tokens: a quoted
  // "auth, auth-int" would otherwise come back as two parameters.
  for (const auto* token : {&c.algorithm, &c.qop, &c.nc}) {
    if (*token && !internal::IsStrictToken(**token)) {
      return Status::InvalidArgument("digest qop, nc and algorithm must be tokens",
                                     "authorization");
    }
  }
  for (bool h : have) {
    if (!h) {
      return Status::InvalidArgument(
          "digest credentials need username, realm, nonce, uri and response", "authorization");
    }
  }
  return c;
}

std::optional<size_t> PreferredChallenge(const std::vector<DigestChallenge>& challenges) {
  auto strength = [](DigestAlgorithm a) {
    switch (BaseAlgorithm(a)) {
      case DigestAlgorithm::kSha512_256:
        return 3;
      case DigestAlgorithm::kSha256:
        return 2;
      default:
        return 1;
    }
  };
  std::optional<size_t> best;
  for (size_t i = 0; i < challenges.size(); ++i) {
    // Ties keep the server's order: it lists challenges in its preference (RFC 7616 §3.7).
    if (!best || strength(challenges[i].algorithm) > strength(challenges[*best].algorithm)) {
      best = i;
    }
  }
  return best;
}

Result<DigestCredentials> AnswerChallenge(const DigestChallenge& challenge,
                                          const DigestSecret& secret, std::string_view method,
                                          std::string_view uri, std::string_view body,
                                          std::string_view cnonce, uint32_t nc) {
  if (secret.password.empty() && secret.ha1.empty()) {
    return Status::InvalidArgument("no password or HA1 to answer the challenge with", "secret");
  }
  std::optional<Qop> qop;
  for (Qop q : challenge.qop) {
    if (q == Qop::kAuth) qop = Qop::kAuth;
  }
  if (!qop && !challenge.qop.empty()) qop = Qop::kAuthInt;
  if (qop && cnonce.empty()) return Status::InvalidArgument("qop needs a cnonce", "cnonce");

  char nc_text[9];
  std::snprintf(nc_text, sizeof nc_text, "%08x", nc);
  std::string ha1 = secret.ha1.empty() ? ComputeHa1(challenge.algorithm, secret.username,
                                                    challenge.realm, secret.password)
                                       : secret.ha1;
  DigestResponseInput input;
  input.algorithm = challenge.algorithm;
  input.method = method;
  input.uri = uri;
  input.nonce = challenge.nonce;
  input.cnonce = cnonce;
  input.nc = nc_text;
  input.qop = qop;
  input.body = body;

  DigestCredentials c;
  if (challenge.userhash) {
    c.username = ComputeUserhash(challenge.algorithm, secret.username, challenge.realm);
    c.userhash = true;
  } else {
    c.username = secret.username;
  }
  c.realm = challenge.realm;
  c.nonce = challenge.nonce;
  c.uri = std::string(uri);
  c.response = ComputeResponse(ha1, input);
  c.algorithm = std::string(AlgorithmName(challenge.algorithm));
  c.opaque = challenge.opaque;
  if (qop) {
    c.cnonce = std::string(cnonce);
    c.qop = std::string(QopName(*qop));
    c.nc = nc_text;
  }
  return c;
}

}  // namespace sb::sip
