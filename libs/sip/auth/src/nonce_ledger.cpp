#include "switchboard/sip/nonce_ledger.h"

#include <bit>

namespace sb::sip {

NonceLedger::NonceLedger(size_t slots)
    : mask_(std::bit_ceil(slots == 0 ? size_t{1} : slots) - 1),
      slots_(std::make_unique<std::atomic<uint64_t>[]>(mask_ + 1)) {}

uint32_t NonceLedger::Issue() {
  const uint32_t serial = next_.fetch_add(1, std::memory_order_relaxed);
  // Release and acquire below: the serial reaches Accept through a client, maybe on another
  // thread, and the slot must read as issued there.
  slots_[serial & mask_].store(Pack(serial, 0), std::memory_order_release);
  return serial;
}

bool NonceLedger::Accept(uint32_t serial, uint32_t nc) {
  std::atomic<uint64_t>& slot = slots_[serial & mask_];
  uint64_t seen = slot.load(std::memory_order_acquire);
  // Zero, in a slot not issued into yet, reads as serial 0 with no count: what Issue writes for
  // serial 0, and only a nonce we issued has a serial to present.
  for (;;) {
    if (static_cast<uint32_t>(seen >> 32) != serial) return false;
    if (static_cast<uint32_t>(seen) >= nc) return false;
    if (slot.compare_exchange_weak(seen, Pack(serial, nc), std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
      return true;
    }
  }
}

}  // namespace sb::sip
