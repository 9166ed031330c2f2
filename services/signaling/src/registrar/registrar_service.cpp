#include "registrar/registrar_service.h"

#include "rpc/admin_change_listener.h"
#include "rpc/admin_lookup_cache.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/streams.h"
#include "switchboard/core/ids.h"
#include "switchboard/redis/client.h"
#include "switchboard/sip/digest_server.h"

namespace sb::signaling {

// Declared in dependency order: members are destroyed in reverse, so the offloader (whose workers
// use everything else) goes first.
struct RegistrarService::Parts {
  std::unique_ptr<bus::Bus> bus;
  std::unique_ptr<redis::Client> redis;
  std::unique_ptr<core::UuidV7Generator> ids;
  std::unique_ptr<bus::EventFactory> factory;
  std::unique_ptr<RegistrationEvents> events;
  core::OpenSslRandom random;
  std::unique_ptr<sip::DigestServer> digest;
  std::unique_ptr<RequestAuthenticator> auth;
  std::unique_ptr<AdminLookupCache> admin_cache;
  std::unique_ptr<AdminChangeListener> admin_changes;
  std::unique_ptr<AdminLookups> admin;
  std::unique_ptr<RedisBindingStore> bindings;
  std::unique_ptr<AuthFailureBan> ban;
  std::unique_ptr<AccountRateLimit> account_limit;
  std::unique_ptr<AccountRateLimit> call_account_limit;
  std::unique_ptr<ClearSources> clear_sources;
  std::unique_ptr<AuthGuard> call_guard;
  std::unique_ptr<RedisBindingLapses> lapses;
  std::unique_ptr<RedisEventOutbox> outbox;
  std::unique_ptr<LapseSweeper> lapse_sweeper;
  std::unique_ptr<LoopRedis> loop_redis;
  std::unique_ptr<ThreadPoolOffloader> offloader;
  std::unique_ptr<Registrar> registrar;
};

RegistrarService::RegistrarService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

RegistrarService::~RegistrarService() {
  // The workers go before the registrar they call into.
  if (parts_) parts_->offloader.reset();
}

Registrar& RegistrarService::handler() { return *parts_->registrar; }

void RegistrarService::DetachFromLoop() {
  if (parts_->loop_redis) parts_->loop_redis->Detach();
}
bus::Bus& RegistrarService::bus() { return *parts_->bus; }
redis::Client& RegistrarService::redis() { return *parts_->redis; }
LoopRedis* RegistrarService::loop_redis() { return parts_->loop_redis.get(); }
const bus::EventFactory& RegistrarService::event_factory() { return *parts_->factory; }
const RequestAuthenticator& RegistrarService::authenticator() { return *parts_->auth; }
AdminLookups& RegistrarService::admin() { return *parts_->admin; }
RedisBindingStore& RegistrarService::bindings() { return *parts_->bindings; }
RedisBindingLapses& RegistrarService::lapses() { return *parts_->lapses; }
RegistrationEvents& RegistrarService::events() { return *parts_->events; }
RedisEventOutbox& RegistrarService::outbox() { return *parts_->outbox; }
const AuthGuard& RegistrarService::call_guard() { return *parts_->call_guard; }

Result<std::unique_ptr<RegistrarService>> RegistrarService::Start(
    const RegistrarServiceConfig& config, PostToLoop post_to_loop, const core::Clock& clock,
    core::MetricsRegistry& metrics, const core::Logger& log, FdWatcher* loop) {
  if (config.nonce_secret.size() < 16) {
    return Status::InvalidArgument("the nonce secret needs at least 16 bytes", "nonce-secret");
  }
  auto p = std::make_unique<Parts>();
  bus::NatsBusOptions nats;
  nats.url = config.nats_url;
  nats.name = "signaling/" + config.node_id;
  // Every call sends the media node three requests and JetStream three events: batched by
  // cnats's flusher, they cost this node and nats-server a quarter less CPU per call, for about
  // 1 ms more per request (bench/RESULTS.md, session 9).
  nats.send_asap = false;
  auto bus = bus::NatsBus::Connect(nats);
  if (!bus.ok()) return bus.status();
  p->bus = std::move(*bus);
  SB_RETURN_IF_ERROR(p->bus->EnsureStream(bus::EventsStream()));
  auto redis_options = redis::OptionsFromUrl(config.redis_url, config.redis_prefix);
  if (!redis_options.ok()) return redis_options.status();
  redis_options->connections = config.redis_connections;
  p->redis = std::make_unique<redis::Client>(*redis_options);
  p->ids = std::make_unique<core::UuidV7Generator>(clock);
  p->factory = std::make_unique<bus::EventFactory>(clock, *p->ids, "signaling/" + config.node_id);
  p->events = std::make_unique<RegistrationEvents>(*p->bus, *p->factory, config.node_id,
                                                   std::chrono::seconds(2));
  sip::DigestServerOptions digest;
  digest.secret = config.nonce_secret;
  digest.qop = {sip::Qop::kAuth};
  p->digest = std::make_unique<sip::DigestServer>(clock, p->random, digest);
  p->auth = std::make_unique<RequestAuthenticator>(*p->digest, config.auth);
  if (config.admin_cache_ttl.count() > 0) {
    p->admin_cache = std::make_unique<AdminLookupCache>(clock, config.admin_cache_ttl);
    auto listener = AdminChangeListener::Start(*p->bus, *p->admin_cache, config.node_id, log);
    if (!listener.ok()) return listener.status();
    p->admin_changes = std::move(*listener);
  }
  p->admin = std::make_unique<AdminLookups>(*p->bus, config.admin_timeout, p->admin_cache.get());
  p->bindings = std::make_unique<RedisBindingStore>(*p->redis);
  p->ban = std::make_unique<AuthFailureBan>(*p->redis, config.ban);
  p->account_limit = std::make_unique<AccountRateLimit>(*p->redis, config.account_limit);
  p->call_account_limit = std::make_unique<AccountRateLimit>(*p->redis, config.call_account_limit);
  // Sources found not banned within the last 2 s: their REGISTERs and INVITEs without credentials
  // are challenged on the loop (one table for both, as the ban is).
  p->clear_sources = std::make_unique<ClearSources>(clock, std::chrono::seconds(2));
  p->call_guard = std::make_unique<AuthGuard>(p->ban.get(), p->call_account_limit.get(), log,
                                              p->clear_sources.get());
  p->lapses = std::make_unique<RedisBindingLapses>(*p->redis);
  p->outbox = std::make_unique<RedisEventOutbox>(*p->redis, config.lapse_sweep.lease);
  p->lapse_sweeper = std::make_unique<LapseSweeper>(clock, *p->bindings, *p->lapses, *p->events,
                                                    log, config.lapse_sweep, p->outbox.get());
  p->lapse_sweeper->Start();
  if (loop != nullptr) p->loop_redis = std::make_unique<LoopRedis>(*loop, *redis_options, clock);
  p->offloader =
      std::make_unique<ThreadPoolOffloader>(config.worker_threads, std::move(post_to_loop));
  p->registrar = std::make_unique<Registrar>(RegistrarDeps{.clock = clock,
                                                           .offloader = *p->offloader,
                                                           .admin = *p->admin,
                                                           .auth = *p->auth,
                                                           .redis = *p->redis,
                                                           .bindings = *p->bindings,
                                                           .ban = p->ban.get(),
                                                           .account_limit = p->account_limit.get(),
                                                           .events = p->events.get(),
                                                           .outbox = p->outbox.get(),
                                                           .metrics = metrics,
                                                           .log = log,
                                                           .clear_sources = *p->clear_sources,
                                                           .loop_redis = p->loop_redis.get()},
                                             config.policy);
  return std::unique_ptr<RegistrarService>(new RegistrarService(std::move(p)));
}

}  // namespace sb::signaling
