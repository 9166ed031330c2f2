#include "rpc/convert.h"

#include "domain/paging.h"

namespace sb::admin::rpc {

grpc::Status ToGrpc(const Status& status, grpc::ServerContext* context) {
  if (status.ok()) return grpc::Status::OK;
  if (!status.field().empty() && context != nullptr) {
    context->AddTrailingMetadata("sb-field", status.field());
  }
  return grpc::Status(static_cast<grpc::StatusCode>(ToGrpcCode(status.code())), status.message());
}

void ToProto(WallTime t, google::protobuf::Timestamp* out) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

Result<WallTime> FromProto(const google::protobuf::Timestamp& t, std::string_view field) {
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (t.seconds() < 0 || t.seconds() > kMaxSeconds || t.nanos() < 0 || t.nanos() > 999999999) {
    return Status::InvalidArgument(
        std::string(field) + " must be a valid time between 1970 and 9999", std::string(field));
  }
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(t.seconds()) + std::chrono::nanoseconds(t.nanos())));
}

void ToProto(const AuditRecord& a, pb::AuditEntry* out) {
  out->set_id(a.id.str());
  if (a.tenant) out->set_tenant_id(a.tenant->str());
  out->set_actor_key_id(a.actor_key_id);
  out->set_action(a.action);
  out->set_resource_type(a.resource_type);
  out->set_resource_id(a.resource_id);
  out->set_details_json(a.details_json);
  ToProto(a.at, out->mutable_at());
}

pb::TenantStatus ToProto(TenantStatus s) {
  return s == TenantStatus::kSuspended ? pb::TENANT_STATUS_SUSPENDED : pb::TENANT_STATUS_ACTIVE;
}

Result<std::optional<TenantStatus>> FromProto(pb::TenantStatus s, std::string_view field) {
  switch (s) {
    case pb::TENANT_STATUS_UNSPECIFIED:
      return std::optional<TenantStatus>();
    case pb::TENANT_STATUS_ACTIVE:
      return std::optional<TenantStatus>(TenantStatus::kActive);
    case pb::TENANT_STATUS_SUSPENDED:
      return std::optional<TenantStatus>(TenantStatus::kSuspended);
    default:
      break;
  }
  return Status::InvalidArgument(std::string(field) + " is not a known tenant status",
                                 std::string(field));
}

pb::Transport ToProto(Transport t) {
  switch (t) {
    case Transport::kTcp:
      return pb::TRANSPORT_TCP;
    case Transport::kTls:
      return pb::TRANSPORT_TLS;
    case Transport::kUdp:
      break;
  }
  return pb::TRANSPORT_UDP;
}

Result<Transport> FromProto(pb::Transport t, std::string_view field) {
  switch (t) {
    case pb::TRANSPORT_UNSPECIFIED:
    case pb::TRANSPORT_UDP:
      return Transport::kUdp;
    case pb::TRANSPORT_TCP:
      return Transport::kTcp;
    case pb::TRANSPORT_TLS:
      return Transport::kTls;
    default:
      break;
  }
  return Status::InvalidArgument(std::string(field) + " must be UDP, TCP or TLS",
                                 std::string(field));
}

Result<CallerIdPolicy> FromProto(pb::CallerIdPolicy p, std::string_view field) {
  switch (p) {
    case pb::CALLER_ID_POLICY_UNSPECIFIED:
    case pb::CALLER_ID_POLICY_PASSTHROUGH:
      return CallerIdPolicy::kPassthrough;
    case pb::CALLER_ID_POLICY_FIXED:
      return CallerIdPolicy::kFixed;
    case pb::CALLER_ID_POLICY_BLOCK:
      return CallerIdPolicy::kBlock;
    default:
      break;
  }
  return Status::InvalidArgument(std::string(field) + " must be PASSTHROUGH, FIXED or BLOCK",
                                 std::string(field));
}

std::vector<PrefixRule> FromProto(const google::protobuf::RepeatedPtrField<pb::PrefixRule>& rules) {
  std::vector<PrefixRule> out;
  for (const auto& r : rules) out.push_back(PrefixRule{r.match(), r.strip(), r.prepend()});
  return out;
}

void ToProto(const Tenant& t, pb::Tenant* out) {
  out->set_id(t.id.str());
  out->set_slug(t.slug);
  out->set_name(t.name);
  out->set_sip_domain(t.sip_domain);
  out->set_status(ToProto(t.status));
  out->set_max_extensions(t.max_extensions);
  out->set_max_concurrent_calls(t.max_concurrent_calls);
  ToProto(t.created_at, out->mutable_created_at());
  ToProto(t.updated_at, out->mutable_updated_at());
}

void ToProto(const ApiKey& k, pb::ApiKey* out) {
  out->set_id(k.id.str());
  if (k.tenant_id) out->set_tenant_id(k.tenant_id->str());
  out->set_name(k.name);
  out->set_prefix(k.prefix);
  out->set_revoked(k.revoked);
  ToProto(k.created_at, out->mutable_created_at());
  if (k.revoked_at) ToProto(*k.revoked_at, out->mutable_revoked_at());
}

void ToProto(const IssuedKey& k, pb::ApiKeySecret* out) {
  out->set_id(k.key.id.str());
  out->set_secret(k.secret);
  out->set_prefix(k.key.prefix);
}

void ToProto(const Extension& e, pb::Extension* out) {
  out->set_id(e.id.str());
  out->set_tenant_id(e.tenant_id.str());
  out->set_number(e.number);
  out->set_display_name(e.display_name);
  out->set_sip_username(e.sip_username);
  out->set_caller_id(e.caller_id);
  out->set_enabled(e.enabled);
  ToProto(e.created_at, out->mutable_created_at());
  ToProto(e.updated_at, out->mutable_updated_at());
}

void ToProto(const PhoneNumber& n, pb::PhoneNumber* out) {
  out->set_id(n.id.str());
  out->set_tenant_id(n.tenant_id.str());
  out->set_e164(n.e164);
  out->set_target(n.target);
  ToProto(n.created_at, out->mutable_created_at());
  ToProto(n.updated_at, out->mutable_updated_at());
}

void ToProto(const Trunk& t, pb::Trunk* out) {
  out->set_id(t.id.str());
  out->set_tenant_id(t.tenant_id.str());
  out->set_name(t.name);
  out->set_host(t.host);
  out->set_port(t.port);
  out->set_transport(ToProto(t.transport));
  out->set_username(t.username);
  out->set_has_password(!t.password.empty());
  for (const auto& s : t.inbound_sources) out->add_inbound_sources(s);
  for (const auto& r : t.prefix_rules) {
    auto* rule = out->add_prefix_rules();
    rule->set_match(r.match);
    rule->set_strip(r.strip);
    rule->set_prepend(r.prepend);
  }
  switch (t.caller_id_policy) {
    case CallerIdPolicy::kFixed:
      out->set_caller_id_policy(pb::CALLER_ID_POLICY_FIXED);
      break;
    case CallerIdPolicy::kBlock:
      out->set_caller_id_policy(pb::CALLER_ID_POLICY_BLOCK);
      break;
    case CallerIdPolicy::kPassthrough:
      out->set_caller_id_policy(pb::CALLER_ID_POLICY_PASSTHROUGH);
      break;
  }
  out->set_fixed_caller_id(t.fixed_caller_id);
  ToProto(t.created_at, out->mutable_created_at());
  ToProto(t.updated_at, out->mutable_updated_at());
}

}  // namespace sb::admin::rpc
