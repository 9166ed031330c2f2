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

}  // namespace

Result<DomainInfo> AdminLookups::Domain(std::string_view sip_domain) const {
  if (cache_ == nullptr) return AskDomain(sip_domain);
  const uint64_t generation = cache_->generation();
  if (auto hit = cache_->Domain(sip_domain)) return *hit;
  auto answer = AskDomain(sip_domain);
  cache_->PutDomain(sip_domain, answer, generation);
  return answer;
}

Result<ExtensionCredentials> AdminLookups::Credentials(std::string_view sip_domain,
                                                       std::string_view sip_username) const {
  if (cache_ == nullptr) return AskCredentials(sip_domain, sip_username);
  const uint64_t generation = cache_->generation();
  if (auto hit = cache_->Credentials(sip_domain, sip_username)) return *hit;
  auto answer = AskCredentials(sip_domain, sip_username);
  cache_->PutCredentials(sip_domain, sip_username, answer, generation);
  return answer;
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

}  // namespace sb::signaling
