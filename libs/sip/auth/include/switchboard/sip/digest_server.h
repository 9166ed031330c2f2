// The server side of digest authentication: challenges whose nonces any replica can verify
// (HMAC-signed with a shared secret over a timestamp), that expire, and that cannot be replayed
// (the nonce count of each nonce must grow, RFC 7616 §3.4 / §5.x "Replay Attacks").
//
//   sb::core::OpenSslRandom random;
//   sb::sip::InMemoryNonceCountTracker counts(clock);      // signaling uses a Redis tracker
//   sb::sip::DigestServerOptions options;
//   options.secret = shared_secret;                         // the same on every replica
//   sb::sip::DigestServer server(clock, random, counts, options);
//
//   // No or bad credentials: 401 with server.Challenge(realm, ...), one per algorithm offered.
//   auto credentials = sb::sip::ParseCredentials(authorization_value);
//   std::string ha1 = LookUpHa1(tenant, credentials->username, algorithm);  // stored HA1
//   auto verdict = server.Verify(*credentials, realm, "REGISTER", request_uri, body, ha1);
//   if (!verdict.ok()) return Reply(503);                  // the tracker's store is down
//   switch (*verdict) { case DigestVerdict::kOk: ...; case DigestVerdict::kStale: ... }
//
// Time: nonces carry wall-clock milliseconds (Clock::WallNow) because several replicas check
// them. Thread-safety: DigestServer is immutable after construction and safe to share; the
// tracker and random source must be safe for concurrent use (the ones here are).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "switchboard/core/clock.h"
#include "switchboard/core/random.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/digest.h"

namespace sb::sip {

// Remembers the highest nonce count seen per nonce.
class NonceCountTracker {
 public:
  virtual ~NonceCountTracker() = default;
  // True when `nc` is higher than every count accepted before for `nonce` (and records it);
  // false for a replay. The tracker may forget the nonce after `expires`. An error means the
  // store could not answer (the caller then fails the request with 503, never lets it through).
  virtual Result<bool> Accept(std::string_view nonce, uint32_t nc,
                              core::Clock::WallTime expires) = 0;
};

// One process's memory: enough for one signaling replica or for tests. Forgets expired nonces;
// when full of live ones it refuses (ResourceExhausted) rather than forget a live one, which
// would reopen replays.
class InMemoryNonceCountTracker final : public NonceCountTracker {
 public:
  explicit InMemoryNonceCountTracker(const core::Clock& clock, size_t max_nonces = 100000)
      : clock_(clock), max_nonces_(max_nonces) {}
  Result<bool> Accept(std::string_view nonce, uint32_t nc, core::Clock::WallTime expires) override;
  size_t size() const;

 private:
  struct Entry {
    uint32_t highest_nc;
    core::Clock::WallTime expires;
  };
  void PurgeExpiredLocked();

  const core::Clock& clock_;
  const size_t max_nonces_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

struct DigestServerOptions {
  std::string secret;  // shared by every replica; at least 16 bytes
  std::chrono::seconds nonce_lifetime{300};
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
  kStale,          // right password, nonce expired or already used: challenge again, stale=TRUE
  kWrongResponse,  // wrong password (or HA1): 401/403
  kBadNonce,       // not a nonce of ours (forged, other secret, other realm, truncated)
  kWrongRealm,
  kWrongUri,     // the uri parameter is not the Request-URI (RFC 7616 §3.4.6)
  kUnsupported,  // algorithm or qop we did not offer
  kMalformed,    // missing cnonce/nc with qop, nc not 8 hex digits
};
std::string_view DigestVerdictName(DigestVerdict verdict);

// A nonce count to accept (NonceCountTracker::Accept) before credentials that passed
// DigestServer::Check are good.
struct NonceUse {
  std::string nonce;
  uint32_t nc = 1;
  core::Clock::WallTime expires;
};

// Verify's verdict before the nonce count: kOk with the count still to accept when the response
// is right for a live nonce; any other verdict is final.
struct DigestCheck {
  DigestVerdict verdict = DigestVerdict::kMalformed;
  std::optional<NonceUse> nonce_use;  // set exactly when verdict is kOk
};

// HMAC-SHA256 under the nonce secret, keyed once (digest_server.cpp).
class NonceMac;

class DigestServer {
 public:
  DigestServer(const core::Clock& clock, core::RandomSource& random, NonceCountTracker& counts,
               DigestServerOptions options);

  // A fresh challenge for `realm`; stale marks a re-challenge after kStale (RFC 7616 §3.3).
  DigestChallenge Challenge(std::string_view realm, DigestAlgorithm algorithm,
                            bool stale = false) const;
  // A nonce for realm issued now: base64url(ms timestamp | 8 random bytes | HMAC-SHA256 tag).
  std::string MakeNonce(std::string_view realm) const;

  // `ha1` is the stored H(username:realm:password) for the credentials' algorithm (its base
  // algorithm for -sess). `request_uri` is the Request-URI as received; empty skips that check.
  Result<DigestVerdict> Verify(const DigestCredentials& credentials, std::string_view realm,
                               std::string_view method, std::string_view request_uri,
                               std::string_view body, std::string_view ha1) const;

  // Verify in two steps, for a caller that sends the nonce count to its store together with
  // other work (signaling pipelines it into one Redis round trip): Check does every check that
  // needs no store, in Verify's order; the caller accepts check.nonce_use in its tracker and
  // AfterNonceCount turns the answer into the verdict (kOk, or kStale for a replayed count).
  DigestCheck Check(const DigestCredentials& credentials, std::string_view realm,
                    std::string_view method, std::string_view request_uri, std::string_view body,
                    std::string_view ha1) const;
  static DigestVerdict AfterNonceCount(bool accepted) {
    return accepted ? DigestVerdict::kOk : DigestVerdict::kStale;
  }
  // The count accepted by this server's own tracker.
  Result<bool> AcceptNonceCount(const NonceUse& use) const {
    return counts_.Accept(use.nonce, use.nc, use.expires);
  }

 private:
  enum class NonceState { kValid, kExpired, kInvalid };
  NonceState CheckNonce(std::string_view nonce, std::string_view realm,
                        core::Clock::WallTime* expires) const;

  const core::Clock& clock_;
  core::RandomSource& random_;
  NonceCountTracker& counts_;
  DigestServerOptions options_;
  std::shared_ptr<const NonceMac> mac_;
};

}  // namespace sb::sip
