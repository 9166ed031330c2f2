// AdminLookupCache: the node's in-process copy of admin's lookup_domain and lookup_credentials
// answers, so that a REGISTER or an INVITE does not cost two NATS round trips to admin. Answers
// (and NOT_FOUND) are kept for `ttl`; admin's change events drop them sooner
// (rpc/admin_change_listener.h): a tenant event every entry of that tenant and of its domain, an
// extension event every entry of that extension. The TTL bounds how stale an entry can be when an
// event is missed. Failures other than NOT_FOUND are never kept.
//
//   sb::signaling::AdminLookupCache cache(clock, std::chrono::seconds(10));
//   const uint64_t generation = cache.generation();      // before asking admin
//   if (auto hit = cache.Domain("acme.sip.example")) return *hit;
//   auto answer = AskAdmin(...);
//   cache.PutDomain("acme.sip.example", answer, generation);  // dropped if a Forget came between
//
// A Put is ignored when any Forget happened after `generation` was read: the answer may predate
// the change the Forget was for. Thread-safe; memory bounded by `max_entries` (when it is
// reached, the expired entries go, and all of them if that is not enough).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rpc/admin_lookups.h"
#include "switchboard/core/clock.h"

namespace sb::signaling {

class AdminLookupCache {
 public:
  AdminLookupCache(const core::Clock& clock, std::chrono::milliseconds ttl,
                   size_t max_entries = 100000);

  uint64_t generation() const;

  std::optional<Result<DomainInfo>> Domain(std::string_view sip_domain) const;
  void PutDomain(std::string_view sip_domain, const Result<DomainInfo>& answer,
                 uint64_t generation);

  std::optional<Result<ExtensionCredentials>> Credentials(std::string_view sip_domain,
                                                          std::string_view sip_username) const;
  void PutCredentials(std::string_view sip_domain, std::string_view sip_username,
                      const Result<ExtensionCredentials>& answer, uint64_t generation);

  // A tenant changed (created, updated, suspended, deleted): every entry of `tenant` and every
  // entry under `sip_domain` (NOT_FOUND ones included) goes.
  void ForgetTenant(const TenantId& tenant, std::string_view sip_domain);
  // An extension changed: the entries of `extension_id` and those looked up by `sip_username` or
  // `number` in `sip_domain` go.
  void ForgetExtension(std::string_view sip_domain, std::string_view extension_id,
                       std::string_view sip_username, std::string_view number);
  void Clear();

  size_t size() const;

 private:
  template <typename T>
  struct Entry {
    Result<T> answer;
    core::Clock::TimePoint expires;
  };
  using CredentialsKey = std::pair<std::string, std::string>;  // domain, username

  bool Cacheable(const Status& status) const;
  void MakeRoom();  // with mu_ held

  const core::Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::map<std::string, Entry<DomainInfo>, std::less<>> domains_;
  std::map<CredentialsKey, Entry<ExtensionCredentials>> credentials_;
};

}  // namespace sb::signaling
