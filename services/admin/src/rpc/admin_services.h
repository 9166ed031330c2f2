// The gRPC services of switchboard.admin.v1: each method converts the request to domain inputs,
// runs the use case through the Gate (authentication, rate limit, metrics) and converts back.
// No business rule lives here.
//
//   Gate gate(provisioning, limiter, metrics, log);
//   AdminServices services(provisioning, gate);
//   services.Register(builder);
#pragma once

#include <grpcpp/grpcpp.h>

#include "domain/audit_log.h"
#include "rpc/gate.h"
#include "switchboard/admin/v1/api_key.grpc.pb.h"
#include "switchboard/admin/v1/audit.grpc.pb.h"
#include "switchboard/admin/v1/extension.grpc.pb.h"
#include "switchboard/admin/v1/number.grpc.pb.h"
#include "switchboard/admin/v1/tenant.grpc.pb.h"
#include "switchboard/admin/v1/trunk.grpc.pb.h"

namespace sb::admin::rpc {

namespace pb = ::switchboard::admin::v1;
using grpc::ServerContext;

class TenantRpc final : public pb::TenantService::Service {
 public:
  TenantRpc(Provisioning& p, Gate& gate) : p_(p), gate_(gate) {}
  grpc::Status CreateTenant(ServerContext* c, const pb::CreateTenantRequest* req,
                            pb::CreateTenantResponse* resp) override;
  grpc::Status GetTenant(ServerContext* c, const pb::GetTenantRequest* req,
                         pb::Tenant* resp) override;
  grpc::Status ListTenants(ServerContext* c, const pb::ListTenantsRequest* req,
                           pb::ListTenantsResponse* resp) override;
  grpc::Status UpdateTenant(ServerContext* c, const pb::UpdateTenantRequest* req,
                            pb::Tenant* resp) override;
  grpc::Status SuspendTenant(ServerContext* c, const pb::SuspendTenantRequest* req,
                             pb::Tenant* resp) override;
  grpc::Status ResumeTenant(ServerContext* c, const pb::ResumeTenantRequest* req,
                            pb::Tenant* resp) override;
  grpc::Status DeleteTenant(ServerContext* c, const pb::DeleteTenantRequest* req,
                            pb::DeleteTenantResponse* resp) override;

 private:
  Provisioning& p_;
  Gate& gate_;
};

class ApiKeyRpc final : public pb::ApiKeyService::Service {
 public:
  ApiKeyRpc(Provisioning& p, Gate& gate) : p_(p), gate_(gate) {}
  grpc::Status CreateApiKey(ServerContext* c, const pb::CreateApiKeyRequest* req,
                            pb::CreateApiKeyResponse* resp) override;
  grpc::Status ListApiKeys(ServerContext* c, const pb::ListApiKeysRequest* req,
                           pb::ListApiKeysResponse* resp) override;
  grpc::Status RevokeApiKey(ServerContext* c, const pb::RevokeApiKeyRequest* req,
                            pb::ApiKey* resp) override;

 private:
  Provisioning& p_;
  Gate& gate_;
};

class ExtensionRpc final : public pb::ExtensionService::Service {
 public:
  ExtensionRpc(Provisioning& p, Gate& gate) : p_(p), gate_(gate) {}
  grpc::Status CreateExtension(ServerContext* c, const pb::CreateExtensionRequest* req,
                               pb::Extension* resp) override;
  grpc::Status GetExtension(ServerContext* c, const pb::GetExtensionRequest* req,
                            pb::Extension* resp) override;
  grpc::Status ListExtensions(ServerContext* c, const pb::ListExtensionsRequest* req,
                              pb::ListExtensionsResponse* resp) override;
  grpc::Status UpdateExtension(ServerContext* c, const pb::UpdateExtensionRequest* req,
                               pb::Extension* resp) override;
  grpc::Status DeleteExtension(ServerContext* c, const pb::DeleteExtensionRequest* req,
                               pb::DeleteExtensionResponse* resp) override;

 private:
  Provisioning& p_;
  Gate& gate_;
};

class NumberRpc final : public pb::NumberService::Service {
 public:
  NumberRpc(Provisioning& p, Gate& gate) : p_(p), gate_(gate) {}
  grpc::Status AddNumber(ServerContext* c, const pb::AddNumberRequest* req,
                         pb::PhoneNumber* resp) override;
  grpc::Status GetNumber(ServerContext* c, const pb::GetNumberRequest* req,
                         pb::PhoneNumber* resp) override;
  grpc::Status ListNumbers(ServerContext* c, const pb::ListNumbersRequest* req,
                           pb::ListNumbersResponse* resp) override;
  grpc::Status UpdateNumber(ServerContext* c, const pb::UpdateNumberRequest* req,
                            pb::PhoneNumber* resp) override;
  grpc::Status DeleteNumber(ServerContext* c, const pb::DeleteNumberRequest* req,
                            pb::DeleteNumberResponse* resp) override;

 private:
  Provisioning& p_;
  Gate& gate_;
};

class TrunkRpc final : public pb::TrunkService::Service {
 public:
  TrunkRpc(Provisioning& p, Gate& gate) : p_(p), gate_(gate) {}
  grpc::Status CreateTrunk(ServerContext* c, const pb::CreateTrunkRequest* req,
                           pb::Trunk* resp) override;
  grpc::Status GetTrunk(ServerContext* c, const pb::GetTrunkRequest* req, pb::Trunk* resp) override;
  grpc::Status ListTrunks(ServerContext* c, const pb::ListTrunksRequest* req,
                          pb::ListTrunksResponse* resp) override;
  grpc::Status UpdateTrunk(ServerContext* c, const pb::UpdateTrunkRequest* req,
                           pb::Trunk* resp) override;
  grpc::Status DeleteTrunk(ServerContext* c, const pb::DeleteTrunkRequest* req,
                           pb::DeleteTrunkResponse* resp) override;

 private:
  Provisioning& p_;
  Gate& gate_;
};

class AuditRpc final : public pb::AuditService::Service {
 public:
  AuditRpc(AuditLogReader& audit, Gate& gate) : audit_(audit), gate_(gate) {}
  grpc::Status ListAuditEntries(ServerContext* c, const pb::ListAuditEntriesRequest* req,
                                pb::ListAuditEntriesResponse* resp) override;

 private:
  AuditLogReader& audit_;
  Gate& gate_;
};

// All six, registered together.
class AdminServices {
 public:
  AdminServices(Provisioning& p, AuditLogReader& audit, Gate& gate)
      : tenants_(p, gate),
        keys_(p, gate),
        extensions_(p, gate),
        numbers_(p, gate),
        trunks_(p, gate),
        audit_(audit, gate) {}
  void Register(grpc::ServerBuilder& builder) {
    builder.RegisterService(&tenants_);
    builder.RegisterService(&keys_);
    builder.RegisterService(&extensions_);
    builder.RegisterService(&numbers_);
    builder.RegisterService(&trunks_);
    builder.RegisterService(&audit_);
  }

 private:
  TenantRpc tenants_;
  ApiKeyRpc keys_;
  ExtensionRpc extensions_;
  NumberRpc numbers_;
  TrunkRpc trunks_;
  AuditRpc audit_;
};

}  // namespace sb::admin::rpc
