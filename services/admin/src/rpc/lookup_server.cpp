#include "rpc/lookup_server.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "rpc/convert.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/bus/subjects.h"

namespace sb::admin::rpc {
namespace {

namespace common = ::switchboard::common::v1;

void SetError(const Status& s, common::Error* out) {
  out->set_code(static_cast<common::ErrorCode>(static_cast<int>(s.code())));
  out->set_message(s.message());
  out->set_field(s.field());
}

// What one lookup produced: the reply bytes, whether they may be cached, and the tenant whose
// status they carry.
struct Answer {
  std::string bytes;
  bool cacheable = false;
  std::optional<TenantId> tenant;
};

template <typename ReplyT, typename R, typename Fill>
Answer Build(const R& result, Fill fill) {
  ReplyT reply;
  Answer a;
  if (result.ok()) {
    fill(*result, reply);
    a.cacheable = true;
  } else {
    SetError(result.status(), reply.mutable_error());
    a.cacheable = result.status().code() == StatusCode::kNotFound;
  }
  a.bytes = reply.SerializeAsString();
  return a;
}

}  // namespace

Result<std::string> LookupSubject(std::string_view operation) {
  return bus::subjects::Command("admin", operation);
}

// Answers lookups. With `memory_only` (on a delivery thread) only the in-process cache is asked
// and each method returns false for a request it leaves to a worker; otherwise Redis and the
// database are asked too and every request is answered.
struct LookupServer::Worker {
  Worker(bool memory_only, bus::Bus& b, Lookups& l, const redis::ClientOptions& o,
         std::chrono::milliseconds ttl, const SecretBox& box, LocalLookupCache* local,
         core::MetricsRegistry& m, const core::Logger& lg)
      : memory_only(memory_only),
        bus(b),
        lookups(l),
        local(local),
        redis(o),
        cache(redis, ttl, box, local),
        log(lg),
        hits(m.Counter("sb_admin_lookup_cache_total", "lookup cache results", {{"result", "hit"}})),
        misses(
            m.Counter("sb_admin_lookup_cache_total", "lookup cache results", {{"result", "miss"}})),
        local_hits(m.Counter("sb_admin_lookup_local_hits_total",
                             "lookup cache hits answered from the in-process cache")),
        errors(m.Counter("sb_admin_lookup_errors_total", "lookups that could not be answered")) {}

  // Answers one request: cache first, then the database through `compute`.
  bool Serve(const bus::Message& m, const std::string& key,
             const std::function<Answer()>& compute) {
    if (m.reply.empty()) return true;
    if (memory_only) {
      auto hit = key.empty() || local == nullptr ? std::nullopt : local->Get(key);
      if (!hit) return false;
      hits.Inc();
      local_hits.Inc();
      (void)bus.Publish({.subject = m.reply, .data = *hit});
      return true;
    }
    uint64_t generation = 0;
    if (!key.empty()) {
      bool local_hit = false;
      auto hit = cache.Get(key, &generation, &local_hit);
      if (hit.ok() && hit->has_value()) {
        hits.Inc();
        if (local_hit) local_hits.Inc();
        (void)bus.Publish({.subject = m.reply, .data = **hit});
        return true;
      }
    }
    misses.Inc();
    Answer a = compute();
    if (!key.empty() && a.cacheable) {
      Status put = cache.Put(key, a.bytes, a.tenant, generation);
      if (!put.ok()) log.Warn("lookup cache put failed", {{"error", put.message()}});
    }
    if (!a.cacheable) errors.Inc();
    (void)bus.Publish({.subject = m.reply, .data = a.bytes});
    return true;
  }

  bool Domain(const bus::Message& m) {
    pb::LookupDomainRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupDomainReply>(m);
    return Serve(m, LookupCache::DomainKey(req.sip_domain()), [&] {
      auto r = lookups.Domain(req.sip_domain());
      Answer a = Build<pb::LookupDomainReply>(r, [](const Tenant& t, pb::LookupDomainReply& out) {
        out.set_tenant_id(t.id.str());
        out.set_tenant_status(ToProto(t.status));
      });
      if (r.ok()) a.tenant = r->id;
      return a;
    });
  }

  bool TenantById(const bus::Message& m) {
    pb::LookupTenantRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupTenantReply>(m);
    const bool keyed = core::IsUuid(req.tenant_id());
    return Serve(m, keyed ? LookupCache::TenantKey(TenantId(req.tenant_id())) : "", [&] {
      auto r = lookups.TenantById(req.tenant_id());
      Answer a = Build<pb::LookupTenantReply>(r, [](const Tenant& t, pb::LookupTenantReply& out) {
        out.set_tenant_id(t.id.str());
        out.set_tenant_status(ToProto(t.status));
        out.set_sip_domain(t.sip_domain);
      });
      if (r.ok()) a.tenant = r->id;
      return a;
    });
  }

