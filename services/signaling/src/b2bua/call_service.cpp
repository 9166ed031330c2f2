#include "b2bua/call_service.h"

#include <optional>

#include "b2bua/b2bua.h"
#include "b2bua/b2bua_call_control.h"
#include "b2bua/call_adopter.h"
#include "b2bua/digest_call_authorizer.h"
#include "registrar/callee_locator.h"
#include "routing/call_router.h"
#include "routing/originators.h"
#include "rpc/call_command_server.h"
#include "rpc/call_event_publisher.h"
#include "rpc/call_events_sink.h"
#include "rpc/call_media_anchor.h"
#include "store/parked_event_journal.h"
#include "store/redis_call_owners.h"
#include "store/redis_call_store.h"
#include "store/stored_call_whereabouts.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/media_client/node_tracker.h"
#include "switchboard/media_client/operations.h"

namespace sb::signaling {

struct CallService::Parts {
  std::unique_ptr<media_client::NodeTracker> nodes;
  std::unique_ptr<MediaClientAnchor> media;
  std::unique_ptr<ParkedEventJournal> journal;  // before the sink, whose outbox uses it
  std::unique_ptr<CallEventSink> events;
  std::unique_ptr<RedisCallStore> store;
  std::unique_ptr<b2bua::DigestCallAuthorizer> authorizer;
  std::unique_ptr<DnsResolver> dns;  // before the router, which asks it
  std::unique_ptr<AdminCallRouter> router;
  std::unique_ptr<AdminOriginators> originators;
  std::unique_ptr<RegistrarCalleeLocator> locator;
  std::unique_ptr<ThreadPoolOffloader> offloader;
  std::unique_ptr<b2bua::B2bua> b2bua;
  std::unique_ptr<b2bua::B2buaCallControl> control;
  std::unique_ptr<RedisCallOwners> owners;
  std::unique_ptr<StoredCallWhereabouts> whereabouts;
  std::unique_ptr<CallCommandServer> commands;
  std::unique_ptr<CallAdopter> adopter;
  std::unique_ptr<bus::Subscription> media_silence;  // rtp_timeout events of every node
  std::string instance;
  std::optional<core::Logger> log;
};

CallService::CallService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

CallService::~CallService() { StopWork(); }

void CallService::StopWork() {
  parts_->media_silence.reset();
  if (parts_->adopter) {
    parts_->adopter->Stop();
    // The calls still up when the drain ran out (and those this run adopted) go on through the
    // store: the other replicas take them now, not once this run's heartbeat is old.
    if (Status retired = parts_->owners->Retire(parts_->instance); !retired.ok()) {
      parts_->log->Warn("calls left to the others' adoption timeout",
                        {{"error", retired.ToString()}});
    }
    parts_->adopter.reset();
  }
  if (parts_->commands) parts_->commands->Stop();
  // Before the offloader: a media answer's callback goes back to the loop through it.
  parts_->media->StopAsync();
  parts_->offloader.reset();
  parts_->nodes->Stop();
}

void CallService::Attach(SipEndpoint& endpoint) {
  endpoint.SetHandler(sip::Method::kInvite, parts_->b2bua.get());
  endpoint.SetDialogHandler(parts_->b2bua.get());
}

size_t CallService::active_calls() const { return parts_->b2bua->calls(); }

Status CallService::MediaReady() const {
  auto node = parts_->nodes->PickLeastLoaded();
  return node.ok() ? Status::Ok() : Status::Unavailable("no live media node yet");
}

void CallService::Detach(SipEndpoint& endpoint) {
  endpoint.SetHandler(sip::Method::kInvite, nullptr);
  endpoint.SetDialogHandler(nullptr);
}

Result<std::unique_ptr<CallService>> CallService::Start(
    const CallServiceConfig& config, RegistrarService& shared, SipEndpoint& endpoint,
    PostToLoop post_to_loop, const core::Clock& clock, core::MetricsRegistry& metrics,
    const core::Logger& log) {
  auto p = std::make_unique<Parts>();
  // This run of the node: calls of a run that died are told from those of the next run under
  // the same id (store/redis_call_owners.h).
  const std::string instance = RedisCallOwners::NewInstance(config.node_id);
  p->instance = instance;
  p->log.emplace(log);
  p->nodes = std::make_unique<media_client::NodeTracker>(shared.bus(), clock);
  SB_RETURN_IF_ERROR(p->nodes->Start());
  auto requests = bus::AsyncRequests::Start(shared.bus());
  if (!requests.ok()) return requests.status();
  p->media = std::make_unique<MediaClientAnchor>(shared.bus(), *p->nodes, config.media_timeout,
                                                 std::move(*requests), config.rtp_timeout);
  p->journal = std::make_unique<ParkedEventJournal>(shared.outbox(), clock, metrics, log);
  p->events = std::make_unique<CallEventSink>(
      shared.bus(), shared.event_factory(), clock, config.node_id, metrics, log,
      bus::JsOutboxOptions{.linger = config.event_linger}, p->journal.get());
  p->store = std::make_unique<RedisCallStore>(shared.redis(), config.stored_call_ttl,
                                              shared.outbox(), clock, shared.loop_redis());
  p->authorizer = std::make_unique<b2bua::DigestCallAuthorizer>(
      shared.authenticator(), shared.admin(), shared.call_guard(), shared.redis(), metrics);
  auto dns = DnsResolver::Create(clock, config.dns);
  if (!dns.ok()) return dns.status();
  p->dns = std::move(*dns);
  p->router = std::make_unique<AdminCallRouter>(
      shared.admin(),
      [dns = p->dns.get()](const sip::Destination& gateway) { return dns->Locate(gateway); });
  p->originators = std::make_unique<AdminOriginators>(shared.admin());
  p->locator = std::make_unique<RegistrarCalleeLocator>(shared.bindings(), &shared.admin(), clock);
  p->offloader = std::make_unique<ThreadPoolOffloader>(config.worker_threads, post_to_loop);
  p->b2bua = std::make_unique<b2bua::B2bua>(
      endpoint, *p->offloader,
      b2bua::Ports{*p->authorizer, *p->router, *p->locator, *p->media, *p->events, *p->store},
      b2bua::Settings{.node_id = instance,
                      .no_answer_timeout = config.no_answer_timeout,
                      .silent_contact_timeout = config.silent_contact_timeout,
                      .store_ringing_after = config.store_ringing_after,
                      .session_timer = config.session_timer});
  if (config.rtp_timeout.count() > 0) {
    // Every replica hears every node's reports; the one carrying the call acts on it.
    auto filter = bus::subjects::EventFilter(media_client::ops::kService,
                                             media_client::ops::kRtpTimeoutEventType, "*");
    if (!filter.ok()) return filter.status();
    auto silence = bus::SubscribeProto<switchboard::media::v1::RtpTimeoutEvent>(
        shared.bus(), *filter, "",
        [b2bua = p->b2bua.get(), post_to_loop](const switchboard::media::v1::RtpTimeoutEvent& e,
                                               const bus::Message&) {
          post_to_loop([b2bua, leg = e.leg().leg_id()] { b2bua->OnMediaSilent(leg); });
        },
        nullptr);
    if (!silence.ok()) return silence.status();
    p->media_silence = std::move(*silence);
  }
  p->control = std::make_unique<b2bua::B2buaCallControl>(
      *p->b2bua, post_to_loop, std::chrono::seconds(3), p->originators.get());
  p->owners = std::make_unique<RedisCallOwners>(shared.redis());
  p->whereabouts = std::make_unique<StoredCallWhereabouts>(*p->store, *p->owners, clock, instance,
                                                           config.adoption.dead_after);
  p->commands = std::make_unique<CallCommandServer>(shared.bus(), config.node_id, *p->control,
                                                    p->whereabouts.get());
  SB_RETURN_IF_ERROR(p->commands->Start());
  p->adopter = std::make_unique<CallAdopter>(
      clock, *p->owners, instance,
      [b2bua = p->b2bua.get(), post_to_loop](std::string id, auto done) {
        post_to_loop([b2bua, id = std::move(id), done = std::move(done)]() mutable {
          b2bua->ProbeStored(std::move(id), std::move(done));
        });
      },
      metrics, log, config.adoption);
  p->adopter->Start();
  return std::unique_ptr<CallService>(new CallService(std::move(p)));
}

}  // namespace sb::signaling
