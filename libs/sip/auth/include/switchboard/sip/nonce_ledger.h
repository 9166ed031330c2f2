// NonceLedger: the nonce counts of the nonces one DigestServer issued (RFC 7616 §3.4: a count
// must grow, else the request is a replay), kept in the process the way Kamailio's auth module
// keeps them, so that checking a count costs no store round trip. Each nonce carries the serial
// Issue gave it; the ledger is a ring of slots indexed by serial, each holding the serial it was
// last issued for and the highest count accepted since.
//
//   sb::sip::NonceLedger ledger(1 << 18);
//   uint32_t serial = ledger.Issue();        // into the nonce, under its HMAC
//   ...
//   if (ledger.Accept(serial, nc)) ...       // the first time this count is seen: good
//
// A nonce whose slot a later nonce took (`slots` nonces were issued after it) is no longer known
// and is refused like a replay: the client is re-challenged with stale=true, the same as for an
// expired nonce. Serials are 32 bits: they repeat only after 2^32 nonces, which no server issues
// within a nonce's lifetime, so an expired nonce is refused before its serial could match.
// Thread-safe and lock-free: one 64-bit atomic per slot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace sb::sip {

class NonceLedger {
 public:
  // `slots` is rounded up to a power of two (at least 1).
  explicit NonceLedger(size_t slots);

  // A new nonce's serial; its slot now holds it with no count accepted.
  uint32_t Issue();
  // True when `nc` is higher than every count accepted for nonce `serial` (and records it); false
  // for a replayed or lower count, or when the nonce's slot went to a later nonce.
  bool Accept(uint32_t serial, uint32_t nc);

  size_t slots() const { return mask_ + 1; }

 private:
  static uint64_t Pack(uint32_t serial, uint32_t nc) { return (uint64_t{serial} << 32) | nc; }

  const size_t mask_;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  std::atomic<uint32_t> next_{0};
};

}  // namespace sb::sip
