#include "rpc/change_publisher.h"

#include "rpc/convert.h"
#include "switchboard/admin/v1/events.pb.h"
#include "switchboard/bus/streams.h"

namespace sb::admin::rpc {
namespace {

namespace pb = ::switchboard::admin::v1;

std::string_view ChangeName(Change c) {
  switch (c) {
    case Change::kCreated:
      return "created";
    case Change::kUpdated:
      return "updated";
    case Change::kDeleted:
      break;
  }
  return "deleted";
}

Status First(std::initializer_list<Status> all) {
  for (const Status& s : all) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// One durable per admin domain and replica; durable names allow no '.', '*', '>' or '/'.
std::string DurableName(std::string_view domain, std::string_view replica) {
  std::string out = "admin_lookups_" + std::string(domain) + "_";
  for (char c : replica) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
    out.push_back(plain ? c : '_');
  }
  return out;
}

// sb.evt.<domain>.<change>.<tenant>
Change ChangeOf(std::string_view subject) {
  if (subject.find(".deleted.") != std::string_view::npos) return Change::kDeleted;
  if (subject.find(".created.") != std::string_view::npos) return Change::kCreated;
  return Change::kUpdated;
}

}  // namespace

template <typename Event>
Result<OutboxEvent> ProtoEventEncoder::Encode(const TenantId& tenant, std::string_view domain,
                                              Change change, Event& event) const {
  auto meta = events_.NewMeta(tenant, domain, ChangeName(change));
  if (!meta.ok()) return meta.status();
  *event.mutable_meta() = *meta;
  auto subject = bus::EventSubjectFor(*meta);
  if (!subject.ok()) return subject.status();
  return OutboxEvent{meta->event_id(), *subject, event.SerializeAsString()};
}

Result<OutboxEvent> ProtoEventEncoder::Tenant(Change change, const sb::admin::Tenant& t) const {
  pb::TenantEvent event;
  ToProto(t, event.mutable_tenant());
  return Encode(t.id, "tenant", change, event);
}

Result<OutboxEvent> ProtoEventEncoder::Extension(Change change, const sb::admin::Extension& e,
                                                 std::string_view sip_domain) const {
  pb::ExtensionEvent event;
  ToProto(e, event.mutable_extension());
  event.set_sip_domain(std::string(sip_domain));
  return Encode(e.tenant_id, "extension", change, event);
}

Result<OutboxEvent> ProtoEventEncoder::Number(Change change, const PhoneNumber& n) const {
  pb::NumberEvent event;
  ToProto(n, event.mutable_number());
  return Encode(n.tenant_id, "number", change, event);
}

Result<OutboxEvent> ProtoEventEncoder::Trunk(Change change, const sb::admin::Trunk& t) const {
  pb::TrunkEvent event;
  ToProto(t, event.mutable_trunk());
  return Encode(t.tenant_id, "trunk", change, event);
}

Status CacheInvalidation::Tenant(Change change, const TenantId& tenant,
                                 std::string_view sip_domain) {
  // Every cached answer carries its tenant's status, so any tenant change drops them all.
  return First({cache_.Forget(LookupCache::DomainKey(sip_domain)),
                change != Change::kCreated ? cache_.ForgetTenant(tenant) : Status::Ok(),
                change == Change::kDeleted ? cache_.ForgetSources() : Status::Ok(),
                change == Change::kDeleted ? cache_.ForgetOutbound(tenant) : Status::Ok()});
}

Status CacheInvalidation::Extension(std::string_view sip_domain, std::string_view sip_username,
                                    std::string_view number) {
  return First({cache_.Forget(LookupCache::CredentialsKey(sip_domain, sip_username)),
                cache_.Forget(LookupCache::ExtensionKey(sip_domain, sip_username)),
                cache_.Forget(LookupCache::ExtensionKey(sip_domain, number))});
}

Status CacheInvalidation::Number(std::string_view e164) {
  return cache_.Forget(LookupCache::NumberKey(e164));
}

Status CacheInvalidation::Trunk(const TenantId& tenant) {
  // Any trunk change may move any source address, and any of the tenant's routes.
  return First({cache_.ForgetSources(), cache_.ForgetOutbound(tenant)});
}

ChangePublisher::ChangePublisher(LookupCache& cache, std::function<void()> wake,
                                 core::MetricsRegistry& metrics, const core::Logger& log)
    : invalidation_(cache),
      wake_(std::move(wake)),
      log_(log),
      cache_failures_(metrics.Counter("sb_admin_cache_invalidation_failures_total",
                                      "lookup cache invalidations that failed")) {}

void ChangePublisher::Done(const Status& invalidated) {
  if (!invalidated.ok()) {
    cache_failures_.Inc();
    log_.Error("lookup cache invalidation failed; the event or the TTL will drop the entries",
               {{"error", invalidated.message()}});
  }
  if (wake_) wake_();
}

void ChangePublisher::TenantChanged(Change change, const Tenant& tenant) {
  Done(invalidation_.Tenant(change, tenant.id, tenant.sip_domain));
}

void ChangePublisher::ExtensionChanged(Change, const Extension& ext, const std::string& domain) {
  Done(invalidation_.Extension(domain, ext.sip_username, ext.number));
}

void ChangePublisher::NumberChanged(Change, const PhoneNumber& number) {
  Done(invalidation_.Number(number.e164));
}

void ChangePublisher::TrunkChanged(Change, const Trunk& trunk) {
  Done(invalidation_.Trunk(trunk.tenant_id));
}

CacheInvalidator::CacheInvalidator(LookupCache& cache, core::MetricsRegistry& metrics,
                                   const core::Logger& log)
    : invalidation_(cache),
      log_(log),
      applied_(metrics.Counter("sb_admin_cache_events_total",
                               "admin events applied to the lookup cache")) {}

template <typename Event, typename Apply>
Status CacheInvalidator::ConsumeDomain(bus::Bus& bus, std::string_view domain,
                                       std::string_view replica, Apply apply) {
  auto sub = bus.Consume(
      {.stream = bus::EventsStream().name,
       .durable = DurableName(domain, replica),
       .filter_subject = "sb.evt." + std::string(domain) + ".>",
       .ack_wait = std::chrono::seconds(5),
       .deliver_policy = bus::DeliverPolicy::kNew},
      [this, apply](bus::JsMessage& m) {
        Event event;
        if (!event.ParseFromString(m.message().data)) {
          log_.Warn("unreadable admin event ignored", {{"subject", m.message().subject}});
          (void)m.Term();
          return;
        }
        const Status s = apply(event, ChangeOf(m.message().subject));
        if (!s.ok()) {
          log_.Warn("cache invalidation from event failed; retrying", {{"error", s.message()}});
          (void)m.Nak(std::chrono::seconds(1));
          return;
        }
        (void)m.AckNoWait();
        Applied();
      });
  if (!sub.ok()) return sub.status();
  subscriptions_.push_back(std::move(*sub));
  return Status::Ok();
}

Result<std::unique_ptr<CacheInvalidator>> CacheInvalidator::Start(bus::Bus& bus, LookupCache& cache,
                                                                  std::string_view replica,
                                                                  core::MetricsRegistry& metrics,
                                                                  const core::Logger& log) {
  std::unique_ptr<CacheInvalidator> self(new CacheInvalidator(cache, metrics, log));
  CacheInvalidation& invalidation = self->invalidation_;
  Status started = self->ConsumeDomain<pb::TenantEvent>(
      bus, "tenant", replica, [&invalidation](const pb::TenantEvent& e, Change change) {
        return invalidation.Tenant(change, TenantId(e.tenant().id()), e.tenant().sip_domain());
      });
  if (started.ok()) {
    started = self->ConsumeDomain<pb::ExtensionEvent>(
        bus, "extension", replica, [&invalidation](const pb::ExtensionEvent& e, Change) {
          return invalidation.Extension(e.sip_domain(), e.extension().sip_username(),
                                        e.extension().number());
        });
  }
  if (started.ok()) {
    started = self->ConsumeDomain<pb::NumberEvent>(
        bus, "number", replica, [&invalidation](const pb::NumberEvent& e, Change) {
          return invalidation.Number(e.number().e164());
        });
  }
  if (started.ok()) {
    started = self->ConsumeDomain<pb::TrunkEvent>(
        bus, "trunk", replica, [&invalidation](const pb::TrunkEvent& e, Change) {
          return invalidation.Trunk(TenantId(e.trunk().tenant_id()));
        });
  }
  if (!started.ok()) return started;
  return self;
}

void CacheInvalidator::Applied() {
  applied_.Inc();
  {
    std::lock_guard lock(mu_);
    ++applied_count_;
  }
  applied_cv_.notify_all();
}

CacheInvalidator::~CacheInvalidator() {
  // Stop deliveries before the state the handlers use goes away.
  subscriptions_.clear();
}

uint64_t CacheInvalidator::applied() const {
  std::lock_guard lock(mu_);
  return applied_count_;
}

bool CacheInvalidator::WaitApplied(uint64_t count, std::chrono::steady_clock::duration timeout) {
  std::unique_lock lock(mu_);
  return applied_cv_.wait_for(lock, timeout, [&] { return applied_count_ >= count; });
}

}  // namespace sb::admin::rpc
