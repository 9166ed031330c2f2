#include "b2bua/call_adopter.h"

#include <algorithm>
#include <utility>

namespace sb::signaling {
namespace {

// Silent replicas looked at per pass; more are taken on the next passes.
constexpr size_t kSilentPerPass = 10;

}  // namespace

CallAdopter::CallAdopter(const core::Clock& clock, RedisCallOwners& owners, std::string instance,
                         Probe probe, core::MetricsRegistry& metrics, const core::Logger& log,
                         CallAdoptionOptions options)
    : clock_(clock),
      owners_(owners),
      instance_(std::move(instance)),
      probe_(std::move(probe)),
      adopted_total_(metrics.Counter("sb_signaling_calls_adopted_total",
                                     "answered calls taken over from replicas that died")),
      ended_total_(metrics.Counter("sb_signaling_adopted_calls_ended_total",
                                   "adopted calls that ended here or elsewhere (disowned)")),
      log_(log),
      options_(options) {}

CallAdopter::~CallAdopter() { Stop(); }

size_t CallAdopter::adopted() const {
  std::lock_guard lock(state_->mu);
  return state_->adopted.size();
}

Status CallAdopter::PassOnce() {
  Status beat = owners_.Heartbeat(instance_, clock_.WallNow(), options_.sip_uri);
  if (!beat.ok()) return beat;
  SB_RETURN_IF_ERROR(AdoptFromSilent());
  SB_RETURN_IF_ERROR(ApplyOutcomes());

  std::vector<std::string> due;
  {
    std::lock_guard lock(state_->mu);
    const auto now = clock_.Now();
    for (auto& [id, call] : state_->adopted) {
      if (due.size() == options_.probes_per_pass) break;
      if (call.probing || call.due > now) continue;
      call.probing = true;
      due.push_back(id);
    }
  }
  for (auto& id : due) {
    probe_(id, [state = state_, id](bool going_on, std::chrono::milliseconds again_within) {
      {
        std::lock_guard lock(state->mu);
        state->outcomes.push_back({id, going_on, again_within});
        state->probed = true;
      }
      state->wake.notify_all();
    });
  }
  return Status::Ok();
}

Status CallAdopter::AdoptFromSilent() {
  auto silent = owners_.Silent(clock_.WallNow() - options_.dead_after, kSilentPerPass);
  if (!silent.ok()) return silent.status();
  for (const std::string& dead : *silent) {
    if (dead == instance_) continue;  // this replica stalled that long: its calls are its own
    auto won = owners_.Adopt(dead, instance_, options_.batch);
    if (!won.ok()) return won.status();
    if (won->empty()) continue;
    log_.Info("adopted the calls of a silent replica",
              {{"dead_instance", dead}, {"calls", std::to_string(won->size())}});
    adopted_total_.Inc(static_cast<double>(won->size()));
    std::lock_guard lock(state_->mu);
    for (auto& id : *won) state_->adopted[id] = Adopted{.due = clock_.Now()};
  }
  return Status::Ok();
}

Status CallAdopter::ApplyOutcomes() {
  std::vector<State::Outcome> outcomes;
  {
    std::lock_guard lock(state_->mu);
    outcomes.swap(state_->outcomes);
    for (const auto& outcome : outcomes) {
      auto it = state_->adopted.find(outcome.call_id);
      if (it == state_->adopted.end()) continue;
      if (outcome.going_on) {
        it->second.probing = false;
        auto wait = options_.probe_interval;
        if (outcome.again_within > std::chrono::milliseconds::zero()) {
          wait = std::min(wait, outcome.again_within);
        }
        it->second.due = clock_.Now() + wait;
      }
    }
  }
  Status status = Status::Ok();
  for (const auto& outcome : outcomes) {
    if (outcome.going_on) continue;
    const std::string& id = outcome.call_id;
    Status disowned = status.ok() ? owners_.Disown(instance_, id) : status;
    std::lock_guard lock(state_->mu);
    if (disowned.ok()) {
      if (state_->adopted.erase(id) != 0) ended_total_.Inc();
    } else {
      state_->outcomes.push_back({id, false, {}});  // disowned on a later pass
      status = disowned;
    }
  }
  return status;
}

void CallAdopter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void CallAdopter::Stop() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->wake.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CallAdopter::Run() {
  std::unique_lock lock(state_->mu);
  while (!state_->stop) {
    lock.unlock();
    Status passed = PassOnce();
    if (!passed.ok()) log_.Warn("call adoption pass failed", {{"error", passed.ToString()}});
    lock.lock();
    // A probe's outcome wakes the thread early, so that an ended call is disowned at once.
    state_->wake.wait_for(lock, options_.heartbeat,
                          [this] { return state_->stop || state_->probed; });
    state_->probed = false;
  }
}

}  // namespace sb::signaling
