#include "rpc/admin_lookup_cache.h"

#include <iterator>

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

void AdminLookupCache::MakeRoom() {
  if (domains_.size() + credentials_.size() < max_entries_) return;
  const auto now = clock_.Now();
  auto expired = [now](const auto& kv) { return kv.second.expires <= now; };
  EraseIf(domains_, expired);
  EraseIf(credentials_, expired);
  if (domains_.size() + credentials_.size() < max_entries_) return;
  domains_.clear();
  credentials_.clear();
}

std::optional<Result<DomainInfo>> AdminLookupCache::Domain(std::string_view sip_domain) const {
  std::lock_guard lock(mu_);
  auto it = domains_.find(sip_domain);
  if (it == domains_.end() || it->second.expires <= clock_.Now()) return std::nullopt;
  return it->second.answer;
}

void AdminLookupCache::PutDomain(std::string_view sip_domain, const Result<DomainInfo>& answer,
                                 uint64_t generation) {
  if (!Cacheable(answer.status())) return;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  MakeRoom();
  domains_.insert_or_assign(std::string(sip_domain),
                            Entry<DomainInfo>{answer, clock_.Now() + ttl_});
}

std::optional<Result<ExtensionCredentials>> AdminLookupCache::Credentials(
    std::string_view sip_domain, std::string_view sip_username) const {
  std::lock_guard lock(mu_);
  auto it = credentials_.find({std::string(sip_domain), std::string(sip_username)});
  if (it == credentials_.end() || it->second.expires <= clock_.Now()) return std::nullopt;
  return it->second.answer;
}

void AdminLookupCache::PutCredentials(std::string_view sip_domain, std::string_view sip_username,
                                      const Result<ExtensionCredentials>& answer,
                                      uint64_t generation) {
  if (!Cacheable(answer.status())) return;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  MakeRoom();
  credentials_.insert_or_assign({std::string(sip_domain), std::string(sip_username)},
                                Entry<ExtensionCredentials>{answer, clock_.Now() + ttl_});
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
}

void AdminLookupCache::ForgetExtension(std::string_view sip_domain, std::string_view extension_id,
                                       std::string_view sip_username, std::string_view number) {
  std::lock_guard lock(mu_);
  ++generation_;
  EraseIf(credentials_, [&](const auto& kv) {
    const auto& [domain, user] = kv.first;
    return (domain == sip_domain && (user == sip_username || user == number)) ||
           (kv.second.answer.ok() && kv.second.answer->extension_id == extension_id);
  });
}

void AdminLookupCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  domains_.clear();
  credentials_.clear();
}

size_t AdminLookupCache::size() const {
  std::lock_guard lock(mu_);
  return domains_.size() + credentials_.size();
}

}  // namespace sb::signaling
