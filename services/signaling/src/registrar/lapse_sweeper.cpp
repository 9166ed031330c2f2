#include "registrar/lapse_sweeper.h"

#include <algorithm>

#include "registrar/parked_events.h"

namespace sb::signaling {

std::vector<RegistrationChange> LapseChanges(const TenantId& tenant, std::string_view aor,
                                             const std::vector<Binding>& bindings, WallTime now) {
  std::vector<RegistrationChange> out;
  for (const Binding& b : bindings) {
    if (b.expires_at > now) continue;
    RegistrationChange c = ChangeOf(RegistrationChange::Kind::kExpired, tenant, aor, b);
    c.lapsed_at = b.expires_at;
    out.push_back(std::move(c));
  }
  return out;
}

LapseSweeper::LapseSweeper(const core::Clock& clock, RedisBindingStore& store,
                           RedisBindingLapses& lapses, RegistrationEvents& events,
                           const core::Logger& log, LapseSweepOptions options,
                           RedisEventOutbox* parked)
    : clock_(clock),
      store_(store),
      lapses_(lapses),
      events_(events),
      log_(log),
      options_(options),
      parked_(parked) {}

LapseSweeper::~LapseSweeper() { Stop(); }

Result<size_t> LapseSweeper::SweepOnce() {
  const WallTime now = clock_.WallNow();
  auto lapses = SweepLapses(now);
  if (!lapses.ok()) return lapses;
  auto parked = SendParked(now);
  if (!parked.ok()) return parked;
  return std::max(*lapses, *parked);
}

Result<size_t> LapseSweeper::SendParked(WallTime now) {
  if (parked_ == nullptr) return 0;
  auto claimed = parked_->Claim(now, options_.batch);
  if (!claimed.ok()) return claimed.status();
  Status published = PublishParked(events_, parked_, *claimed);
  if (!published.ok()) {
    // Still parked and claimed: sent again after the lease.
    log_.Warn("parked events not published yet", {{"error", published.ToString()}});
  }
  return claimed->size();
}

Result<size_t> LapseSweeper::SweepLapses(WallTime now) {
  auto claimed = lapses_.Claim(now, options_.batch, options_.lease);
  if (!claimed.ok()) return claimed.status();
  for (const AddressOfRecordKey& key : *claimed) {
    auto stored = store_.Load(key.tenant, key.aor);
    if (!stored.ok()) return stored.status();  // the rest come due again after the lease
    std::vector<Binding> lapsed;
    for (const Binding& b : *stored) {
      if (b.expires_at <= now) lapsed.push_back(b);
    }
    auto changes = LapseChanges(key.tenant, key.aor, lapsed, now);
    if (!changes.empty()) {
      Status published = events_.Publish(changes, "");
      if (!published.ok()) {
        log_.Warn("lapsed bindings not reported yet",
                  {{"tenant_id", key.tenant.str()}, {"error", published.ToString()}});
        continue;  // kept and claimed: retried after the lease
      }
    }
    // With nothing lapsed (refreshed since) this only files the AOR under its new expiry.
    auto removed = lapses_.RemoveIfUnchanged(key.tenant, key.aor, lapsed);
    if (!removed.ok()) return removed.status();
  }
  return claimed->size();
}

void LapseSweeper::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LapseSweeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LapseSweeper::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto swept = SweepOnce();
    lock.lock();
    if (!swept.ok()) {
      log_.Warn("lapse sweep failed", {{"error", swept.status().ToString()}});
    } else if (*swept >= options_.batch) {
      continue;  // more may be due: no wait
    }
    wake_.wait_for(lock, options_.interval, [this] { return stop_; });
  }
}

}  // namespace sb::signaling
