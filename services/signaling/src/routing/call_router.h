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
// A trunk over TLS is 503 "Trunk Transport Unsupported" (no TLS transport here yet).
// A trunk's gateway given by name is located as RFC 3263 says (sip::LocateServer): the call goes
// to the first destination, the others are its alternates; a name with no address is 503
// "Gateway Not Found", DNS that does not answer 503 "Gateway Unresolved". The Request-URI keeps
// the name.
//
//   sb::signaling::AdminCallRouter router(admin, [&](const sb::sip::Destination& gateway) {
//     return sb::sip::LocateServer(gateway, dns.Lookups(), draw);
//   });
//   sb::signaling::b2bua::Route route = router.Resolve(caller, "004420712345");  // blocks
//
// Thread-safe as the lookups are.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "b2bua/ports.h"
#include "rpc/admin_lookups.h"

namespace sb::signaling {

// Where a trunk's gateway (host, port 0 when admin has none, transport) is reached: the
// destinations to try in order. NOT_FOUND: nowhere; UNAVAILABLE: DNS did not answer.
using GatewayLocator =
    std::function<Result<std::vector<sip::Destination>>(const sip::Destination& gateway)>;

class AdminCallRouter final : public b2bua::CallRouter {
 public:
  // `lookups` is borrowed; it must outlive the router.
  AdminCallRouter(const RoutingLookups& lookups, GatewayLocator locate_gateway)
      : lookups_(lookups), locate_gateway_(std::move(locate_gateway)) {}

  b2bua::Route Resolve(const b2bua::Caller& caller, std::string_view dialed) override;
  b2bua::Route ThroughTrunk(const b2bua::Caller& caller, std::string_view trunk_id,
                            std::string_view dialed, std::string_view caller_id) override;

 private:
  b2bua::Route FromTrunk(const b2bua::Caller& caller, std::string_view dialed) const;
  b2bua::Route ToNumberTarget(const NumberRoute& number, std::string_view domain) const;
  b2bua::Route ToTrunk(const b2bua::Caller& caller, std::string_view dialed) const;
  b2bua::Route OutThrough(const b2bua::Caller& caller, const OutboundQuery& query) const;

  const RoutingLookups& lookups_;
  const GatewayLocator locate_gateway_;
};

}  // namespace sb::signaling
