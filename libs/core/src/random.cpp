#include "switchboard/core/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace sb::core {

void OpenSslRandom::Fill(std::span<uint8_t> out) {
  // Drawn from the DRBG a block at a time: each RAND_bytes call costs its locking and
  // reseed checks, far more than the 8 bytes a nonce takes. Per thread, so nothing is shared.
  constexpr size_t kBlock = 512;
  thread_local std::array<uint8_t, kBlock> block{};
  thread_local size_t used = kBlock;
  while (!out.empty()) {
    if (used == kBlock) {
      // RAND_bytes fails only when the OS entropy source is broken; nothing sane can follow,
      // and returning predictable bytes would be worse than stopping.
      if (RAND_bytes(block.data(), static_cast<int>(kBlock)) != 1) std::abort();
      used = 0;
    }
    const size_t n = std::min(out.size(), kBlock - used);
    std::memcpy(out.data(), block.data() + used, n);
    OPENSSL_cleanse(block.data() + used, n);  // handed-out bytes are not kept
    used += n;
    out = out.subspan(n);
  }
}

void SeededRandom::Fill(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  for (auto& b : out) b = static_cast<uint8_t>(engine_());
}

}  // namespace sb::core
