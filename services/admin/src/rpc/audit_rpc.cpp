// AuditService: the audit log, read-only (domain/audit_log.h).
#include "domain/paging.h"
#include "rpc/admin_services.h"
#include "rpc/convert.h"

namespace sb::admin::rpc {

grpc::Status AuditRpc::ListAuditEntries(ServerContext* c, const pb::ListAuditEntriesRequest* req,
                                        pb::ListAuditEntriesResponse* resp) {
  return gate_.Run(c, "ListAuditEntries", [&](const Principal& p) -> Status {
    auto page =
        ParsePageRequest(req->page().page_size(), req->page().page_token(), "page", IsAuditEntryId);
    if (!page.ok()) return page.status();
    AuditQuery query{.tenant_id = req->tenant_id(),
                     .resource_type = req->resource_type(),
                     .resource_id = req->resource_id(),
                     .actor_key_id = req->actor_key_id()};
    if (req->has_since()) {
      auto since = FromProto(req->since(), "since");
      if (!since.ok()) return since.status();
      query.since = *since;
    }
    if (req->has_until()) {
      auto until = FromProto(req->until(), "until");
      if (!until.ok()) return until.status();
      query.until = *until;
    }
    auto list = audit_.List(p, query, *page);
    if (!list.ok()) return list.status();
    for (const auto& a : list->items) ToProto(a, resp->add_entries());
    resp->mutable_page()->set_next_page_token(PageToken(list->next_after));
    resp->mutable_page()->set_total_size(-1);
    return Status::Ok();
  });
}

}  // namespace sb::admin::rpc
