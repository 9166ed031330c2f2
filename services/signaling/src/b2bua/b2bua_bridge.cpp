// The bridge command: two answered calls of a tenant on one media node become one call.
//
//   call X (kept)                          call Y (merged into X)
//   party: its caller, or the one leg      party: its caller, or the one leg
//          of an originated call                  of an originated call
//   X's callee (if any): BYE, leg gone     Y's callee (if any): BYE, leg gone
//
// X's party is bridged on the node to Y's party, whose dialog and media leg X takes over (an
// originated X gains a side a, a two-legged X a new side b). Y is reported ended at once (cause
// "bridged", code 200: what it was answered for until now is billed to Y); X's events go on
// unchanged and its "ended" comes when either party hangs up. Media legs keep their names (and
// Y's call id on the node's own events). A bridge the node refuses ends X (media_failure).
#include <utility>

#include "b2bua/b2bua.h"

namespace sb::signaling::b2bua {

void B2bua::Bridge(const TenantId& tenant, std::string_view call_id, std::string_view other_id,
                   std::function<void(Status)> done) {
  auto kept = FindAnswered(tenant, call_id);
  if (!kept.ok()) {
    done(kept.status());
    return;
  }
  auto merged = FindAnswered(tenant, other_id);
  if (!merged.ok()) {
    done(merged.status());
    return;
  }
  Call& x = **kept;
  Call& y = **merged;
  if (x.transfer || y.transfer) {
    done(Status::FailedPrecondition("a call being transferred cannot be bridged"));
    return;
  }
  if (x.media_node != y.media_node) {
    done(Status::FailedPrecondition("calls " + x.id + " and " + y.id +
                                    " are anchored on different media nodes (" + x.media_node +
                                    ", " + y.media_node +
                                    "): bridging across nodes is not "
                                    "supported"));
    return;
  }
  const std::string node = x.media_node;
  std::vector<std::string> dropped;
  // Y's party, and Y's callee hung up.
  const char y_side = y.one_legged ? 'b' : 'a';
  const sip::DialogId y_dialog = y_side == 'a' ? y.a_dialog : *y.b_dialog;
  const std::string y_leg = MediaLeg(y, y_side);
  const std::string y_sdp = y_side == 'a' ? y.a_sdp : y.b_offer;
  const std::string y_peer_sdp = Session(y, y_side).peer_sdp;
  const std::string y_uri = y_side == 'a' ? y.from_uri : y.to_uri;
  if (!y.one_legged) {
    HangUp(*y.b_dialog);
    by_dialog_.erase(*y.b_dialog);
    dropped.push_back(MediaLeg(y, 'b'));
  }
  CallSummary ended = Summary(y);
  ended.sip_code = 200;
  ended.cause = "bridged";
  StoredCall y_stored;
  y_stored.call_id = y.id;
  y_stored.tenant = y.caller.tenant;
  calls_.erase(y.id);

  // X's party stays; its callee (if any) is hung up and Y's party takes that side.
  const std::string x_leg = PartyLeg(x);
  if (x.one_legged) {
    x.a_dialog = y_dialog;
    x.a_sdp = y_sdp;
    x.a_session.peer_sdp = y_peer_sdp;
    x.a_leg_base = y_leg;
    x.a_generation = 0;
    x.from_uri = y_uri;
    x.one_legged = false;
  } else {
    HangUp(*x.b_dialog);
    by_dialog_.erase(*x.b_dialog);
    dropped.push_back(MediaLeg(x, 'b'));
    x.b_dialog = y_dialog;
    x.b_offer = y_sdp;
    x.b_session.peer_sdp = y_peer_sdp;
    x.b_leg_base = y_leg;
    x.b_generation = 0;
    x.to_uri = y_uri;
  }
  by_dialog_[y_dialog] = x.id;

  auto status = std::make_shared<Status>(Status::Internal("not run"));
  const std::string x_id = x.id;
  // Y leaves the store before X is saved with Y's dialog: both name its key.
  Status queued = offloader_.Run(
      [this, status, node, dropped, x_leg, y_leg, y_stored, x_stored = Stored(x), ended] {
        EndStored(y_stored, ended);
        (void)ports_.store.Save(x_stored, nullptr);
        (void)ports_.media.DestroyLegs(node, dropped);
        auto bridged = ports_.media.Bridge(node, x_leg, y_leg);
        *status = bridged.ok() ? Status::Ok() : bridged.status();
      },
      [this, status, x_id, done] {
        if (!status->ok()) Finish(x_id, true, true, "media_failure");
        done(*status);
      });
  if (!queued.ok()) {
    Finish(x_id, true, true, "network_failure");
    done(queued);
  }
}

}  // namespace sb::signaling::b2bua
