// Digest authentication for SIP (RFC 2617, RFC 7616, RFC 8760): the hashes, the header values
// and the client side. The stateless server with expiring, replay-proof nonces is in
// digest_server.h.
//
//   // Provisioning, once per password change: store these, never the password.
//   std::string ha1_md5 = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, user, realm, pw);
//   std::string ha1_sha = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, user, realm, pw);
//
//   // Client (a B2BUA authenticating to a trunk), from a 401's WWW-Authenticate value:
//   auto challenge = sb::sip::ParseChallenge(www_authenticate);
//   auto credentials = sb::sip::AnswerChallenge(*challenge, {user, password}, "INVITE",
//                                               "sip:bob@trunk.example", body, cnonce, 1);
//   request.SetHeader("Authorization", sb::sip::FormatCredentials(*credentials));
//
// All hashes are lowercase hex, as the RFCs' examples. The algorithms: MD5 and SHA-256 (RFC 8760
// §2.2 makes SHA-256 the SIP default to prefer), SHA-512-256 (RFC 7616 §3.2), and each one's
// "-sess" variant (RFC 7616 §3.4.2: H(HA1:nonce:cnonce), computable from a stored HA1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::sip {

enum class DigestAlgorithm { kMd5, kMd5Sess, kSha256, kSha256Sess, kSha512_256, kSha512_256Sess };

// "MD5", "MD5-sess", "SHA-256", ... as written in the algorithm parameter.
std::string_view AlgorithmName(DigestAlgorithm algorithm);
// Case-insensitive (RFC 7616 §3.3: the token is case-insensitive).
std::optional<DigestAlgorithm> ParseAlgorithm(std::string_view name);
bool IsSessionAlgorithm(DigestAlgorithm algorithm);
// The algorithm of the HA1 to store for `algorithm` (the -sess variants use the plain one's).
DigestAlgorithm BaseAlgorithm(DigestAlgorithm algorithm);

enum class Qop { kAuth, kAuthInt };
std::string_view QopName(Qop qop);

// H(data) as lowercase hex.
std::string DigestHash(DigestAlgorithm algorithm, std::string_view data);
// HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2), what the admin service stores per
// extension and algorithm. For a -sess algorithm this is still the plain H(A1) to store.
std::string ComputeHa1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                       std::string_view password);

// RFC 7616 §3.4.4: the hashed username a client sends when the challenge says userhash=true,
// H(username ":" realm) with the algorithm's hash (the -sess variants hash like their base). A
// server that offers userhash keeps this value per user to find the account; the response is
// still computed from the HA1 of the plain username.
std::string ComputeUserhash(DigestAlgorithm algorithm, std::string_view username,
                            std::string_view realm);

// The inputs of one response computation (RFC 7616 §3.4.1). nc is the 8-hex-digit string
// exactly as sent ("00000001"); qop absent means the RFC 2069 form H(HA1:nonce:HA2).
struct DigestResponseInput {
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  std::string_view method;
  std::string_view uri;
  std::string_view nonce;
  std::string_view cnonce;
  std::string_view nc;
  std::optional<Qop> qop;
  std::string_view body;  // used by auth-int only
};
// The request-digest from a stored HA1 (plain, not yet the -sess form).
std::string ComputeResponse(std::string_view ha1, const DigestResponseInput& input);

// A WWW-Authenticate / Proxy-Authenticate value.
struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::optional<std::string> opaque;
  std::optional<std::string> domain;
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  std::vector<Qop> qop;  // empty: no qop parameter (RFC 2069 compatibility)
  bool stale = false;
  bool userhash = false;  // RFC 7616 §3.3: the server accepts hashed usernames
};

// An Authorization / Proxy-Authorization value.
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::optional<std::string> algorithm;  // as written; absent means MD5 (RFC 7616 §3.3)
  std::optional<std::string> cnonce;
  std::optional<std::string> opaque;
  std::optional<std::string> qop;
  std::optional<std::string> nc;
  bool userhash = false;  // RFC 7616 §3.4: `username` is ComputeUserhash(...), not the name
  // RFC 7616 §3.4: the name came as username* (an RFC 8187 ext-value such as
  // UTF-8''J%C3%A4s%C3%B8n%20Doe), decoded into `username`; FormatCredentials writes it back so.
  bool username_encoded = false;
};

// "Digest realm=\"...\", nonce=\"...\", ..." ready to be a header value.
std::string FormatChallenge(const DigestChallenge& challenge);
std::string FormatCredentials(const DigestCredentials& credentials);
// Scheme "Digest" (any case), then comma-separated auth-params with token or quoted-string
// values (quoted pairs unescaped). Unknown parameters are ignored (RFC 7616 §3.3 / §3.4).
// Credentials with username* get the decoded UTF-8 name in `username` (only the UTF-8 charset
// is accepted); username and username* together are an error (RFC 7616 §3.4).
Result<DigestChallenge> ParseChallenge(std::string_view value);
Result<DigestCredentials> ParseCredentials(std::string_view value);

// RFC 8760 §2.4: when a server offers several challenges, use the strongest we support.
// Returns the index into `challenges`, or nullopt when it is empty.
std::optional<size_t> PreferredChallenge(const std::vector<DigestChallenge>& challenges);

struct DigestSecret {
  std::string username;
  std::string password;  // or leave empty and set ha1 (for the challenge's algorithm)
  std::string ha1;
};

// The client's answer to a challenge: qop auth when offered (auth-int when that is the only one),
// nc as 8 hex digits, the challenge's opaque echoed; the username hashed when the challenge asks
// for userhash. cnonce comes from the caller's random source.
Result<DigestCredentials> AnswerChallenge(const DigestChallenge& challenge,
                                          const DigestSecret& secret, std::string_view method,
                                          std::string_view uri, std::string_view body,
                                          std::string_view cnonce, uint32_t nc);

}  // namespace sb::sip
