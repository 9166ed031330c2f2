// AdminLookupCache: the node's in-process copy of admin's lookup_domain, lookup_credentials,
// lookup_extension, lookup_trunk_by_source, lookup_number and lookup_outbound_route answers, so
// that a REGISTER or a call does not cost NATS round trips to admin. Answers (and NOT_FOUND) are
// kept for `ttl`; admin's change events drop them sooner (rpc/admin_change_listener.h): a tenant
// event every entry of that tenant and of its domain, an extension event every entry of that
// extension, a trunk event every trunk-by-source and outbound-route entry (a trunk's source
// addresses or prefix rules may have changed), a number event the entries of that number. The TTL
// bounds
// how stale an entry can be when an event is missed. Failures other than NOT_FOUND are never kept.
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
#include <tuple>
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

  // lookup_extension, by the dialled extension number or SIP username.
  std::optional<Result<ExtensionInfo>> Extension(std::string_view sip_domain,
                                                 std::string_view user) const;
  void PutExtension(std::string_view sip_domain, std::string_view user,
                    const Result<ExtensionInfo>& answer, uint64_t generation);

  std::optional<Result<TrunkMatch>> TrunkBySource(std::string_view source_ip) const;
  void PutTrunkBySource(std::string_view source_ip, const Result<TrunkMatch>& answer,
                        uint64_t generation);

  // lookup_number, by E.164 ("+" included).
  std::optional<Result<NumberRoute>> Number(std::string_view e164) const;
  void PutNumber(std::string_view e164, const Result<NumberRoute>& answer, uint64_t generation);

  // lookup_outbound_route, by the whole question (tenant, number dialled, caller id, trunk).
  std::optional<Result<OutboundRoute>> Outbound(const OutboundQuery& query) const;
  void PutOutbound(const OutboundQuery& query, const Result<OutboundRoute>& answer,
                   uint64_t generation);

  // A tenant changed (created, updated, suspended, deleted): every entry of `tenant` and every
  // entry under `sip_domain` (NOT_FOUND ones included) goes.
  void ForgetTenant(const TenantId& tenant, std::string_view sip_domain);
  // An extension changed: the entries of `extension_id` and those looked up by `sip_username` or
  // `number` in `sip_domain` go.
  void ForgetExtension(std::string_view sip_domain, std::string_view extension_id,
                       std::string_view sip_username, std::string_view number);
  // A trunk changed: every trunk-by-source and outbound-route entry goes, NOT_FOUND ones included.
  void ForgetTrunks();
  // A number changed (created, re-routed, deleted): the entries of `e164` and of `number_id` go.
  void ForgetNumber(std::string_view e164, std::string_view number_id);
  void Clear();

  size_t size() const;

 private:
  template <typename T>
  struct Entry {
    Result<T> answer;
    core::Clock::TimePoint expires;
  };
  using UserKey = std::pair<std::string, std::string>;  // domain, username or number
  // tenant, dialed, caller id, trunk
  using OutboundKey = std::tuple<std::string, std::string, std::string, std::string>;
  static OutboundKey KeyOf(const OutboundQuery& query);

  bool Cacheable(const Status& status) const;
  // `f` on each of the maps below, for what is done to every kind of answer alike.
  template <typename Self, typename F>
  static void EachMap(Self& self, F&& f) {
    f(self.domains_);
    f(self.credentials_);
    f(self.extensions_);
    f(self.trunks_);
    f(self.numbers_);
    f(self.outbound_);
  }
  size_t Entries() const;  // with mu_ held
  void MakeRoom();         // with mu_ held
  template <typename T, typename Map, typename Key>
  std::optional<Result<T>> Get(const Map& map, const Key& key) const;
  template <typename T, typename Map, typename Key>
  void Put(Map& map, Key key, const Result<T>& answer, uint64_t generation);

  const core::Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::map<std::string, Entry<DomainInfo>, std::less<>> domains_;
  std::map<UserKey, Entry<ExtensionCredentials>> credentials_;
  std::map<UserKey, Entry<ExtensionInfo>> extensions_;
  std::map<std::string, Entry<TrunkMatch>, std::less<>> trunks_;
  std::map<std::string, Entry<NumberRoute>, std::less<>> numbers_;
  std::map<OutboundKey, Entry<OutboundRoute>> outbound_;
};

}  // namespace sb::signaling
