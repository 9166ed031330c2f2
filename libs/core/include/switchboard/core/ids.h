// Identifiers: UUIDv7 generation (RFC 9562 §5.7: 48-bit Unix milliseconds, then a counter and
// random bits, so ids sort by creation time) and strong id types so that a TenantId cannot be
// passed where a CallId is expected.
//
//   sb::core::UuidV7Generator ids(clock, seed);
//   sb::TenantId tenant{ids.Next()};
//   Use(tenant.str());
#pragma once

#include <compare>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "switchboard/core/clock.h"

namespace sb {

// A strong id around its canonical text form. Tag makes each kind its own type.
template <typename Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend auto operator<=>(const Id&, const Id&) = default;

 private:
  std::string value_;
};

using TenantId = Id<struct TenantIdTag>;
using CallId = Id<struct CallIdTag>;
using EventId = Id<struct EventIdTag>;

}  // namespace sb

template <typename Tag>
struct std::hash<sb::Id<Tag>> {
  size_t operator()(const sb::Id<Tag>& id) const { return std::hash<std::string>()(id.str()); }
};

namespace sb::core {

// True for the canonical 8-4-4-4-12 lowercase or uppercase hex form.
bool IsUuid(std::string_view text);

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A new unique id in canonical text form. Thread-safe.
  virtual std::string Next() = 0;
};

// Time-ordered: ids from one generator are strictly increasing even within one millisecond
// (a 12-bit counter in rand_a, RFC 9562 method 1; on overflow the timestamp is borrowed forward).
class UuidV7Generator final : public IdGenerator {
 public:
  UuidV7Generator(const Clock& clock, uint64_t seed);
  explicit UuidV7Generator(const Clock& clock);  // seeded from std::random_device
  std::string Next() override;

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::mt19937_64 random_;
  uint64_t last_ms_ = 0;
  uint32_t counter_ = 0;
};

}  // namespace sb::core
