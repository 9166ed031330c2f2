// RedisBindingStore: the location service's bindings (registrar/bindings.h) in Redis, shared by
// every signaling replica. One hash per tenant and address of record,
//   <prefix>reg:<tenant_id>:<aor>   field = Contact URI, value =
//   "q|expires_ms|cseq|source|path|call_id"
// and a sorted set of the AORs by when a binding may lapse first,
//   <prefix>reg-due   member = "reg:<tenant_id>:<aor>", score = expires_ms, at the latest the
//                     earliest expiry (a refresh does not move it later: the sweep does)
// which the lapse sweep (store/redis_binding_lapses.h) reads to report bindings that lapse on
// their own. A hash outlives its last binding by kLapseGrace so that the sweep can still read
// what lapsed; past that an address nobody refreshes vanishes by itself (Load returns expired
// bindings, Locate and ApplyRegister skip them).
//
//   sb::signaling::RedisBindingStore store(redis);          // client prefix "signaling:"
//   auto current = store.Load(tenant, "sip:alice@acme.sb.test");
//   ... ApplyRegister ...
//   store.Save(tenant, "sip:alice@acme.sb.test", *current, outcome.bindings);
//
// Save writes only what a REGISTER changed, so phones of one AOR that register at the same moment
// (through one replica or several) all keep their bindings; a save that adds a contact checks the
// AOR's limit against what is stored when it runs, so such phones cannot take the AOR past it
// together. Two requests that change the same contact at once are last-writer-wins. Thread-safe
// as the client is.
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

// What a save checks and writes besides the bindings.
struct SaveTerms {
  // A save that adds a contact is refused (RESOURCE_EXHAUSTED, nothing written) when the AOR
  // would then hold more live bindings at `now` than this, counting those other requests stored
  // since `before` was read; 0: not checked.
  size_t max_contacts = 0;
  WallTime now{};
  // The events that report the change (RedisEventOutbox), written with it or not at all.
  std::optional<RedisEventOutbox::Parking> parked{};
};

class RedisBindingStore {
 public:
  explicit RedisBindingStore(redis::Client& client) : client_(client) {}  // borrowed

  // Every stored binding of the AOR, expired ones included (ApplyRegister drops those).
  Result<std::vector<Binding>> Load(const TenantId& tenant, std::string_view aor);
  // Load as a command to pipeline with others, and what its reply means.
  static redis::Command LoadCommand(const TenantId& tenant, std::string_view aor);
  static Result<std::vector<Binding>> LoadReply(const Result<redis::Reply>& reply);
  // Writes what changes the AOR's bindings from `before` (as Load gave them) to `after`: the
  // bindings new or changed, and the contacts gone. Bindings stored meanwhile that `before` did
  // not hold stay. The hash goes with its last binding. RESOURCE_EXHAUSTED: `terms`' limit
  // refused an added contact; UNAVAILABLE or INTERNAL: Redis failed.
  Status Save(const TenantId& tenant, std::string_view aor, const std::vector<Binding>& before,
              const std::vector<Binding>& after, const SaveTerms& terms = {});
  // Save as a pipeline to send on another connection (one script when it checks the limit, in
  // MULTI .. EXEC when it parks events or may create the hash), and what its replies mean.
  static std::vector<redis::Command> SaveCommands(const TenantId& tenant, std::string_view aor,
                                                  const std::vector<Binding>& before,
                                                  const std::vector<Binding>& after,
                                                  const SaveTerms& terms = {});
  static Status SaveReply(const Result<std::vector<redis::Reply>>& replies);

  static std::string Key(const TenantId& tenant, std::string_view aor);
  // The sorted set of AOR keys by earliest expiry.
  static constexpr std::string_view kDueKey = "reg-due";
  static constexpr std::chrono::hours kLapseGrace{24};

 private:
  redis::Client& client_;
};

// A binding's stored form (the hash field is its contact) and back; nullopt for a value this
// code cannot read.
std::string EncodeBinding(const Binding& binding);
std::optional<Binding> DecodeBinding(std::string contact, std::string_view value);

}  // namespace sb::signaling
