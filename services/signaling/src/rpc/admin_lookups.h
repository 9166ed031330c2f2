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
//
// Every call returns by its deadline: a timeout or an absent admin is UNAVAILABLE, never a hang.
// Thread-safe (the Bus is).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "switchboard/bus/bus.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

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

class AdminLookups {
 public:
  // `bus` and `cache` (optional) are borrowed and must outlive this object.
  AdminLookups(bus::Bus& bus, std::chrono::milliseconds timeout, AdminLookupCache* cache = nullptr)
      : bus_(bus), timeout_(timeout), cache_(cache) {}

  // sb.cmd.admin.lookup_domain: the tenant that owns `sip_domain` (NOT_FOUND when none).
  Result<DomainInfo> Domain(std::string_view sip_domain) const;
  // sb.cmd.admin.lookup_credentials: (NOT_FOUND when no such domain or user).
  Result<ExtensionCredentials> Credentials(std::string_view sip_domain,
                                           std::string_view sip_username) const;

 private:
  Result<DomainInfo> AskDomain(std::string_view sip_domain) const;
  Result<ExtensionCredentials> AskCredentials(std::string_view sip_domain,
                                              std::string_view sip_username) const;

  bus::Bus& bus_;
  const std::chrono::milliseconds timeout_;
  AdminLookupCache* cache_;
};

}  // namespace sb::signaling
