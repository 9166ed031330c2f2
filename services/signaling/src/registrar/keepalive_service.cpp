#include "registrar/keepalive_service.h"

#include <algorithm>

#include "registrar/callee_locator.h"
#include "registrar/parked_events.h"
#include "switchboard/sip/builder.h"

namespace sb::signaling {
namespace {

// The loop re-checks at least this often (bindings are added between deadlines) and at most
// this often (a burst of due pings is spread over ticks by max_per_tick).
constexpr auto kLongestWait = std::chrono::milliseconds(1000);
constexpr auto kShortestWait = std::chrono::milliseconds(20);

}  // namespace

KeepaliveService::KeepaliveService(SipEndpoint& endpoint, PostToLoop post_to_loop,
                                   RedisBindingLapses& lapses, RegistrationEvents& events,
                                   RedisEventOutbox& parked, const core::Clock& clock,
                                   core::MetricsRegistry& metrics, const core::Logger& log,
                                   KeepaliveOptions options)
    : endpoint_(endpoint),
      post_to_loop_(post_to_loop),
      lapses_(lapses),
      events_(events),
      parked_(parked),
      clock_(clock),
      log_(log),
      scheduler_(std::make_shared<KeepaliveScheduler>(clock, options)),
      offloader_(std::make_unique<ThreadPoolOffloader>(1, std::move(post_to_loop), 1000)),
      pings_(metrics.Counter("sb_signaling_keepalive_pings_total",
                             "OPTIONS keep-alive pings sent to phones behind NAT")),
      answered_(metrics.Counter("sb_signaling_keepalive_answered_total",
                                "keep-alive pings the phone answered (any response)")),
      removed_(metrics.Counter("sb_signaling_keepalive_removed_total",
                               "bindings removed because their phone stopped answering")),
      tracked_(metrics.Gauge("sb_signaling_keepalive_bindings", "bindings this node pings")) {}

KeepaliveService::~KeepaliveService() {
  Detach();
  StopWork();
}

void KeepaliveService::OnRegistered(const TenantId& tenant, std::string_view aor,
                                    const std::vector<Binding>& bindings, std::string_view source) {
  // A REGISTER the loop answered needs no copy, queue or wake-up of the loop.
  if (std::this_thread::get_id() == loop_thread_.load(std::memory_order_relaxed)) {
    return Track(tenant, aor, bindings, source);
  }
  post_to_loop_([this, tenant, aor = std::string(aor), bindings, source = std::string(source)] {
    Track(tenant, aor, bindings, source);
  });
}

void KeepaliveService::Track(const TenantId& tenant, std::string_view aor,
                             const std::vector<Binding>& bindings, std::string_view source) {
  if (!attached_) return;
  scheduler_->OnRegistered(tenant, aor, bindings, source);
  tracked_.Set(static_cast<double>(scheduler_->tracked()));
}

void KeepaliveService::Attach() {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  attached_ = true;
  Arm();
}

void KeepaliveService::Detach() {
  attached_ = false;
  if (timer_ != 0) endpoint_.StopTimer(timer_);
  timer_ = 0;
}

void KeepaliveService::StopWork() { offloader_.reset(); }

void KeepaliveService::Arm() {
  auto wait = kLongestWait;
  if (auto next = scheduler_->NextDeadline()) {
    wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*next - clock_.Now()),
                      kShortestWait, kLongestWait);
  }
  timer_ = endpoint_.StartTimer(wait, [this] {
    timer_ = 0;
    OnTick();
  });
}

void KeepaliveService::OnTick() {
  if (!attached_) return;
  KeepaliveWork work = scheduler_->Tick();
  for (const auto& ping : work.pings) Ping(ping);
  for (const auto& gone : work.failed) Remove(gone);
  tracked_.Set(static_cast<double>(scheduler_->tracked()));
  Arm();
}

void KeepaliveService::Ping(const KeepalivePing& ping) {
  auto destination = ParseSource(ping.binding.source);
  if (!destination) return;  // not written by this registrar; it times out as a failure
  const std::string local = endpoint_.ContactUri(destination->transport);
  auto options = sip::MessageBuilder::Request("OPTIONS", ping.binding.contact);
  for (const auto& route : ping.binding.path) options.AddHeader("Route", route);
  options.AddHeader("From", "<" + local + ">;tag=" + endpoint_.NewTag())
      .AddHeader("To", "<" + ping.binding.contact + ">")
      .AddHeader("Call-ID", "keepalive-" + endpoint_.NewTag() + "-" + std::to_string(ping.id))
      .AddHeader("CSeq", "1 OPTIONS");
  std::weak_ptr<KeepaliveScheduler> scheduler = scheduler_;
  const uint64_t id = ping.id;
  auto sent = endpoint_.SendRequest(
      options, *destination,
      [scheduler, id, &answered = answered_](const ClientResponse& r, SipEndpoint&) {
        auto alive = scheduler.lock();
        if (!alive || r.timed_out) return;
        answered.Inc();
        alive->OnAnswered(id);
      });
  if (sent.ok()) pings_.Inc();
}

void KeepaliveService::Remove(const KeepalivePing& gone) {
  if (!offloader_) return;
  Status queued = offloader_->Run(
      [this, gone] {
        auto event = events_.Messages({ChangeOf(RegistrationChange::Kind::kKeepaliveFailed,
                                                gone.tenant, gone.aor, gone.binding)},
                                      "");
        if (!event.ok()) {
          log_.Warn("keep-alive: expired event not built",
                    {{"tenant_id", gone.tenant.str()}, {"error", event.status().ToString()}});
          return;
        }
        // The event is parked by the removal itself: a crash after it loses neither.
        const auto report = parked_.ParkingOf(*event, clock_.WallNow());
        auto removed = lapses_.RemoveIfUnchanged(gone.tenant, gone.aor, {gone.binding}, &report);
        if (!removed.ok()) {
          log_.Warn("keep-alive: binding not removed",
                    {{"tenant_id", gone.tenant.str()}, {"error", removed.status().ToString()}});
          return;
        }
        if (*removed == 0) return;  // registered again (maybe elsewhere): alive after all
        removed_.Inc();
        Status published = PublishParked(events_, &parked_, *event);
        if (!published.ok()) {
          log_.Warn("keep-alive: expired event not published",
                    {{"tenant_id", gone.tenant.str()}, {"error", published.ToString()}});
        }
      },
      nullptr);  // nothing to do on the loop afterwards
  if (!queued.ok()) {
    log_.Warn("keep-alive: removal not queued", {{"tenant_id", gone.tenant.str()}});
  }
}

}  // namespace sb::signaling
