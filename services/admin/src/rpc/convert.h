// proto <-> domain for the admin gRPC API (the only place besides rpc/*.cpp that sees *.pb.h).
#pragma once

#include <grpcpp/grpcpp.h>

#include "domain/audit_log.h"
#include "domain/model.h"
#include "domain/provisioning.h"
#include "switchboard/admin/v1/api_key.pb.h"
#include "switchboard/admin/v1/audit.pb.h"
#include "switchboard/admin/v1/extension.pb.h"
#include "switchboard/admin/v1/number.pb.h"
#include "switchboard/admin/v1/tenant.pb.h"
#include "switchboard/admin/v1/trunk.pb.h"
#include "switchboard/core/status.h"

namespace sb::admin::rpc {

namespace pb = ::switchboard::admin::v1;

// The one mapping from a domain Status to gRPC. The field at fault (INVALID_ARGUMENT) is also sent
// as trailing metadata "sb-field" so that clients need not parse the message.
grpc::Status ToGrpc(const Status& status, grpc::ServerContext* context);

void ToProto(WallTime t, google::protobuf::Timestamp* out);
// INVALID_ARGUMENT naming `field` outside 0001-01-01..9999-12-31 (google/protobuf/timestamp.proto)
// or before the Unix epoch (nothing admin stores is older).
Result<WallTime> FromProto(const google::protobuf::Timestamp& t, std::string_view field);
void ToProto(const AuditRecord& a, pb::AuditEntry* out);
void ToProto(const Tenant& t, pb::Tenant* out);
void ToProto(const ApiKey& k, pb::ApiKey* out);
void ToProto(const IssuedKey& k, pb::ApiKeySecret* out);
void ToProto(const Extension& e, pb::Extension* out);
void ToProto(const PhoneNumber& n, pb::PhoneNumber* out);
void ToProto(const Trunk& t, pb::Trunk* out);

pb::TenantStatus ToProto(TenantStatus s);
Result<std::optional<TenantStatus>> FromProto(pb::TenantStatus s, std::string_view field);
pb::Transport ToProto(Transport t);
Result<Transport> FromProto(pb::Transport t, std::string_view field);
Result<CallerIdPolicy> FromProto(pb::CallerIdPolicy p, std::string_view field);
std::vector<PrefixRule> FromProto(const google::protobuf::RepeatedPtrField<pb::PrefixRule>& rules);

}  // namespace sb::admin::rpc
