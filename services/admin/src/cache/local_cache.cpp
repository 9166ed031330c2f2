#include "cache/local_cache.h"

#include <mutex>

namespace sb::admin {

std::optional<std::string> LocalLookupCache::Get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || clock_.Now() >= it->second.expires) return std::nullopt;
  return it->second.bytes;
}

uint64_t LocalLookupCache::Generation() const {
  std::shared_lock lock(mu_);
  return generation_;
}

void LocalLookupCache::Put(const std::string& key, std::string_view bytes, uint64_t generation) {
  if (options_.max_entries == 0) return;
  std::unique_lock lock(mu_);
  if (generation != generation_) return;
  auto it = entries_.find(key);
  if (it == entries_.end() && entries_.size() >= options_.max_entries) {
    entries_.erase(entries_.begin());
  }
  entries_[key] = Entry{std::string(bytes), clock_.Now() + options_.ttl};
}

void LocalLookupCache::Forget(const std::string& key) {
  std::unique_lock lock(mu_);
  ++generation_;
  entries_.erase(key);
}

void LocalLookupCache::ForgetPrefix(std::string_view prefix) {
  std::unique_lock lock(mu_);
  ++generation_;
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix) {
    it = entries_.erase(it);
  }
}

void LocalLookupCache::ForgetAll() {
  std::unique_lock lock(mu_);
  ++generation_;
  entries_.clear();
}

size_t LocalLookupCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace sb::admin
