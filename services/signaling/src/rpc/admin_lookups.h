// AdminLookups: the signaling node's blocking client of the admin service's NATS lookups
// (proto switchboard.admin.v1, lookup.proto; subjects sb.cmd.admin.lookup_*). Replies come back as
// plain structs, so only src/rpc includes generated protobuf headers. Admin answers from its
// Redis cache. With an AdminLookupCache (rpc/admin_lookup_cache.h) the answers are also kept in
// the process until admin's change event for them arrives (rpc/admin_change_listener.h) or their
// TTL passes; without one every call asks admin.
//
//   sb::signaling::AdminLookups admin(bus, std::chrono::milliseconds(500), &cache);
//   auto creds = admin.Credentials("acme.sip.example", "1001");   // blocks: run it offloaded
//   if (!creds.ok()) {
//     // NOT_FOUND: no such user or domain; UNAVAILABLE: admin did not answer in time (503)
//   } else if (creds->tenant_suspended) { ... 403 ... }
//   auto route = admin.Outbound(tenant, "0044207", "+15551230001");   // trunk, rewritten number
//
// Every call returns by its deadline: a timeout or an absent admin is UNAVAILABLE, never a hang.
// Thread-safe (the Bus is).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/bus/bus.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/transaction.h"

namespace sb::signaling {

class AdminLookupCache;

struct DomainInfo {
  TenantId tenant;
  bool tenant_suspended = false;
};

// What a digest check needs; HA1s are hex with realm = the tenant's SIP domain.
struct ExtensionCredentials {
  TenantId tenant;
  bool tenant_suspended = false;
  std::string extension_id;
  std::string extension_number;
  std::string ha1_md5;
  std::string ha1_sha256;
  bool enabled = false;
};

// Every routing answer names the tenant it belongs to and whether it is suspended.
struct TenantRef {
  TenantId id;
  bool suspended = false;
  std::string sip_domain;  // lookup_number, lookup_trunk_by_source, lookup_outbound_route and
                           // lookup_tenant only
};

// A phone number (DID) and where admin routes it: "ext:<number>", or empty when unrouted.
struct NumberRoute {
  TenantRef tenant;
  std::string number_id;
  std::string target;
};

// The carrier trunk an INVITE's source address belongs to.
struct TrunkMatch {
  TenantRef tenant;
  std::string trunk_id;
  std::string trunk_name;
};

// Whom a dialled extension number or SIP username reaches; registrations are keyed by
// sip:<sip_username>@<domain>.
struct ExtensionInfo {
  TenantRef tenant;
  std::string extension_id;
  std::string extension_number;
  std::string sip_username;
  std::string display_name;
  std::string caller_id;  // E.164 presented on outbound calls, may be empty
  bool enabled = false;
};

// The trunk carrying a dialled number out, the number as the carrier wants it and the caller id
// to present (empty with caller_id_blocked: anonymous, RFC 3323).
struct OutboundRoute {
  TenantRef tenant;
  std::string trunk_id;
  std::string trunk_name;
  sip::Destination gateway;
  std::string username;  // outbound digest credentials towards the carrier, may be empty
  std::string password;
  std::string dialed;
  std::string caller_id;
  bool caller_id_blocked = false;
};

// What lookup_outbound_route is asked: the tenant's trunk for `dialed`, with `caller_id` (the
// calling extension's) presented under PASSTHROUGH; a `trunk_id` limits the choice to that
// trunk's prefix rules (a call placed through a named trunk).
struct OutboundQuery {
  TenantId tenant;
  std::string dialed;
  std::string caller_id;
  std::string trunk_id;
};

// The lookups call routing needs (a port, so that the routing decisions are tested on their own).
class RoutingLookups {
 public:
  virtual ~RoutingLookups() = default;
  // NOT_FOUND when no tenant owns the number.
  virtual Result<NumberRoute> Number(std::string_view e164) const = 0;
  // NOT_FOUND when no trunk lists the address among its inbound sources.
  virtual Result<TrunkMatch> TrunkBySource(std::string_view source_ip) const = 0;
  // NOT_FOUND when the tenant of `sip_domain` has no such extension number or SIP username.
  virtual Result<ExtensionInfo> Extension(std::string_view sip_domain,
                                          std::string_view user) const = 0;
  // NOT_FOUND when none of the tenant's trunks (or not the one named) has a prefix rule
  // matching `dialed`, or the tenant has no trunk by that id.
  virtual Result<OutboundRoute> Outbound(const OutboundQuery& query) const = 0;
};

class AdminLookups final : public RoutingLookups {
 public:
  // `bus` and `cache` (optional) are borrowed and must outlive this object.
  AdminLookups(bus::Bus& bus, std::chrono::milliseconds timeout, AdminLookupCache* cache = nullptr)
      : bus_(bus), timeout_(timeout), cache_(cache) {}

  // sb.cmd.admin.lookup_domain: the tenant that owns `sip_domain` (NOT_FOUND when none).
  Result<DomainInfo> Domain(std::string_view sip_domain) const;
  // The cached answer of Domain, without asking admin (nullopt: not cached, or no cache).
  std::optional<Result<DomainInfo>> CachedDomain(std::string_view sip_domain) const;
  // sb.cmd.admin.lookup_credentials: (NOT_FOUND when no such domain or user).
  Result<ExtensionCredentials> Credentials(std::string_view sip_domain,
                                           std::string_view sip_username) const;
  // The cached answer of Credentials, without asking admin (nullopt: not cached, or no cache).
  std::optional<Result<ExtensionCredentials>> CachedCredentials(
      std::string_view sip_domain, std::string_view sip_username) const;

  // sb.cmd.admin.lookup_number, lookup_trunk_by_source, lookup_extension, lookup_outbound_route.
  Result<NumberRoute> Number(std::string_view e164) const override;
  Result<TrunkMatch> TrunkBySource(std::string_view source_ip) const override;
  // The cached answer of TrunkBySource, without asking admin (nullopt: not cached, or no cache).
  std::optional<Result<TrunkMatch>> CachedTrunkBySource(std::string_view source_ip) const;
  Result<ExtensionInfo> Extension(std::string_view sip_domain,
                                  std::string_view user) const override;
  Result<OutboundRoute> Outbound(const OutboundQuery& query) const override;
  // sb.cmd.admin.lookup_tenant: the tenant by id, with its SIP domain (NOT_FOUND when none).
  // Not cached: a command asks it, not a call.
  Result<TenantRef> Tenant(const TenantId& tenant) const;

 private:
  Result<DomainInfo> AskDomain(std::string_view sip_domain) const;
  Result<ExtensionCredentials> AskCredentials(std::string_view sip_domain,
                                              std::string_view sip_username) const;
  Result<NumberRoute> AskNumber(std::string_view e164) const;
  Result<TrunkMatch> AskTrunkBySource(std::string_view source_ip) const;
  Result<OutboundRoute> AskOutbound(const OutboundQuery& query) const;
  Result<ExtensionInfo> AskExtension(std::string_view sip_domain, std::string_view user) const;

  bus::Bus& bus_;
  const std::chrono::milliseconds timeout_;
  AdminLookupCache* cache_;
};

}  // namespace sb::signaling
