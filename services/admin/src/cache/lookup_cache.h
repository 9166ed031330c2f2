// The Redis cache behind the lookups other services ask admin over NATS. It holds opaque reply
// bytes (the rpc layer serializes them) under keys built here, and forgets them when a mutation
// says so:
//
//   lk:dom:<sip domain>            lk:cred:<sip domain>:<sip user>
//   lk:num:<e164>                  lk:src:<source ip>
//   lk:ext:<sip domain>:<user>     lk:out:<tenant id>:<trunk id or "">:<dialed>:<caller id>
//   lk:tid:<tenant id>
//   lk:t:<tenant id>   a set of the entries that carry that tenant's status, so that suspending
//                      or deleting a tenant drops all of them at once
//   lk:srcs            a set of all lk:src entries: any trunk change may move any source address
//   lk:tout:<tenant>   a set of the tenant's lk:out entries: any change to one of its trunks may
//                      change any of its routes
//
// Entries also expire after a TTL, which bounds how long a fill that raced with an invalidation
// can serve a stale answer. With a LocalLookupCache (cache/local_cache.h) the replica's own copy
// is asked first and forgotten by the same calls (a tenant change forgets all of it).
//
// lk:out entries carry the trunk's outbound password (signaling answers the carrier's challenge
// with it), so in Redis they are sealed with the SecretBox that seals trunk passwords at rest,
// the key as associated data: Redis, its dumps and its replicas never hold the password in
// clear. The in-process copy is kept in clear (the process has the password anyway). A stored
// value that does not open (another secret key, or left in clear by an older admin) counts as a
// miss and is refilled.
//
//   LookupCache cache(redis, std::chrono::seconds(60), secret_box);
//   if (auto hit = cache.Get(LookupCache::CredentialsKey(domain, user)); hit.ok() && *hit) ...
//   cache.Put(key, bytes, tenant_id);
//   cache.ForgetTenant(tenant);
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "cache/local_cache.h"
#include "domain/model.h"
#include "domain/secret_box.h"
#include "switchboard/redis/client.h"

namespace sb::admin {

class LookupCache {
 public:
  // `box` and `local` (if any) must outlive the cache.
  LookupCache(redis::Client& redis, std::chrono::milliseconds ttl, const SecretBox& box,
              LocalLookupCache* local = nullptr)
      : redis_(redis), ttl_(ttl), box_(box), local_(local) {}

  static std::string DomainKey(std::string_view sip_domain);
  static std::string CredentialsKey(std::string_view sip_domain, std::string_view user);
  static std::string NumberKey(std::string_view e164);
  static std::string SourceKey(std::string_view ip);
  static std::string ExtensionKey(std::string_view sip_domain, std::string_view user);
  static std::string TenantKey(const TenantId& tenant);
  // `trunk_id`: a UUID or empty (it holds no ':').
  static std::string OutboundKey(const TenantId& tenant, std::string_view trunk_id,
                                 std::string_view dialed, std::string_view caller_id);
  // Whether the entry under `key` carries a secret, and is therefore sealed in Redis.
  static bool HoldsSecret(std::string_view key);

  // The cached bytes, nullopt on a miss. UNAVAILABLE when Redis cannot be reached. `generation`
  // receives the local cache's generation taken before reading, for Put.
  Result<std::optional<std::string>> Get(const std::string& key, uint64_t* generation = nullptr,
                                         bool* local_hit = nullptr);
  // Stores bytes under key; `tenant` (if any) is the tenant whose status the bytes carry. The
  // local copy is stored only with the generation Get gave.
  Status Put(const std::string& key, std::string_view bytes, const std::optional<TenantId>& tenant,
             std::optional<uint64_t> generation = std::nullopt);
  Status Forget(const std::string& key);
  Status ForgetTenant(const TenantId& tenant);
  Status ForgetSources();
  Status ForgetOutbound(const TenantId& tenant);

 private:
  Status ForgetSet(const std::string& set_key);
  redis::Client& redis_;
  const std::chrono::milliseconds ttl_;
  const SecretBox& box_;
  LocalLookupCache* local_;
};

}  // namespace sb::admin
