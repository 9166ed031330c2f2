// Media commands on an answered call (play, stop_play, record_start, record_stop): the work goes
// to the node that anchors the call, on the caller's current leg (a transfer may have replaced it),
// or on an originated call's one leg. A call this node does not carry is worked on from its
// record, as Hangup ends one: its node is gone (a replica restarted under the same node id gets
// its predecessor's commands, which name the node by that id). And the other way: the media node's
// report that a party went silent (OnMediaSilent).
#include <memory>
#include <utility>

#include "b2bua/b2bua.h"
#include "b2bua/sdp_direction.h"

namespace sb::signaling::b2bua {

Result<B2bua::Call*> B2bua::FindAnswered(const TenantId& tenant, std::string_view call_id) {
  Call* call = Find(std::string(call_id));
  if (call == nullptr || call->caller.tenant != tenant || call->phase == Phase::kAuthorizing) {
    return Status::NotFound("no call " + std::string(call_id) + " on this node");
  }
  if (call->phase != Phase::kConnected) {
    return Status::FailedPrecondition("call " + call->id + " is not answered yet");
  }
  return call;
}

void B2bua::OnCallerLeg(const TenantId& tenant, std::string_view call_id, LegWork work,
                        std::function<void(Status)> done) {
  if (Find(std::string(call_id)) == nullptr) {
    OnStoredCallerLeg(tenant, std::string(call_id), std::move(work), std::move(done));
    return;
  }
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

void B2bua::OnMediaSilent(std::string_view leg_id) {
  // By leg, not by the event's call id: a side a bridge brought in keeps its old call's leg.
  for (auto& [id, call] : calls_) {
    if (call.phase != Phase::kConnected) continue;
    for (char side : {'a', 'b'}) {
      if ((side == 'a' && call.one_legged) || MediaLeg(call, side) != leg_id) continue;
      auto direction = OfferedDirection(Session(call, side).peer_sdp);
      if (direction && *direction != sdp::Direction::kSendRecv) return;
      const std::string ended = id;  // Finish erases the call
      Finish(ended, true, true, "media_failure");
      return;
    }
  }
}

void B2bua::OnStoredCallerLeg(const TenantId& tenant, std::string id, LegWork work,
                              std::function<void(Status)> done) {
  auto status = std::make_shared<Status>(Status::Internal("not run"));
  Status queued = offloader_.Run(
      [this, status, tenant, id, work = std::move(work)] {
        auto stored = ports_.store.Find(id);
        // A ringing record is another replica's call, as for Hangup; an answered one lists leg a
        // first, or an originated call's one leg alone.
        if (!stored.ok() || stored->tenant != tenant || StoredRinging(*stored) ||
            stored->media_legs.empty()) {
          *status = Status::NotFound("no call " + id);
          return;
        }
        *status = work(ports_.media, stored->media_node_id, stored->media_legs.front());
      },
      [status, done] { done(*status); });
  if (!queued.ok()) done(queued);
}

}  // namespace sb::signaling::b2bua
