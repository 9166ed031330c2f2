#include "protection/clear_sources.h"

namespace sb::signaling {

void ClearSources::MarkClear(std::string_view source_ip) {
  if (ttl_.count() <= 0) return;
  std::lock_guard lock(mu_);
  if (until_.size() >= max_entries_ && until_.find(source_ip) == until_.end()) until_.clear();
  until_.insert_or_assign(std::string(source_ip), clock_.Now() + ttl_);
}

void ClearSources::Forget(std::string_view source_ip) {
  std::lock_guard lock(mu_);
  if (auto it = until_.find(source_ip); it != until_.end()) until_.erase(it);
}

bool ClearSources::IsKnownClear(std::string_view source_ip) const {
  std::lock_guard lock(mu_);
  auto it = until_.find(source_ip);
  return it != until_.end() && clock_.Now() < it->second;
}

size_t ClearSources::size() const {
  std::lock_guard lock(mu_);
  return until_.size();
}

}  // namespace sb::signaling
