// RegistrarCalleeLocator: the B2BUA's CalleeLocator (b2bua/ports.h) on the registrar's bindings.
// An extension's contacts are the live bindings of "sip:<number>@<domain>" (highest q first),
// each reached at the address its REGISTER came from (NAT) through its Path (the balancer).
//
//   sb::signaling::RegistrarCalleeLocator locator(store, &admin, clock);
//   auto targets = locator.Locate(tenant, "acme.sip.example", "1002");   // blocking: offload it
//
// With `admin`, an extension admin does not know is NOT_FOUND (404) rather than an empty list
// (480). Thread-safe as the store and admin client are.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "b2bua/ports.h"
#include "rpc/admin_lookups.h"
#include "store/redis_binding_store.h"
#include "switchboard/core/clock.h"

namespace sb::signaling {

class RegistrarCalleeLocator final : public b2bua::CalleeLocator {
 public:
  RegistrarCalleeLocator(RedisBindingStore& store, AdminLookups* admin, const core::Clock& clock)
      : store_(store), admin_(admin), clock_(clock) {}

  Result<std::vector<b2bua::Target>> Locate(const TenantId& tenant, std::string_view domain,
                                            std::string_view number) override;

 private:
  RedisBindingStore& store_;
  AdminLookups* admin_;
  const core::Clock& clock_;
};

// "udp:192.0.2.7:40112" (a Binding's source) as a destination; nullopt when malformed.
std::optional<sip::Destination> ParseSource(std::string_view source);

// The phone's address a balancer saw, from the received parameter of its entry in a binding's
// Path ("<sip:lb;lr;received=sip:203.0.113.5:40001>", the value possibly escaped or quoted;
// Kamailio's add_path_received); the entry nearest the phone when several have one, nullopt when
// none. Only as trustworthy as the proxy that added it.
std::optional<sip::Destination> PathReceived(const std::vector<std::string>& path);

}  // namespace sb::signaling
