#include "rpc/admin_lookups.h"

#include <string>

#include "rpc/admin_lookup_cache.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/admin/v1/tenant.pb.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"

namespace sb::signaling {
namespace {

namespace pb = ::switchboard::admin::v1;

// A late or absent admin is the same thing to a phone: try again later (503), so both are
// UNAVAILABLE here rather than DEADLINE_EXCEEDED leaking into SIP code choices.
Status Transport(const Status& status, std::string_view operation) {
  if (status.code() == StatusCode::kDeadlineExceeded || status.code() == StatusCode::kUnavailable) {
    return Status::Unavailable("admin " + std::string(operation) + ": " + status.message());
  }
  return status;
}

// The error admin put in the reply body; proto ErrorCode and StatusCode share their numbers.
Status FromReplyError(const ::switchboard::common::v1::Error& error) {
  if (error.code() == ::switchboard::common::v1::ERROR_CODE_OK) return Status::Ok();
  int code = static_cast<int>(error.code());
  if (code < 0 || code > static_cast<int>(StatusCode::kInternal)) {
    return Status::Internal("admin answered an unknown error code " + std::to_string(code));
  }
  return Status(static_cast<StatusCode>(code), error.message(), error.field());
}

template <typename Reply>
Result<Reply> Ask(bus::Bus& bus, std::string_view operation,
                  const google::protobuf::MessageLite& request, std::chrono::milliseconds timeout) {
  auto subject = bus::subjects::Command("admin", operation);
  if (!subject.ok()) return subject.status();
  auto reply = bus::RequestProto<Reply>(bus, *subject, request, timeout);
  if (!reply.ok()) return Transport(reply.status(), operation);
  Status remote = FromReplyError(reply->error());
  if (!remote.ok()) return remote;
  return reply;
}

// Every reply of the routing lookups starts with the same tenant fields.
template <typename Reply>
TenantRef TenantOf(const Reply& reply) {
  return TenantRef{.id = TenantId(reply.tenant_id()),
                   .suspended = reply.tenant_status() == pb::TENANT_STATUS_SUSPENDED,
                   .sip_domain = {}};
}

sip::Transport FromProto(pb::Transport transport) {
  switch (transport) {
    case pb::TRANSPORT_TCP:
      return sip::Transport::kTcp;
    case pb::TRANSPORT_TLS:
      return sip::Transport::kTls;
    default:
      return sip::Transport::kUdp;
  }
}

// The cache's answer when it has one; else admin's, kept unless a change event arrived while
// admin was asked (the generation moved).
template <typename Hit, typename Ask, typename Keep>
auto Cached(AdminLookupCache* cache, Hit hit, Ask ask, Keep keep) -> decltype(ask()) {
  if (cache == nullptr) return ask();
  const uint64_t generation = cache->generation();
  if (auto found = hit()) return *found;
  auto answer = ask();
  keep(answer, generation);
  return answer;
}

}  // namespace

Result<DomainInfo> AdminLookups::Domain(std::string_view sip_domain) const {
  return Cached(
      cache_, [&] { return cache_->Domain(sip_domain); }, [&] { return AskDomain(sip_domain); },
      [&](const auto& answer, uint64_t generation) {
        cache_->PutDomain(sip_domain, answer, generation);
      });
}

std::optional<Result<DomainInfo>> AdminLookups::CachedDomain(std::string_view sip_domain) const {
  if (cache_ == nullptr) return std::nullopt;
  return cache_->Domain(sip_domain);
}

Result<ExtensionCredentials> AdminLookups::Credentials(std::string_view sip_domain,
                                                       std::string_view sip_username) const {
  return Cached(
      cache_, [&] { return cache_->Credentials(sip_domain, sip_username); },
      [&] { return AskCredentials(sip_domain, sip_username); },
      [&](const auto& answer, uint64_t generation) {
        cache_->PutCredentials(sip_domain, sip_username, answer, generation);
      });
}

std::optional<Result<ExtensionCredentials>> AdminLookups::CachedCredentials(
    std::string_view sip_domain, std::string_view sip_username) const {
  if (cache_ == nullptr) return std::nullopt;
  return cache_->Credentials(sip_domain, sip_username);
}

Result<DomainInfo> AdminLookups::AskDomain(std::string_view sip_domain) const {
  pb::LookupDomainRequest request;
  request.set_sip_domain(std::string(sip_domain));
  auto reply = Ask<pb::LookupDomainReply>(bus_, "lookup_domain", request, timeout_);
  if (!reply.ok()) return reply.status();
  return DomainInfo{.tenant = TenantId(reply->tenant_id()),
                    .tenant_suspended = reply->tenant_status() == pb::TENANT_STATUS_SUSPENDED};
}

Result<ExtensionCredentials> AdminLookups::AskCredentials(std::string_view sip_domain,
                                                          std::string_view sip_username) const {
  pb::LookupCredentialsRequest request;
  request.set_sip_domain(std::string(sip_domain));
  request.set_sip_username(std::string(sip_username));
  auto reply = Ask<pb::LookupCredentialsReply>(bus_, "lookup_credentials", request, timeout_);
  if (!reply.ok()) return reply.status();
  return ExtensionCredentials{
      .tenant = TenantId(reply->tenant_id()),
      .tenant_suspended = reply->tenant_status() == pb::TENANT_STATUS_SUSPENDED,
      .extension_id = reply->extension_id(),
      .extension_number = reply->extension_number(),
      .ha1_md5 = reply->ha1_md5(),
      .ha1_sha256 = reply->ha1_sha256(),
      .enabled = reply->enabled(),
  };
}

Result<NumberRoute> AdminLookups::Number(std::string_view e164) const {
  return Cached(
      cache_, [&] { return cache_->Number(e164); }, [&] { return AskNumber(e164); },
      [&](const auto& answer, uint64_t generation) {
        cache_->PutNumber(e164, answer, generation);
      });
}

Result<NumberRoute> AdminLookups::AskNumber(std::string_view e164) const {
  pb::LookupNumberRequest request;
  request.set_e164(std::string(e164));
  auto reply = Ask<pb::LookupNumberReply>(bus_, "lookup_number", request, timeout_);
  if (!reply.ok()) return reply.status();
  NumberRoute out{
      .tenant = TenantOf(*reply), .number_id = reply->number_id(), .target = reply->target()};
  out.tenant.sip_domain = reply->sip_domain();
  return out;
}

Result<TrunkMatch> AdminLookups::TrunkBySource(std::string_view source_ip) const {
  return Cached(
      cache_, [&] { return cache_->TrunkBySource(source_ip); },
      [&] { return AskTrunkBySource(source_ip); },
      [&](const auto& answer, uint64_t generation) {
        cache_->PutTrunkBySource(source_ip, answer, generation);
      });
}

std::optional<Result<TrunkMatch>> AdminLookups::CachedTrunkBySource(
    std::string_view source_ip) const {
  if (cache_ == nullptr) return std::nullopt;
  return cache_->TrunkBySource(source_ip);
}

Result<TrunkMatch> AdminLookups::AskTrunkBySource(std::string_view source_ip) const {
  pb::LookupTrunkBySourceRequest request;
  request.set_source_ip(std::string(source_ip));
  auto reply = Ask<pb::LookupTrunkBySourceReply>(bus_, "lookup_trunk_by_source", request, timeout_);
  if (!reply.ok()) return reply.status();
  TrunkMatch out{
      .tenant = TenantOf(*reply), .trunk_id = reply->trunk_id(), .trunk_name = reply->trunk_name()};
  out.tenant.sip_domain = reply->sip_domain();
  return out;
}

Result<ExtensionInfo> AdminLookups::Extension(std::string_view sip_domain,
                                              std::string_view user) const {
  return Cached(
      cache_, [&] { return cache_->Extension(sip_domain, user); },
      [&] { return AskExtension(sip_domain, user); },
      [&](const auto& answer, uint64_t generation) {
        cache_->PutExtension(sip_domain, user, answer, generation);
      });
}

Result<ExtensionInfo> AdminLookups::AskExtension(std::string_view sip_domain,
                                                 std::string_view user) const {
  pb::LookupExtensionRequest request;
  request.set_sip_domain(std::string(sip_domain));
  request.set_user(std::string(user));
  auto reply = Ask<pb::LookupExtensionReply>(bus_, "lookup_extension", request, timeout_);
  if (!reply.ok()) return reply.status();
  return ExtensionInfo{.tenant = TenantOf(*reply),
                       .extension_id = reply->extension_id(),
                       .extension_number = reply->extension_number(),
                       .sip_username = reply->sip_username(),
                       .display_name = reply->display_name(),
                       .caller_id = reply->caller_id(),
                       .enabled = reply->enabled()};
}

Result<OutboundRoute> AdminLookups::Outbound(const OutboundQuery& query) const {
  return Cached(
      cache_, [&] { return cache_->Outbound(query); }, [&] { return AskOutbound(query); },
      [&](const auto& answer, uint64_t generation) {
        cache_->PutOutbound(query, answer, generation);
      });
}

Result<OutboundRoute> AdminLookups::AskOutbound(const OutboundQuery& query) const {
  pb::LookupOutboundRouteRequest request;
  request.set_tenant_id(query.tenant.str());
  request.set_dialed(query.dialed);
  request.set_caller_id(query.caller_id);
  request.set_trunk_id(query.trunk_id);
  auto reply = Ask<pb::LookupOutboundRouteReply>(bus_, "lookup_outbound_route", request, timeout_);
  if (!reply.ok()) return reply.status();
  OutboundRoute out{
      .tenant = TenantOf(*reply),
      .trunk_id = reply->trunk_id(),
      .trunk_name = reply->trunk_name(),
      .gateway = {.host = reply->host(),
                  .port = static_cast<uint16_t>(reply->port()),
                  .transport = FromProto(reply->transport())},
      .username = reply->username(),
      .password = reply->password(),
      .dialed = reply->dialed(),
      .caller_id = reply->caller_id(),
      .caller_id_blocked = reply->caller_id_blocked(),
  };
  out.tenant.sip_domain = reply->sip_domain();
  return out;
}

Result<TenantRef> AdminLookups::Tenant(const TenantId& tenant) const {
  pb::LookupTenantRequest request;
  request.set_tenant_id(tenant.str());
  auto reply = Ask<pb::LookupTenantReply>(bus_, "lookup_tenant", request, timeout_);
  if (!reply.ok()) return reply.status();
  TenantRef out = TenantOf(*reply);
  out.sip_domain = reply->sip_domain();
  return out;
}

}  // namespace sb::signaling
