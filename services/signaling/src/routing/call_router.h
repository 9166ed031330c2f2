// AdminCallRouter: the B2BUA's CallRouter (b2bua/ports.h) on admin's routing lookups. It decides
// from the dialled user part alone where a call goes, as a PBX would:
//
//   from an extension of tenant T (domain D), dialling U:
//     1. U is an extension number or SIP username of T           -> that extension
//     2. U is one of T's own numbers (E.164, "+" optional)       -> where admin routes it
//     3. a prefix rule of one of T's trunks matches U            -> out through that trunk, U
//        rewritten by the rule, the caller id the trunk's policy says
//     4. otherwise 404
//   from a carrier trunk of tenant T, dialling U:
//     U is one of T's numbers -> where admin routes it; another tenant's number or none -> 404
//
// A number routed to "ext:<n>" reaches extension n; an unrouted number (or a target this node
// does not know yet, such as a flow) is 480. A disabled extension is 480, a suspended tenant 403,
// an admin that does not answer 503.
//
//   sb::signaling::AdminCallRouter router(admin);
//   sb::signaling::b2bua::Route route = router.Resolve(caller, "004420712345");  // blocks
//
// Thread-safe as the lookups are.
#pragma once

#include <string_view>

#include "b2bua/ports.h"
#include "rpc/admin_lookups.h"

namespace sb::signaling {

class AdminCallRouter final : public b2bua::CallRouter {
 public:
  // Borrowed; must outlive the router.
  explicit AdminCallRouter(const RoutingLookups& lookups) : lookups_(lookups) {}

  b2bua::Route Resolve(const b2bua::Caller& caller, std::string_view dialed) override;
  b2bua::Route ThroughTrunk(const b2bua::Caller& caller, std::string_view trunk_id,
                            std::string_view dialed, std::string_view caller_id) override;

 private:
  b2bua::Route FromTrunk(const b2bua::Caller& caller, std::string_view dialed) const;
  b2bua::Route ToNumberTarget(const NumberRoute& number, std::string_view domain) const;
  b2bua::Route ToTrunk(const b2bua::Caller& caller, std::string_view dialed) const;
  b2bua::Route OutThrough(const b2bua::Caller& caller, const OutboundQuery& query) const;

  const RoutingLookups& lookups_;
};

}  // namespace sb::signaling
