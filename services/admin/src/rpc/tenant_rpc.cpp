// TenantService and ApiKeyService.
#include "domain/paging.h"
#include "rpc/admin_services.h"
#include "rpc/convert.h"

namespace sb::admin::rpc {

grpc::Status TenantRpc::CreateTenant(ServerContext* c, const pb::CreateTenantRequest* req,
                                     pb::CreateTenantResponse* resp) {
  return gate_.Run(c, "CreateTenant", [&](const Principal& p) -> Status {
    auto o = p_.CreateTenant(p, {.slug = req->slug(),
                                 .name = req->name(),
                                 .max_extensions = req->max_extensions(),
                                 .max_concurrent_calls = req->max_concurrent_calls()});
    if (!o.ok()) return o.status();
    ToProto(o->tenant, resp->mutable_tenant());
    ToProto(o->first_key, resp->mutable_first_api_key());
    return Status::Ok();
  });
}

grpc::Status TenantRpc::GetTenant(ServerContext* c, const pb::GetTenantRequest* req,
                                  pb::Tenant* resp) {
  return gate_.Run(c, "GetTenant", [&](const Principal& p) -> Status {
    auto t = p_.GetTenant(p, req->id());
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TenantRpc::ListTenants(ServerContext* c, const pb::ListTenantsRequest* req,
                                    pb::ListTenantsResponse* resp) {
  return gate_.Run(c, "ListTenants", [&](const Principal& p) -> Status {
    auto page = ParsePageRequest(req->page().page_size(), req->page().page_token(), "page");
    if (!page.ok()) return page.status();
    auto status = FromProto(req->status(), "status");
    if (!status.ok()) return status.status();
    auto list = p_.ListTenants(p, {.status = *status, .slug_prefix = req->slug_prefix()}, *page);
    if (!list.ok()) return list.status();
    for (const auto& t : list->items) ToProto(t, resp->add_tenants());
    resp->mutable_page()->set_next_page_token(PageToken(list->next_after));
    resp->mutable_page()->set_total_size(-1);
    return Status::Ok();
  });
}

grpc::Status TenantRpc::UpdateTenant(ServerContext* c, const pb::UpdateTenantRequest* req,
                                     pb::Tenant* resp) {
  return gate_.Run(c, "UpdateTenant", [&](const Principal& p) -> Status {
    TenantChanges changes;
    if (req->has_name()) changes.name = req->name();
    if (req->has_max_extensions()) changes.max_extensions = req->max_extensions();
    if (req->has_max_concurrent_calls()) changes.max_concurrent_calls = req->max_concurrent_calls();
    auto t = p_.UpdateTenant(p, req->id(), changes);
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TenantRpc::SuspendTenant(ServerContext* c, const pb::SuspendTenantRequest* req,
                                      pb::Tenant* resp) {
  return gate_.Run(c, "SuspendTenant", [&](const Principal& p) -> Status {
    auto t = p_.SuspendTenant(p, req->id(), req->reason());
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TenantRpc::ResumeTenant(ServerContext* c, const pb::ResumeTenantRequest* req,
                                     pb::Tenant* resp) {
  return gate_.Run(c, "ResumeTenant", [&](const Principal& p) -> Status {
    auto t = p_.ResumeTenant(p, req->id());
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TenantRpc::DeleteTenant(ServerContext* c, const pb::DeleteTenantRequest* req,
                                     pb::DeleteTenantResponse*) {
  return gate_.Run(c, "DeleteTenant",
                   [&](const Principal& p) -> Status { return p_.DeleteTenant(p, req->id()); });
}

grpc::Status ApiKeyRpc::CreateApiKey(ServerContext* c, const pb::CreateApiKeyRequest* req,
                                     pb::CreateApiKeyResponse* resp) {
  return gate_.Run(c, "CreateApiKey", [&](const Principal& p) -> Status {
    auto k = p_.CreateApiKey(p, req->tenant_id(), req->name());
    if (!k.ok()) return k.status();
    ToProto(k->key, resp->mutable_key());
    ToProto(*k, resp->mutable_secret());
    return Status::Ok();
  });
}

grpc::Status ApiKeyRpc::ListApiKeys(ServerContext* c, const pb::ListApiKeysRequest* req,
                                    pb::ListApiKeysResponse* resp) {
  return gate_.Run(c, "ListApiKeys", [&](const Principal& p) -> Status {
    auto page = ParsePageRequest(req->page().page_size(), req->page().page_token(), "page");
    if (!page.ok()) return page.status();
    auto list = p_.ListApiKeys(p, req->tenant_id(), req->include_revoked(), *page);
    if (!list.ok()) return list.status();
    for (const auto& k : list->items) ToProto(k, resp->add_keys());
    resp->mutable_page()->set_next_page_token(PageToken(list->next_after));
    resp->mutable_page()->set_total_size(-1);
    return Status::Ok();
  });
}

grpc::Status ApiKeyRpc::RevokeApiKey(ServerContext* c, const pb::RevokeApiKeyRequest* req,
                                     pb::ApiKey* resp) {
  return gate_.Run(c, "RevokeApiKey", [&](const Principal& p) -> Status {
    auto k = p_.RevokeApiKey(p, req->tenant_id(), req->id());
    if (!k.ok()) return k.status();
    ToProto(*k, resp);
    return Status::Ok();
  });
}

}  // namespace sb::admin::rpc
