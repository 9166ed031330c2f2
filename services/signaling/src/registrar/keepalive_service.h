// KeepaliveService: sends the OPTIONS pings KeepaliveScheduler (keepalive_scheduler.h) decides
// on, through the SipEndpoint, to the address each REGISTER came from (through its Path, the
// balancer, as the B2BUA calls that contact), and removes a binding whose phone stopped
// answering: out of Redis (only if it is still stored as this node knew it), then
// sb.evt.registration.expired.<tenant> with reason KEEPALIVE_FAILED, parked by the removal
// (store/redis_event_outbox.h) so that a crash in between loses no event.
//
//   auto keepalive = std::make_unique<sb::signaling::KeepaliveService>(
//       endpoint, post_to_loop, lapses, events, outbox, clock, metrics, log, options);
//   registrar.SetObserver(keepalive.get());      // before REGISTERs are handled
//   server.Post([&] { keepalive->Attach(); });   // the loop thread from now on
//   ...
//   server.Post([&] { keepalive->Detach(); });  keepalive->StopWork();
//   server.Post([&] { keepalive.reset(); });    // destroyed on the loop thread
//
// The schedule is in this process only: bindings registered through a replica that died are
// pinged again once their phones register through another (at the latest when they refresh).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "registrar/keepalive_scheduler.h"
#include "registrar/registration_observer.h"
#include "rpc/registration_events.h"
#include "runtime/offloader.h"
#include "store/redis_binding_lapses.h"
#include "store/redis_event_outbox.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "transport/sip_endpoint.h"

namespace sb::signaling {

class KeepaliveService final : public RegistrationObserver {
 public:
  using PostToLoop = std::function<void(std::function<void()>)>;
  // Borrowed references must outlive the service.
  KeepaliveService(SipEndpoint& endpoint, PostToLoop post_to_loop, RedisBindingLapses& lapses,
                   RegistrationEvents& events, RedisEventOutbox& parked, const core::Clock& clock,
                   core::MetricsRegistry& metrics, const core::Logger& log,
                   KeepaliveOptions options);
  ~KeepaliveService() override;  // on the loop thread

  // Any thread: on the loop thread (the registrar's loop path) it is applied at once, from the
  // registrar's workers it is handed to the loop.
  void OnRegistered(const TenantId& tenant, std::string_view aor,
                    const std::vector<Binding>& bindings, std::string_view source) override;

  void Attach();    // loop thread: starts pinging
  void Detach();    // loop thread: stops
  void StopWork();  // any thread: waits for removals under way

 private:
  void Track(const TenantId& tenant, std::string_view aor, const std::vector<Binding>& bindings,
             std::string_view source);
  void OnTick();
  void Arm();
  void Ping(const KeepalivePing& ping);
  void Remove(const KeepalivePing& gone);

  SipEndpoint& endpoint_;
  PostToLoop post_to_loop_;
  RedisBindingLapses& lapses_;
  RegistrationEvents& events_;
  RedisEventOutbox& parked_;
  const core::Clock& clock_;
  core::Logger log_;
  // Shared with the pings' response callbacks, which may outlive the service in the endpoint.
  std::shared_ptr<KeepaliveScheduler> scheduler_;
  std::unique_ptr<ThreadPoolOffloader> offloader_;
  bool attached_ = false;
  // Set by Attach, on the loop thread; read by OnRegistered on any thread.
  std::atomic<std::thread::id> loop_thread_{};
  uint64_t timer_ = 0;
  core::CounterMetric& pings_;
  core::CounterMetric& answered_;
  core::CounterMetric& removed_;
  core::GaugeMetric& tracked_;
};

}  // namespace sb::signaling
