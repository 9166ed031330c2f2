#include "rpc/change_publisher.h"

#include "rpc/convert.h"
#include "switchboard/admin/v1/events.pb.h"
#include "switchboard/bus/typed.h"

namespace sb::admin::rpc {
namespace {

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

}  // namespace

ChangePublisher::ChangePublisher(bus::Bus& bus, LookupCache& cache, const bus::EventFactory& events,
                                 core::MetricsRegistry& metrics, const core::Logger& log,
                                 std::chrono::milliseconds publish_timeout)
    : bus_(bus),
      cache_(cache),
      events_(events),
      log_(log),
      publish_failures_(metrics.Counter("sb_admin_event_publish_failures_total",
                                        "admin events that could not be published")),
      cache_failures_(metrics.Counter("sb_admin_cache_invalidation_failures_total",
                                      "lookup cache invalidations that failed")),
      publish_timeout_(publish_timeout) {}

void ChangePublisher::Invalidated(const Status& s) {
  if (s.ok()) return;
  cache_failures_.Inc();
  log_.Error("lookup cache invalidation failed; entries expire by TTL", {{"error", s.message()}});
}

template <typename Event>
void ChangePublisher::Publish(const TenantId& tenant, std::string_view domain, Change change,
                              Event& event) {
  auto meta = events_.NewMeta(tenant, domain, ChangeName(change));
  if (!meta.ok()) {
    publish_failures_.Inc();
    log_.Error("event not built",
               {{"tenant_id", tenant.str()}, {"error", meta.status().message()}});
    return;
  }
  *event.mutable_meta() = *meta;
  auto subject = bus::EventSubjectFor(*meta);
  Status s = subject.status();
  if (subject.ok()) {
    s = bus::JsPublishProto(bus_, *subject, event, meta->event_id(), publish_timeout_).status();
  }
  if (!s.ok()) {
    publish_failures_.Inc();
    log_.Error("event not published",
               {{"tenant_id", tenant.str()}, {"type", meta->type()}, {"error", s.message()}});
  }
}

void ChangePublisher::TenantChanged(Change change, const Tenant& tenant) {
  Invalidated(cache_.Forget(LookupCache::DomainKey(tenant.sip_domain)));
  if (change != Change::kCreated) Invalidated(cache_.ForgetTenant(tenant.id));
  if (change == Change::kDeleted) Invalidated(cache_.ForgetSources());
  switchboard::admin::v1::TenantEvent event;
  ToProto(tenant, event.mutable_tenant());
  Publish(tenant.id, "tenant", change, event);
}

void ChangePublisher::ExtensionChanged(Change change, const Extension& ext,
                                       const std::string& domain) {
  Invalidated(cache_.Forget(LookupCache::CredentialsKey(domain, ext.sip_username)));
  Invalidated(cache_.Forget(LookupCache::ExtensionKey(domain, ext.sip_username)));
  Invalidated(cache_.Forget(LookupCache::ExtensionKey(domain, ext.number)));
  switchboard::admin::v1::ExtensionEvent event;
  ToProto(ext, event.mutable_extension());
  event.set_sip_domain(domain);
  Publish(ext.tenant_id, "extension", change, event);
}

void ChangePublisher::NumberChanged(Change change, const PhoneNumber& number) {
  Invalidated(cache_.Forget(LookupCache::NumberKey(number.e164)));
  switchboard::admin::v1::NumberEvent event;
  ToProto(number, event.mutable_number());
  Publish(number.tenant_id, "number", change, event);
}

void ChangePublisher::TrunkChanged(Change change, const Trunk& trunk) {
  Invalidated(cache_.ForgetSources());
  Invalidated(cache_.ForgetOutbound(trunk.tenant_id));
  switchboard::admin::v1::TrunkEvent event;
  ToProto(trunk, event.mutable_trunk());
  Publish(trunk.tenant_id, "trunk", change, event);
}

}  // namespace sb::admin::rpc