  bool Credentials(const bus::Message& m) {
    pb::LookupCredentialsRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupCredentialsReply>(m);
    return Serve(m, LookupCache::CredentialsKey(req.sip_domain(), req.sip_username()), [&] {
      auto r = lookups.Credentials(req.sip_domain(), req.sip_username());
      Answer a = Build<pb::LookupCredentialsReply>(
          r, [](const CredentialsAnswer& c, pb::LookupCredentialsReply& out) {
            out.set_tenant_id(c.tenant.id.str());
            out.set_tenant_status(ToProto(c.tenant.status));
            out.set_extension_id(c.extension.id.str());
            out.set_extension_number(c.extension.number);
            out.set_ha1_md5(c.extension.ha1_md5);
            out.set_ha1_sha256(c.extension.ha1_sha256);
            out.set_enabled(c.extension.enabled);
          });
      if (r.ok()) a.tenant = r->tenant.id;
      return a;
    });
  }

  bool Number(const bus::Message& m) {
    pb::LookupNumberRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupNumberReply>(m);
    return Serve(m, LookupCache::NumberKey(req.e164()), [&] {
      auto r = lookups.Number(req.e164());
      Answer a =
          Build<pb::LookupNumberReply>(r, [](const NumberAnswer& n, pb::LookupNumberReply& out) {
            out.set_tenant_id(n.tenant.id.str());
            out.set_tenant_status(ToProto(n.tenant.status));
            out.set_number_id(n.number.id.str());
            out.set_target(n.number.target);
            out.set_sip_domain(n.tenant.sip_domain);
          });
      if (r.ok()) a.tenant = r->tenant.id;
      return a;
    });
  }

  bool Trunk(const bus::Message& m) {
    pb::LookupTrunkBySourceRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupTrunkBySourceReply>(m);
    return Serve(m, LookupCache::SourceKey(req.source_ip()), [&] {
      auto r = lookups.TrunkBySource(req.source_ip());
      Answer a = Build<pb::LookupTrunkBySourceReply>(
          r, [](const TrunkAnswer& t, pb::LookupTrunkBySourceReply& out) {
            out.set_tenant_id(t.tenant.id.str());
            out.set_tenant_status(ToProto(t.tenant.status));
            out.set_trunk_id(t.trunk.id.str());
            out.set_trunk_name(t.trunk.name);
            out.set_transport(ToProto(t.trunk.transport));
            out.set_sip_domain(t.tenant.sip_domain);
          });
      if (r.ok()) a.tenant = r->tenant.id;
      return a;
    });
  }

  bool Extension(const bus::Message& m) {
    pb::LookupExtensionRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupExtensionReply>(m);
    return Serve(m, LookupCache::ExtensionKey(req.sip_domain(), req.user()), [&] {
      auto r = lookups.FindExtension(req.sip_domain(), req.user());
      Answer a = Build<pb::LookupExtensionReply>(
          r, [](const ExtensionAnswer& e, pb::LookupExtensionReply& out) {
            out.set_tenant_id(e.tenant.id.str());
            out.set_tenant_status(ToProto(e.tenant.status));
            out.set_extension_id(e.extension.id.str());
            out.set_extension_number(e.extension.number);
            out.set_sip_username(e.extension.sip_username);
            out.set_display_name(e.extension.display_name);
            out.set_caller_id(e.extension.caller_id);
            out.set_enabled(e.extension.enabled);
          });
      if (r.ok()) a.tenant = r->tenant.id;
      return a;
    });
  }

  bool OutboundRoute(const bus::Message& m) {
    pb::LookupOutboundRouteRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupOutboundRouteReply>(m);
    // Only well-formed tenant ids make a key, so that the key's tenant set is the right one.
    const bool keyed =
        core::IsUuid(req.tenant_id()) && (req.trunk_id().empty() || core::IsUuid(req.trunk_id()));
    const TenantId tenant{keyed ? req.tenant_id() : std::string()};
    return Serve(
        m,
        keyed ? LookupCache::OutboundKey(tenant, req.trunk_id(), req.dialed(), req.caller_id())
              : "",
        [&] {
          auto r = lookups.FindOutboundRoute(req.tenant_id(), req.dialed(), req.caller_id(),
                                             req.trunk_id());
          Answer a = Build<pb::LookupOutboundRouteReply>(
              r, [](const OutboundRouteAnswer& o, pb::LookupOutboundRouteReply& out) {
                out.set_tenant_id(o.tenant.id.str());
                out.set_tenant_status(ToProto(o.tenant.status));
                out.set_trunk_id(o.trunk.id.str());
                out.set_trunk_name(o.trunk.name);
                out.set_host(o.trunk.host);
                out.set_port(o.trunk.port);
                out.set_transport(ToProto(o.trunk.transport));
                out.set_username(o.trunk.username);
                out.set_password(o.trunk.password);
                out.set_dialed(o.dialed);
                out.set_caller_id(o.caller_id);
                out.set_caller_id_blocked(o.caller_id_blocked);
                out.set_sip_domain(o.tenant.sip_domain);
              });
          // A NOT_FOUND route is cached too, and dropped with the tenant's routes by a trunk
          // change.
          if (keyed) a.tenant = tenant;
          return a;
        });
  }

  template <typename ReplyT>
  bool BadRequest(const bus::Message& m) {
    Refuse<ReplyT>(m, Status::InvalidArgument("request body is not a valid lookup request"));
    return true;
  }

