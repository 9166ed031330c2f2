// Where random bytes come from, injected so that tests may use a seeded source: digest nonces
// (libs/sip/auth), API keys and secrets (services/admin).
//
//   sb::core::OpenSslRandom random;          // production: the OS CSPRNG through OpenSSL
//   std::array<uint8_t, 32> secret;
//   random.Fill(secret);
//   sb::core::SeededRandom seeded(7);        // tests: the same bytes every run
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <span>

namespace sb::core {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Thread-safe.
  virtual void Fill(std::span<uint8_t> out) = 0;
};

// The operating system's CSPRNG through OpenSSL (RAND_bytes), drawn a block at a time per
// thread; aborts when the OS entropy source is broken rather than return predictable bytes.
class OpenSslRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Reproducible bytes for tests and simulations; never for secrets.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace sb::core
