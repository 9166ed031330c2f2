#include "rpc/admin_lookup_cache.h"

#include <iterator>
#include <tuple>

namespace sb::signaling {
namespace {

template <typename Map, typename Pred>
void EraseIf(Map& map, Pred pred) {
  for (auto it = map.begin(); it != map.end();) {
    it = pred(*it) ? map.erase(it) : std::next(it);
  }
}

}  // namespace

AdminLookupCache::AdminLookupCache(const core::Clock& clock, std::chrono::milliseconds ttl,
                                   size_t max_entries)
    : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

uint64_t AdminLookupCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

bool AdminLookupCache::Cacheable(const Status& status) const {
  // A timeout or an absent admin says nothing about the answer: ask again next time.
  return ttl_.count() > 0 && (status.ok() || status.code() == StatusCode::kNotFound);
}

size_t AdminLookupCache::Entries() const {
  size_t entries = 0;
  EachMap(*this, [&entries](const auto& map) { entries += map.size(); });
  return entries;
}

void AdminLookupCache::MakeRoom() {
  if (Entries() < max_entries_) return;
  const auto now = clock_.Now();
  EachMap(*this, [now](auto& map) {
    EraseIf(map, [now](const auto& kv) { return kv.second.expires <= now; });
  });
  if (Entries() < max_entries_) return;
  EachMap(*this, [](auto& map) { map.clear(); });
}

template <typename T, typename Map, typename Key>
std::optional<Result<T>> AdminLookupCache::Get(const Map& map, const Key& key) const {
  std::lock_guard lock(mu_);
  auto it = map.find(key);
  if (it == map.end() || it->second.expires <= clock_.Now()) return std::nullopt;
  return it->second.answer;
}

template <typename T, typename Map, typename Key>
void AdminLookupCache::Put(Map& map, Key key, const Result<T>& answer, uint64_t generation) {
  if (!Cacheable(answer.status())) return;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  MakeRoom();
  map.insert_or_assign(std::move(key), Entry<T>{answer, clock_.Now() + ttl_});
}

std::optional<Result<DomainInfo>> AdminLookupCache::Domain(std::string_view sip_domain) const {
  return Get<DomainInfo>(domains_, sip_domain);
}

void AdminLookupCache::PutDomain(std::string_view sip_domain, const Result<DomainInfo>& answer,
                                 uint64_t generation) {
  Put(domains_, std::string(sip_domain), answer, generation);
}

std::optional<Result<ExtensionCredentials>> AdminLookupCache::Credentials(
    std::string_view sip_domain, std::string_view sip_username) const {
  return Get<ExtensionCredentials>(credentials_,
                                   UserKey{std::string(sip_domain), std::string(sip_username)});
}

void AdminLookupCache::PutCredentials(std::string_view sip_domain, std::string_view sip_username,
                                      const Result<ExtensionCredentials>& answer,
                                      uint64_t generation) {
  Put(credentials_, UserKey{std::string(sip_domain), std::string(sip_username)}, answer,
      generation);
}

std::optional<Result<ExtensionInfo>> AdminLookupCache::Extension(std::string_view sip_domain,
                                                                 std::string_view user) const {
  return Get<ExtensionInfo>(extensions_, UserKey{std::string(sip_domain), std::string(user)});
}

void AdminLookupCache::PutExtension(std::string_view sip_domain, std::string_view user,
                                    const Result<ExtensionInfo>& answer, uint64_t generation) {
  Put(extensions_, UserKey{std::string(sip_domain), std::string(user)}, answer, generation);
}

std::optional<Result<TrunkMatch>> AdminLookupCache::TrunkBySource(
    std::string_view source_ip) const {
  return Get<TrunkMatch>(trunks_, source_ip);
}

void AdminLookupCache::PutTrunkBySource(std::string_view source_ip,
                                        const Result<TrunkMatch>& answer, uint64_t generation) {
  Put(trunks_, std::string(source_ip), answer, generation);
}

std::optional<Result<NumberRoute>> AdminLookupCache::Number(std::string_view e164) const {
  return Get<NumberRoute>(numbers_, e164);
}

void AdminLookupCache::PutNumber(std::string_view e164, const Result<NumberRoute>& answer,
                                 uint64_t generation) {
  Put(numbers_, std::string(e164), answer, generation);
}

AdminLookupCache::OutboundKey AdminLookupCache::KeyOf(const OutboundQuery& query) {
  return {query.tenant.str(), query.dialed, query.caller_id, query.trunk_id};
}

std::optional<Result<OutboundRoute>> AdminLookupCache::Outbound(const OutboundQuery& query) const {
  return Get<OutboundRoute>(outbound_, KeyOf(query));
}

void AdminLookupCache::PutOutbound(const OutboundQuery& query, const Result<OutboundRoute>& answer,
                                   uint64_t generation) {
  Put(outbound_, KeyOf(query), answer, generation);
}

void AdminLookupCache::ForgetTenant(const TenantId& tenant, std::string_view sip_domain) {
  std::lock_guard lock(mu_);
  ++generation_;
  EraseIf(domains_, [&](const auto& kv) {
    return kv.first == sip_domain || (kv.second.answer.ok() && kv.second.answer->tenant == tenant);
  });
  EraseIf(credentials_, [&](const auto& kv) {
    return kv.first.first == sip_domain ||
           (kv.second.answer.ok() && kv.second.answer->tenant == tenant);
  });
  EraseIf(extensions_, [&](const auto& kv) {
    return kv.first.first == sip_domain ||
           (kv.second.answer.ok() && kv.second.answer->tenant.id == tenant);
  });
  EraseIf(trunks_, [&](const auto& kv) {
    return kv.second.answer.ok() && kv.second.answer->tenant.id == tenant;
  });
  EraseIf(numbers_, [&](const auto& kv) {
    return kv.second.answer.ok() && kv.second.answer->tenant.id == tenant;
  });
  EraseIf(outbound_, [&](const auto& kv) { return std::get<0>(kv.first) == tenant.str(); });
}

void AdminLookupCache::ForgetExtension(std::string_view sip_domain, std::string_view extension_id,
                                       std::string_view sip_username, std::string_view number) {
  std::lock_guard lock(mu_);
  ++generation_;
  auto of_extension = [&](const auto& kv) {
    const auto& [domain, user] = kv.first;
    return (domain == sip_domain && (user == sip_username || user == number)) ||
           (kv.second.answer.ok() && kv.second.answer->extension_id == extension_id);
  };
  EraseIf(credentials_, of_extension);
  EraseIf(extensions_, of_extension);
}

void AdminLookupCache::ForgetTrunks() {
  std::lock_guard lock(mu_);
  ++generation_;
  trunks_.clear();
  outbound_.clear();
}

void AdminLookupCache::ForgetNumber(std::string_view e164, std::string_view number_id) {
  std::lock_guard lock(mu_);
  ++generation_;
  EraseIf(numbers_, [&](const auto& kv) {
    return kv.first == e164 || (kv.second.answer.ok() && kv.second.answer->number_id == number_id);
  });
}

void AdminLookupCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  EachMap(*this, [](auto& map) { map.clear(); });
}

size_t AdminLookupCache::size() const {
  std::lock_guard lock(mu_);
  return Entries();
}

}  // namespace sb::signaling
