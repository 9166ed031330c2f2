// ExtensionService, NumberService and TrunkService.
#include "domain/paging.h"
#include "rpc/admin_services.h"
#include "rpc/convert.h"

namespace sb::admin::rpc {

grpc::Status ExtensionRpc::CreateExtension(ServerContext* c, const pb::CreateExtensionRequest* req,
                                           pb::Extension* resp) {
  return gate_.Run(c, "CreateExtension", [&](const Principal& p) -> Status {
    ExtensionInput in{.tenant_id = req->tenant_id(),
                      .number = req->number(),
                      .display_name = req->display_name(),
                      .sip_username = req->sip_username(),
                      .password = req->password(),
                      .caller_id = req->caller_id(),
                      .enabled = {}};
    if (req->has_enabled()) in.enabled = req->enabled();
    auto e = p_.CreateExtension(p, in);
    if (!e.ok()) return e.status();
    ToProto(*e, resp);
    return Status::Ok();
  });
}

grpc::Status ExtensionRpc::GetExtension(ServerContext* c, const pb::GetExtensionRequest* req,
                                        pb::Extension* resp) {
  return gate_.Run(c, "GetExtension", [&](const Principal& p) -> Status {
    auto e = p_.GetExtension(p, req->tenant_id(), req->id());
    if (!e.ok()) return e.status();
    ToProto(*e, resp);
    return Status::Ok();
  });
}

grpc::Status ExtensionRpc::ListExtensions(ServerContext* c, const pb::ListExtensionsRequest* req,
                                          pb::ListExtensionsResponse* resp) {
  return gate_.Run(c, "ListExtensions", [&](const Principal& p) -> Status {
    auto page = ParsePageRequest(req->page().page_size(), req->page().page_token(), "page");
    if (!page.ok()) return page.status();
    ExtensionFilter filter{.number_prefix = req->number_prefix(), .enabled = {}};
    if (req->has_enabled()) filter.enabled = req->enabled();
    auto list = p_.ListExtensions(p, req->tenant_id(), filter, *page);
    if (!list.ok()) return list.status();
    for (const auto& e : list->items) ToProto(e, resp->add_extensions());
    resp->mutable_page()->set_next_page_token(PageToken(list->next_after));
    resp->mutable_page()->set_total_size(-1);
    return Status::Ok();
  });
}

grpc::Status ExtensionRpc::UpdateExtension(ServerContext* c, const pb::UpdateExtensionRequest* req,
                                           pb::Extension* resp) {
  return gate_.Run(c, "UpdateExtension", [&](const Principal& p) -> Status {
    ExtensionChanges changes;
    if (req->has_display_name()) changes.display_name = req->display_name();
    if (req->has_password()) changes.password = req->password();
    if (req->has_caller_id()) changes.caller_id = req->caller_id();
    if (req->has_enabled()) changes.enabled = req->enabled();
    auto e = p_.UpdateExtension(p, req->tenant_id(), req->id(), changes);
    if (!e.ok()) return e.status();
    ToProto(*e, resp);
    return Status::Ok();
  });
}

grpc::Status ExtensionRpc::DeleteExtension(ServerContext* c, const pb::DeleteExtensionRequest* req,
                                           pb::DeleteExtensionResponse*) {
  return gate_.Run(c, "DeleteExtension", [&](const Principal& p) -> Status {
    return p_.DeleteExtension(p, req->tenant_id(), req->id());
  });
}

grpc::Status NumberRpc::AddNumber(ServerContext* c, const pb::AddNumberRequest* req,
                                  pb::PhoneNumber* resp) {
  return gate_.Run(c, "AddNumber", [&](const Principal& p) -> Status {
    auto n = p_.AddNumber(
        p, {.tenant_id = req->tenant_id(), .e164 = req->e164(), .target = req->target()});
    if (!n.ok()) return n.status();
    ToProto(*n, resp);
    return Status::Ok();
  });
}

grpc::Status NumberRpc::GetNumber(ServerContext* c, const pb::GetNumberRequest* req,
                                  pb::PhoneNumber* resp) {
  return gate_.Run(c, "GetNumber", [&](const Principal& p) -> Status {
    auto n = p_.GetNumber(p, req->tenant_id(), req->id());
    if (!n.ok()) return n.status();
    ToProto(*n, resp);
    return Status::Ok();
  });
}

grpc::Status NumberRpc::ListNumbers(ServerContext* c, const pb::ListNumbersRequest* req,
                                    pb::ListNumbersResponse* resp) {
  return gate_.Run(c, "ListNumbers", [&](const Principal& p) -> Status {
    auto page = ParsePageRequest(req->page().page_size(), req->page().page_token(), "page");
    if (!page.ok()) return page.status();
    auto list = p_.ListNumbers(p, req->tenant_id(), req->e164_prefix(), *page);
    if (!list.ok()) return list.status();
    for (const auto& n : list->items) ToProto(n, resp->add_numbers());
    resp->mutable_page()->set_next_page_token(PageToken(list->next_after));
    resp->mutable_page()->set_total_size(-1);
    return Status::Ok();
  });
}

grpc::Status NumberRpc::UpdateNumber(ServerContext* c, const pb::UpdateNumberRequest* req,
                                     pb::PhoneNumber* resp) {
  return gate_.Run(c, "UpdateNumber", [&](const Principal& p) -> Status {
    std::optional<std::string> target;
    if (req->has_target()) target = req->target();
    auto n = p_.UpdateNumber(p, req->tenant_id(), req->id(), target);
    if (!n.ok()) return n.status();
    ToProto(*n, resp);
    return Status::Ok();
  });
}

grpc::Status NumberRpc::DeleteNumber(ServerContext* c, const pb::DeleteNumberRequest* req,
                                     pb::DeleteNumberResponse*) {
  return gate_.Run(c, "DeleteNumber", [&](const Principal& p) -> Status {
    return p_.DeleteNumber(p, req->tenant_id(), req->id());
  });
}

grpc::Status TrunkRpc::CreateTrunk(ServerContext* c, const pb::CreateTrunkRequest* req,
                                   pb::Trunk* resp) {
  return gate_.Run(c, "CreateTrunk", [&](const Principal& p) -> Status {
    auto transport = FromProto(req->transport(), "transport");
    if (!transport.ok()) return transport.status();
    auto policy = FromProto(req->caller_id_policy(), "caller_id_policy");
    if (!policy.ok()) return policy.status();
    TrunkInput in{.tenant_id = req->tenant_id(),
                  .name = req->name(),
                  .host = req->host(),
                  .port = req->port(),
                  .transport = *transport,
                  .username = req->username(),
                  .password = req->password(),
                  .inbound_sources = {req->inbound_sources().begin(), req->inbound_sources().end()},
                  .prefix_rules = FromProto(req->prefix_rules()),
                  .caller_id_policy = *policy,
                  .fixed_caller_id = req->fixed_caller_id()};
    auto t = p_.CreateTrunk(p, in);
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TrunkRpc::GetTrunk(ServerContext* c, const pb::GetTrunkRequest* req, pb::Trunk* resp) {
  return gate_.Run(c, "GetTrunk", [&](const Principal& p) -> Status {
    auto t = p_.GetTrunk(p, req->tenant_id(), req->id());
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TrunkRpc::ListTrunks(ServerContext* c, const pb::ListTrunksRequest* req,
                                  pb::ListTrunksResponse* resp) {
  return gate_.Run(c, "ListTrunks", [&](const Principal& p) -> Status {
    auto page = ParsePageRequest(req->page().page_size(), req->page().page_token(), "page");
    if (!page.ok()) return page.status();
    auto list = p_.ListTrunks(p, req->tenant_id(), req->name_prefix(), *page);
    if (!list.ok()) return list.status();
    for (const auto& t : list->items) ToProto(t, resp->add_trunks());
    resp->mutable_page()->set_next_page_token(PageToken(list->next_after));
    resp->mutable_page()->set_total_size(-1);
    return Status::Ok();
  });
}

grpc::Status TrunkRpc::UpdateTrunk(ServerContext* c, const pb::UpdateTrunkRequest* req,
                                   pb::Trunk* resp) {
  return gate_.Run(c, "UpdateTrunk", [&](const Principal& p) -> Status {
    TrunkChanges changes;
    if (req->has_host()) changes.host = req->host();
    if (req->has_port()) changes.port = req->port();
    if (req->has_transport()) {
      auto transport = FromProto(req->transport(), "transport");
      if (!transport.ok()) return transport.status();
      changes.transport = *transport;
    }
    if (req->has_username()) changes.username = req->username();
    if (req->has_password()) changes.password = req->password();
    if (req->replace_inbound_sources()) {
      changes.inbound_sources =
          std::vector<std::string>(req->inbound_sources().begin(), req->inbound_sources().end());
    }
    if (req->replace_prefix_rules()) changes.prefix_rules = FromProto(req->prefix_rules());
    if (req->has_caller_id_policy()) {
      auto policy = FromProto(req->caller_id_policy(), "caller_id_policy");
      if (!policy.ok()) return policy.status();
      changes.caller_id_policy = *policy;
    }
    if (req->has_fixed_caller_id()) changes.fixed_caller_id = req->fixed_caller_id();
    auto t = p_.UpdateTrunk(p, req->tenant_id(), req->id(), changes);
    if (!t.ok()) return t.status();
    ToProto(*t, resp);
    return Status::Ok();
  });
}

grpc::Status TrunkRpc::DeleteTrunk(ServerContext* c, const pb::DeleteTrunkRequest* req,
                                   pb::DeleteTrunkResponse*) {
  return gate_.Run(c, "DeleteTrunk", [&](const Principal& p) -> Status {
    return p_.DeleteTrunk(p, req->tenant_id(), req->id());
  });
}

}  // namespace sb::admin::rpc