  // Answers with an error (bad request, too many waiting).
  template <typename ReplyT>
  void Refuse(const bus::Message& m, const Status& why) {
    if (m.reply.empty()) return;
    ReplyT reply;
    SetError(why, reply.mutable_error());
    errors.Inc();
    (void)bus.Publish({.subject = m.reply, .data = reply.SerializeAsString()});
  }

  const bool memory_only;
  bus::Bus& bus;
  Lookups& lookups;
  LocalLookupCache* local;
  redis::Client redis;
  LookupCache cache;
  const core::Logger& log;
  core::CounterMetric& hits;
  core::CounterMetric& misses;
  core::CounterMetric& local_hits;
  core::CounterMetric& errors;
};

namespace {

using Answerer = bool (LookupServer::Worker::*)(const bus::Message&);
using Refuser = void (LookupServer::Worker::*)(const bus::Message&, const Status&);
struct Route {
  const char* operation;
  Answerer answer;
  Refuser refuse;
};

constexpr Route kRoutes[] = {
    {"lookup_domain", &LookupServer::Worker::Domain,
     &LookupServer::Worker::Refuse<pb::LookupDomainReply>},
    {"lookup_tenant", &LookupServer::Worker::TenantById,
     &LookupServer::Worker::Refuse<pb::LookupTenantReply>},
    {"lookup_credentials", &LookupServer::Worker::Credentials,
     &LookupServer::Worker::Refuse<pb::LookupCredentialsReply>},
    {"lookup_number", &LookupServer::Worker::Number,
     &LookupServer::Worker::Refuse<pb::LookupNumberReply>},
    {"lookup_trunk_by_source", &LookupServer::Worker::Trunk,
     &LookupServer::Worker::Refuse<pb::LookupTrunkBySourceReply>},
    {"lookup_extension", &LookupServer::Worker::Extension,
     &LookupServer::Worker::Refuse<pb::LookupExtensionReply>},
    {"lookup_outbound_route", &LookupServer::Worker::OutboundRoute,
     &LookupServer::Worker::Refuse<pb::LookupOutboundRouteReply>},
};

}  // namespace

// Requests the delivery threads could not answer from memory, and the workers that take them.
struct LookupServer::Queue {
  struct Pending {
    bus::Message message;
    Answerer answer = nullptr;
  };

  explicit Queue(size_t max_waiting) : max_waiting(max_waiting) {}
  ~Queue() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    wake.notify_all();
    for (auto& t : threads) t.join();
  }

  // False (and nothing queued) when `max_waiting` already wait.
  bool Push(const bus::Message& m, Answerer answer) {
    {
      std::lock_guard lock(mu);
      if (pending.size() >= max_waiting) return false;
      pending.push_back({m, answer});
    }
    wake.notify_one();
    return true;
  }

  void Run(Worker& worker) {
    for (;;) {
      Pending next;
      {
        std::unique_lock lock(mu);
        wake.wait(lock, [this] { return stopping || !pending.empty(); });
        if (stopping) return;
        next = std::move(pending.front());
        pending.pop_front();
      }
      (void)(worker.*next.answer)(next.message);
    }
  }

  const size_t max_waiting;
  std::mutex mu;
  std::condition_variable wake;
  std::deque<Pending> pending;
  bool stopping = false;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
};

Result<std::unique_ptr<LookupServer>> LookupServer::Start(
    bus::Bus& bus, Lookups& lookups, const redis::ClientOptions& redis, const SecretBox& box,
    const LookupServerOptions& options, core::MetricsRegistry& metrics, const core::Logger& log) {
  std::unique_ptr<LookupServer> server(new LookupServer());
  auto worker = [&](bool memory_only) {
    return std::make_unique<Worker>(memory_only, bus, lookups, redis, options.cache_ttl, box,
                                    options.local, metrics, log);
  };
  server->front_ = worker(true);
  server->queue_ = std::make_unique<Queue>(options.max_waiting);
  Queue& queue = *server->queue_;
  for (int i = 0; i < std::max(1, options.workers); ++i) {
    queue.workers.push_back(worker(false));
    queue.threads.emplace_back([&queue, w = queue.workers.back().get()] { queue.Run(*w); });
  }
  Worker& front = *server->front_;
  for (const Route& route : kRoutes) {
    auto subject = LookupSubject(route.operation);
    if (!subject.ok()) return subject.status();
    auto sub = bus.Subscribe(*subject, "admin", [&front, &queue, route](const bus::Message& m) {
      if ((front.*route.answer)(m) || queue.Push(m, route.answer)) return;
      (front.*route.refuse)(m, Status::Unavailable("too many lookups waiting for the cache or "
                                                   "the database"));
    });
    if (!sub.ok()) return sub.status();
    server->subscriptions_.push_back(std::move(*sub));
  }
  return server;
}

LookupServer::~LookupServer() {
  // Stop deliveries before the workers and the queue they use go away.
  subscriptions_.clear();
  queue_.reset();
}

}  // namespace sb::admin::rpc
