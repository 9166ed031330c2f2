// Media commands on an answered call (play, stop_play, record_start, record_stop): the work goes
// to the node that anchors the call, on the caller's current leg (a transfer may have replaced it),
// or on an originated call's one leg.
#include <memory>
#include <utility>

#include "b2bua/b2bua.h"

namespace sb::signaling::b2bua {

Result<B2bua::Call*> B2bua::FindAnswered(const TenantId& tenant, std::string_view call_id) {
  Call* call = Find(std::string(call_id));
  if (call == nullptr || call->caller.tenant != tenant || call->phase == Phase::kAuthorizing) {
    // A call only the store knows is carried by another replica (or none): its commands go
    // there (the call's signaling_node_id), so NOT_FOUND here as for an unknown call.
    return Status::NotFound("no call " + std::string(call_id) + " on this node");
  }
  if (call->phase != Phase::kConnected) {
    return Status::FailedPrecondition("call " + call->id + " is not answered yet");
  }
  return call;
}

void B2bua::OnCallerLeg(const TenantId& tenant, std::string_view call_id, LegWork work,
                        std::function<void(Status)> done) {
  auto found = FindAnswered(tenant, call_id);
  if (!found.ok()) {
    done(found.status());
    return;
  }
  Call* call = *found;
  auto status = std::make_shared<Status>(Status::Internal("not run"));
  Status queued =
      offloader_.Run([this, status, work = std::move(work), node = call->media_node,
                      leg = PartyLeg(*call)] { *status = work(ports_.media, node, leg); },
                     [status, done] { done(*status); });
  if (!queued.ok()) done(queued);
}

}  // namespace sb::signaling::b2bua
