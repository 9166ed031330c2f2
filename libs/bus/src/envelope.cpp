#include "switchboard/bus/envelope.h"

#include <chrono>

#include "switchboard/bus/subjects.h"

namespace sb::bus {
namespace {

struct SplitType {
  std::string_view domain;
  std::string_view type;
};

Result<SplitType> SplitEventType(std::string_view type) {
  const size_t dot = type.find('.');
  if (dot == std::string_view::npos) {
    return Status::InvalidArgument(
        "event type \"" + std::string(type) + "\" is not <domain>.<type>", "type");
  }
  SplitType out{type.substr(0, dot), type.substr(dot + 1)};
  SB_RETURN_IF_ERROR(subjects::ValidateToken(out.domain, "domain"));
  SB_RETURN_IF_ERROR(subjects::ValidateToken(out.type, "type"));
  return out;
}

}  // namespace

EventFactory::EventFactory(const core::Clock& clock, core::IdGenerator& ids, std::string source)
    : clock_(clock), ids_(ids), source_(std::move(source)) {}

Result<switchboard::common::v1::EventMeta> EventFactory::NewMeta(
    const TenantId& tenant, std::string_view domain, std::string_view type,
    std::string_view correlation_id) const {
  SB_RETURN_IF_ERROR(subjects::ValidateToken(tenant.str(), "tenant_id"));
  SB_RETURN_IF_ERROR(subjects::ValidateToken(domain, "domain"));
  SB_RETURN_IF_ERROR(subjects::ValidateToken(type, "type"));
  switchboard::common::v1::EventMeta meta;
  meta.set_event_id(ids_.Next());
  meta.set_tenant_id(tenant.str());
  const auto since_epoch = clock_.WallNow().time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
  meta.mutable_occurred_at()->set_seconds(secs.count());
  meta.mutable_occurred_at()->set_nanos(static_cast<int32_t>(nanos.count()));
  meta.set_type(std::string(domain) + "." + std::string(type));
  meta.set_correlation_id(std::string(correlation_id));
  meta.set_source(source_);
  return meta;
}

Result<std::string> EventSubjectFor(const switchboard::common::v1::EventMeta& meta) {
  auto split = SplitEventType(meta.type());
  if (!split.ok()) return split.status();
  return subjects::Event(split->domain, split->type, TenantId(meta.tenant_id()));
}

Status ValidateMeta(const switchboard::common::v1::EventMeta& meta) {
  if (!core::IsUuid(meta.event_id())) {
    return Status::InvalidArgument("event_id \"" + meta.event_id() + "\" is not a UUID",
                                   "event_id");
  }
  SB_RETURN_IF_ERROR(subjects::ValidateToken(meta.tenant_id(), "tenant_id"));
  auto split = SplitEventType(meta.type());
  return split.ok() ? Status::Ok() : split.status();
}

}  // namespace sb::bus
