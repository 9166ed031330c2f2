#include "registrar/keepalive_scheduler.h"

#include <algorithm>

#include "registrar/callee_locator.h"
#include "switchboard/core/ascii.h"
#include "switchboard/sip/uri.h"

namespace sb::signaling {
namespace {

using core::EqualsIgnoreCase;

std::string KeyOf(const TenantId& tenant, std::string_view aor, std::string_view contact) {
  return tenant.str() + "\n" + std::string(aor) + "\n" + std::string(contact);
}

}  // namespace

bool NeedsKeepalive(const Binding& binding) {
  auto contact = sip::ParseUri(binding.contact);
  if (!contact.ok() || !contact->is_sip()) return false;
  if (contact->params().Has("ob")) return true;
  std::optional<sip::Destination> seen = PathReceived(binding.path);
  if (!seen) seen = ParseSource(binding.source);
  if (!seen) return false;
  const uint16_t default_port = contact->scheme == sip::UriScheme::kSips ? 5061 : 5060;
  const uint16_t port = contact->port != 0 ? contact->port : default_port;
  return !EqualsIgnoreCase(contact->host, seen->host) || port != seen->port;
}

KeepaliveScheduler::KeepaliveScheduler(const core::Clock& clock, KeepaliveOptions options)
    : clock_(clock), options_(options) {}

void KeepaliveScheduler::Schedule(const std::string& key, Entry& entry, core::Clock::TimePoint at) {
  due_.erase({entry.at, key});
  entry.at = at;
  due_.insert({at, key});
}

void KeepaliveScheduler::Forget(std::map<std::string, Entry>::iterator it) {
  due_.erase({it->second.at, it->first});
  if (it->second.in_flight != 0) pings_.erase(it->second.in_flight);
  entries_.erase(it);
}

void KeepaliveScheduler::OnRegistered(const TenantId& tenant, std::string_view aor,
                                      const std::vector<Binding>& bindings,
                                      std::string_view source) {
  const std::string prefix = KeyOf(tenant, aor, "");
  std::set<std::string> keep;
  for (const Binding& b : bindings) {
    if (b.source != source || !NeedsKeepalive(b)) continue;
    const std::string key = KeyOf(tenant, aor, b.contact);
    keep.insert(key);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      it->second.binding = b;  // refreshed: the removal must match what is stored now
      continue;
    }
    if (entries_.size() >= options_.max_tracked) {
      ++refused_;
      continue;
    }
    Entry& entry = entries_[key];
    entry.tenant = tenant;
    entry.aor = std::string(aor);
    entry.binding = b;
    entry.at = clock_.Now() + options_.interval;
    due_.insert({entry.at, key});
  }
  // This AOR's entries the REGISTER removed, or that registered from elsewhere since.
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.starts_with(prefix);) {
    auto next = std::next(it);
    if (!keep.contains(it->first)) Forget(it);
    it = next;
  }
}

KeepaliveWork KeepaliveScheduler::Tick() {
  KeepaliveWork work;
  const auto now = clock_.Now();
  const WallTime wall = clock_.WallNow();
  size_t done = 0;
  while (!due_.empty() && due_.begin()->first <= now && done < options_.max_per_tick) {
    auto it = entries_.find(due_.begin()->second);
    due_.erase(due_.begin());
    if (it == entries_.end()) continue;
    Entry& entry = it->second;
    if (entry.in_flight != 0) {
      // No answer in time.
      pings_.erase(entry.in_flight);
      entry.in_flight = 0;
      if (++entry.failures >= options_.max_failures) {
        ++done;
        work.failed.push_back({0, entry.tenant, entry.aor, entry.binding});
        entries_.erase(it);
        continue;
      }
    }
    if (entry.binding.expires_at <= wall) {
      entries_.erase(it);  // lapsed: the sweep reports it
      continue;
    }
    ++done;
    const uint64_t id = next_id_++;
    entry.in_flight = id;
    pings_[id] = it->first;
    entry.at = now + options_.timeout;
    due_.insert({entry.at, it->first});
    work.pings.push_back({id, entry.tenant, entry.aor, entry.binding});
  }
  return work;
}

void KeepaliveScheduler::OnAnswered(uint64_t id) {
  auto ping = pings_.find(id);
  if (ping == pings_.end()) return;
  auto it = entries_.find(ping->second);
  pings_.erase(ping);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  entry.in_flight = 0;
  entry.failures = 0;
  // The next ping an interval after this one was sent.
  Schedule(it->first, entry, entry.at - options_.timeout + options_.interval);
}

std::optional<core::Clock::TimePoint> KeepaliveScheduler::NextDeadline() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

}  // namespace sb::signaling
