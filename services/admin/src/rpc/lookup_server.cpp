#include "rpc/lookup_server.h"

#include <functional>

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

struct LookupServer::Worker {
  Worker(bus::Bus& b, Lookups& l, const redis::ClientOptions& o, std::chrono::milliseconds ttl,
         const SecretBox& box, LocalLookupCache* local, core::MetricsRegistry& m,
         const core::Logger& lg)
      : bus(b),
        lookups(l),
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
  void Serve(const bus::Message& m, const std::string& key,
             const std::function<Answer()>& compute) {
    if (m.reply.empty()) return;
    uint64_t generation = 0;
    if (!key.empty()) {
      bool local_hit = false;
      auto hit = cache.Get(key, &generation, &local_hit);
      if (hit.ok() && hit->has_value()) {
        hits.Inc();
        if (local_hit) local_hits.Inc();
        (void)bus.Publish({.subject = m.reply, .data = **hit});
        return;
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
  }

  void Domain(const bus::Message& m) {
    pb::LookupDomainRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupDomainReply>(m);
    Serve(m, LookupCache::DomainKey(req.sip_domain()), [&] {
      auto r = lookups.Domain(req.sip_domain());
      Answer a = Build<pb::LookupDomainReply>(r, [](const Tenant& t, pb::LookupDomainReply& out) {
        out.set_tenant_id(t.id.str());
        out.set_tenant_status(ToProto(t.status));
      });
      if (r.ok()) a.tenant = r->id;
      return a;
    });
  }

  void Credentials(const bus::Message& m) {
    pb::LookupCredentialsRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupCredentialsReply>(m);
    Serve(m, LookupCache::CredentialsKey(req.sip_domain(), req.sip_username()), [&] {
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

  void Number(const bus::Message& m) {
    pb::LookupNumberRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupNumberReply>(m);
    Serve(m, LookupCache::NumberKey(req.e164()), [&] {
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

  void Trunk(const bus::Message& m) {
    pb::LookupTrunkBySourceRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupTrunkBySourceReply>(m);
    Serve(m, LookupCache::SourceKey(req.source_ip()), [&] {
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

  void Extension(const bus::Message& m) {
    pb::LookupExtensionRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupExtensionReply>(m);
    Serve(m, LookupCache::ExtensionKey(req.sip_domain(), req.user()), [&] {
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

  void OutboundRoute(const bus::Message& m) {
    pb::LookupOutboundRouteRequest req;
    if (!req.ParseFromString(m.data)) return BadRequest<pb::LookupOutboundRouteReply>(m);
    // Only well-formed tenant ids make a key, so that the key's tenant set is the right one.
    const bool keyed = core::IsUuid(req.tenant_id());
    const TenantId tenant{keyed ? req.tenant_id() : std::string()};
    Serve(m, keyed ? LookupCache::OutboundKey(tenant, req.dialed(), req.caller_id()) : "", [&] {
      auto r = lookups.FindOutboundRoute(req.tenant_id(), req.dialed(), req.caller_id());
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
          });
      // A NOT_FOUND route is cached too, and dropped with the tenant's routes by a trunk change.
      if (keyed) a.tenant = tenant;
      return a;
    });
  }

  template <typename ReplyT>
  void BadRequest(const bus::Message& m) {
    if (m.reply.empty()) return;
    ReplyT reply;
    SetError(Status::InvalidArgument("request body is not a valid lookup request"),
             reply.mutable_error());
    errors.Inc();
    (void)bus.Publish({.subject = m.reply, .data = reply.SerializeAsString()});
  }

  bus::Bus& bus;
  Lookups& lookups;
  redis::Client redis;
  LookupCache cache;
  const core::Logger& log;
  core::CounterMetric& hits;
  core::CounterMetric& misses;
  core::CounterMetric& local_hits;
  core::CounterMetric& errors;
  std::vector<std::unique_ptr<bus::Subscription>> subscriptions;
};

Result<std::unique_ptr<LookupServer>> LookupServer::Start(
    bus::Bus& bus, Lookups& lookups, const redis::ClientOptions& redis, const SecretBox& box,
    const LookupServerOptions& options, core::MetricsRegistry& metrics, const core::Logger& log) {
  std::unique_ptr<LookupServer> server(new LookupServer());
  for (int i = 0; i < std::max(1, options.workers); ++i) {
    auto w = std::make_unique<Worker>(bus, lookups, redis, options.cache_ttl, box, options.local,
                                      metrics, log);
    Worker* worker = w.get();
    const std::pair<const char*, void (Worker::*)(const bus::Message&)> routes[] = {
        {"lookup_domain", &Worker::Domain},       {"lookup_credentials", &Worker::Credentials},
        {"lookup_number", &Worker::Number},       {"lookup_trunk_by_source", &Worker::Trunk},
        {"lookup_extension", &Worker::Extension}, {"lookup_outbound_route", &Worker::OutboundRoute},
    };
    for (const auto& [operation, method] : routes) {
      auto subject = LookupSubject(operation);
      if (!subject.ok()) return subject.status();
      auto sub = bus.Subscribe(*subject, "admin", [worker, method = method](const bus::Message& m) {
        (worker->*method)(m);
      });
      if (!sub.ok()) return sub.status();
      w->subscriptions.push_back(std::move(*sub));
    }
    server->workers_.push_back(std::move(w));
  }
  return server;
}

LookupServer::~LookupServer() {
  // Stop deliveries before the workers they call go away.
  for (auto& w : workers_) w->subscriptions.clear();
}

}  // namespace sb::admin::rpc
