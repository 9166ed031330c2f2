// RedisBindingLapses: finds the addresses of record whose bindings lapsed, for the lapse sweep
// (registrar/lapse_sweeper.h), and removes bindings that are gone, shared by every replica.
// It works on RedisBindingStore's keys: the "reg-due" sorted set of AOR keys by their earliest
// expiry and the AOR hashes.
//
//   sb::signaling::RedisBindingLapses lapses(redis);
//   auto due = lapses.Claim(now, 500, std::chrono::seconds(30));   // AORs with a lapsed binding
//   for (auto& aor : *due) {
//     ... load, publish "expired" for every lapsed binding ...
//     lapses.RemoveIfUnchanged(aor.tenant, aor.aor, lapsed);         // then they are gone
//   }
//
// Two replicas never both take one AOR: Claim moves what it returns `lease` into the future in
// one script. A replica that dies before RemoveIfUnchanged loses nothing: its claims come due
// again after the lease and another replica reports them (the events' de-duplication ids are
// the same, so JetStream keeps one). Thread-safe as the client is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/bindings.h"
#include "store/redis_event_outbox.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

struct AddressOfRecordKey {
  TenantId tenant;
  std::string aor;
  friend bool operator==(const AddressOfRecordKey&, const AddressOfRecordKey&) = default;
};

// "reg:<tenant>:sip:alice@acme" -> its tenant and AOR (tenant ids hold no ':'); nullopt for
// anything else.
std::optional<AddressOfRecordKey> ParseBindingKey(std::string_view key);

class RedisBindingLapses {
 public:
  explicit RedisBindingLapses(redis::Client& client) : client_(client) {}  // borrowed

  // Up to `limit` AORs whose earliest binding expired by `now`, each taken for `lease`.
  Result<std::vector<AddressOfRecordKey>> Claim(WallTime now, size_t limit,
                                                std::chrono::milliseconds lease);
  // Removes each of `bindings` that is still stored exactly so (a phone that registered again
  // meanwhile keeps its new binding), then files the AOR under its new earliest expiry, or
  // deletes it when nothing is left. Returns how many were removed. When something was, the
  // messages of `report` (the events that tell of the removal) are parked in the same atomic
  // step (store/redis_event_outbox.h).
  Result<size_t> RemoveIfUnchanged(const TenantId& tenant, std::string_view aor,
                                   const std::vector<Binding>& bindings,
                                   const RedisEventOutbox::Parking* report = nullptr);

 private:
  redis::Client& client_;
};

}  // namespace sb::signaling
