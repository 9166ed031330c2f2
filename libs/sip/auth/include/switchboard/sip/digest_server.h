// The server side of digest authentication: challenges whose nonces are HMAC-signed over a
// timestamp, that expire, and that cannot be replayed (the nonce count of each nonce must grow,
// RFC 7616 §3.4 / §5.x "Replay Attacks").
//
//   sb::core::OpenSslRandom random;
//   sb::sip::DigestServerOptions options;
//   options.secret = shared_secret;                         // the same on every replica
//   sb::sip::DigestServer server(clock, random, options);
//
//   // No or bad credentials: 401 with server.Challenge(realm, ...), one per algorithm offered.
//   auto credentials = sb::sip::ParseCredentials(authorization_value);
//   std::string ha1 = LookUpHa1(tenant, credentials->username, algorithm);  // stored HA1
//   switch (server.Verify(*credentials, realm, "REGISTER", request_uri, body, ha1)) {
//     case DigestVerdict::kOk: ...; case DigestVerdict::kStale: ...  // challenge, stale=TRUE
//   }
//
// A nonce is good only at the server that issued it: its counts are in that server's memory (a
// NonceLedger), as in Kamailio, so verifying costs no store round trip. The balancer keeps a
// phone's requests on one replica (it hashes the Call-ID, which a client keeps when it answers a
// challenge, RFC 3261 §22.2); a nonce that reaches another replica, or the same one after a
// restart, carries another issuer, and its right answer earns a stale re-challenge (one round
// trip more, no new password prompt), never an acceptance that could repeat a count. The secret
// is still shared so that every replica can tell such a nonce (kStale) from a forged one
// (kBadNonce).
//
// Time: nonces carry wall-clock milliseconds (Clock::WallNow). Thread-safety: safe to share; the
// ledger is lock-free, and `random` is used only by the constructor.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/random.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/nonce_ledger.h"

namespace sb::sip {

struct DigestServerOptions {
  std::string secret;  // shared by every replica; at least 16 bytes
  std::chrono::seconds nonce_lifetime{300};
  // Nonces whose counts are remembered (NonceLedger): the lifetime's worth at 870 challenges a
  // second, in 2 MiB. Beyond, the oldest live nonces earn a stale re-challenge.
  size_t nonce_slots = size_t{1} << 18;
  std::vector<Qop> qop = {Qop::kAuth, Qop::kAuthInt};
  // RFC 2069 clients (no qop): allowed, but their nonce is then good for one request only,
  // since there is no nonce count to stop a replay.
  bool allow_no_qop = true;
  // RFC 7616 §3.3: challenges say userhash=true, so clients may send H(username:realm) instead
  // of the name (the caller then finds the account by that hash, see ComputeUserhash).
  bool userhash = false;
};

enum class DigestVerdict {
  kOk,
  kStale,          // right password, nonce expired, already used or not issued here: stale=TRUE
  kWrongResponse,  // wrong password (or HA1): 401/403
  kBadNonce,       // not signed with our secret for this realm (forged, truncated, other realm)
  kWrongRealm,
  kWrongUri,     // the uri parameter is not the Request-URI (RFC 7616 §3.4.6)
  kUnsupported,  // algorithm or qop we did not offer
  kMalformed,    // missing cnonce/nc with qop, nc not 8 hex digits
};
std::string_view DigestVerdictName(DigestVerdict verdict);

// HMAC-SHA256 under the nonce secret, keyed once (digest_server.cpp).
class NonceMac;

class DigestServer {
 public:
  DigestServer(const core::Clock& clock, core::RandomSource& random, DigestServerOptions options);

  // A fresh challenge for `realm`; stale marks a re-challenge after kStale (RFC 7616 §3.3).
  DigestChallenge Challenge(std::string_view realm, DigestAlgorithm algorithm,
                            bool stale = false) const;
  // A nonce for realm issued now: base64url(ms timestamp (6 bytes) | issuer (6) | serial (4) |
  // HMAC-SHA256 tag (16) over those and the realm). The issuer is drawn when the server starts.
  std::string MakeNonce(std::string_view realm) const;

  // `ha1` is the stored H(username:realm:password) for the credentials' algorithm (its base
  // algorithm for -sess). `request_uri` is the Request-URI as received; empty skips that check.
  // Only a right response spends the nonce count, so a wrong guess cannot burn the counts of the
  // client's nonce.
  DigestVerdict Verify(const DigestCredentials& credentials, std::string_view realm,
                       std::string_view method, std::string_view request_uri, std::string_view body,
                       std::string_view ha1) const;

 private:
  enum class NonceState { kValid, kExpired, kInvalid };
  struct Nonce {
    NonceState state = NonceState::kInvalid;
    bool ours = false;  // issued by this server, so its serial is in our ledger
    uint32_t serial = 0;
  };
  Nonce CheckNonce(std::string_view nonce, std::string_view realm) const;

  const core::Clock& clock_;
  DigestServerOptions options_;
  std::array<uint8_t, 6> issuer_{};
  std::shared_ptr<const NonceMac> mac_;
  // Counts change under a const Verify: the server is shared as const by its callers.
  mutable NonceLedger ledger_;
};

}  // namespace sb::sip
