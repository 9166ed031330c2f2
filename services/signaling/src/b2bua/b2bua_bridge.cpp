// The bridge command: two answered calls of a tenant become one call.
//
//   call X (kept)                          call Y (merged into X)
//   party: its caller, or the one leg      party: its caller, or the one leg
//          of an originated call                  of an originated call
//   X's callee (if any): BYE, leg gone     Y's callee (if any): BYE, leg gone
//
// X's party is bridged on X's media node to Y's party, whose dialog and media leg X takes over
// (an originated X gains a side a, a two-legged X a new side b). Y is reported ended at once
// (cause "bridged", code 200: what it was answered for until now is billed to Y); X's events go
// on unchanged and its "ended" comes when either party hangs up. Media legs keep their names (and
// Y's call id on the node's own events). A bridge the node refuses ends X (media_failure).
//
// Calls anchored on two media nodes (each call takes the least-loaded node when it starts, so
// a queue's caller and its agent often are) are joined on X's: Y's party is moved there first.
// A new leg on X's node offers it a description that continues the one it has (same o= line,
// next version, same direction), in a re-INVITE; once it accepts and the node has its answer,
// its old leg is released and the calls are merged as above. A party that refuses (488, 491,
// no answer) keeps its session as it was (RFC 3261 §14.1), and the command fails.
#include <utility>

#include "b2bua/b2bua.h"
#include "b2bua/sdp_direction.h"

namespace sb::signaling::b2bua {

Result<std::pair<B2bua::Call*, B2bua::Call*>> B2bua::Bridgeable(const TenantId& tenant,
                                                                std::string_view call_id,
                                                                std::string_view other_id) {
  auto kept = FindAnswered(tenant, call_id);
  if (!kept.ok()) return kept.status();
  auto merged = FindAnswered(tenant, other_id);
  if (!merged.ok()) return merged.status();
  Call* x = *kept;
  Call* y = *merged;
  if (x->transfer || y->transfer) {
    return Status::FailedPrecondition("a call being transferred cannot be bridged");
  }
  if (x->moving || y->moving) {
    return Status::FailedPrecondition("a call being bridged cannot be bridged again");
  }
  return std::make_pair(x, y);
}

void B2bua::Bridge(const TenantId& tenant, std::string_view call_id, std::string_view other_id,
                   std::function<void(Status)> done) {
  auto calls = Bridgeable(tenant, call_id, other_id);
  if (!calls.ok()) {
    done(calls.status());
    return;
  }
  auto [x, y] = *calls;
  if (x->media_node == y->media_node) {
    Merge(*x, *y, std::move(done));
    return;
  }
  x->moving = true;
  MoveParty(*y, x->media_node, [this, tenant, x_id = x->id, y_id = y->id, done](Status moved) {
    if (Call* x = Find(x_id)) x->moving = false;
    if (!moved.ok()) {
      done(moved);
      return;
    }
    auto again = Bridgeable(tenant, x_id, y_id);
    if (again.ok()) {
      Merge(*again->first, *again->second, done);
      return;
    }
    // X ended while Y's party moved: a two-legged Y now has its parties on two nodes.
    Call* y = Find(y_id);
    if (y != nullptr && !y->one_legged) Finish(y_id, true, true, "media_failure");
    done(again.status());
  });
}

void B2bua::MoveParty(Call& y, const std::string& node, std::function<void(Status)> moved) {
  const char side = y.one_legged ? 'b' : 'a';
  const int generation = (side == 'a' ? y.a_generation : y.b_generation) + 1;
  const std::string id = y.id, leg = MediaLeg(y, side, generation);
  const std::string old_node = y.media_node, old_leg = MediaLeg(y, side);
  const std::string previous = side == 'a' ? y.a_sdp : y.b_offer;
  const sip::DialogId dialog = side == 'a' ? y.a_dialog : *y.b_dialog;
  const TenantId tenant = y.caller.tenant;
  y.moving = true;
  // The new leg released and the call left as it was (or ended, `end`).
  auto give_up = [this, id, node, leg, moved](Status why, bool end) {
    ports_.media.ReleaseLegs(node, {leg});
    if (Call* y = Find(id)) {
      y->moving = false;
      if (end) Finish(id, true, true, "media_failure");
    }
    moved(std::move(why));
  };
  // Once the party accepted the new leg: the node gets its answer, the old leg goes.
  auto accepted = [this, id, node, leg, side, generation, old_node, old_leg, give_up, moved](
                      std::string offer, std::string answer) {
    auto updated = std::make_shared<Status>(Status::Internal("not run"));
    Status queued = offloader_.Run(
        [this, updated, node, leg, answer] {
          *updated = ports_.media.UpdateLeg(node, leg, false, answer).status();
        },
        [this, updated, id, node, side, generation, old_node, old_leg, offer, answer, give_up,
         moved] {
          Call* y = Find(id);
          if (y == nullptr) {
            give_up(Status::NotFound("call " + id + " ended while its party moved"), false);
            return;
          }
          if (!updated->ok()) {
            give_up(*updated, true);
            return;
          }
          (side == 'a' ? y->a_generation : y->b_generation) = generation;
          (side == 'a' ? y->a_sdp : y->b_offer) = offer;
          Session(*y, side).peer_sdp = answer;
          // A one-legged call is all on the new node; a callee's leg stays where it was until
          // the merge hangs it up.
          if (y->one_legged) y->media_node = node;
          y->moving = false;
          ports_.media.ReleaseLegs(old_node, {old_leg});
          moved(Status::Ok());
        });
    if (!queued.ok()) give_up(queued, true);
  };

  auto created = std::make_shared<Result<MediaAnchor::Leg>>(Status::Internal("not run"));
  Status queued = offloader_.Run(
      [this, created, tenant, id, leg, node] {
        *created = ports_.media.CreateLeg(tenant, id, leg, node, {});
      },
      [this, created, id, side, dialog, previous, give_up, accepted, moved] {
        if (!created->ok()) {
          if (Call* y = Find(id)) y->moving = false;
          moved(created->status());
          return;
        }
        Call* y = Find(id);
        if (y == nullptr) {
          give_up(Status::NotFound("call " + id + " ended while its party moved"), false);
          return;
        }
        std::string offer = ContinuedDescription(previous, (*created)->sdp);
        auto sent = endpoint_.SendInDialog(
            dialog, "INVITE",
            [this, id, side, give_up, accepted, offer](const ClientResponse& r, SipEndpoint&) {
              const int code = r.timed_out ? 408 : r.response->status_code();
              if (code < 200) return;
              if (Call* y = Find(id); y != nullptr && code < 300) {
                SessionAnswered(*y, side, *r.response);
              }
              if (code >= 300 || r.response->body().empty()) {
                give_up(Status::FailedPrecondition(
                            "the party refused the move to the other call's media node (" +
                            std::to_string(code) + ")"),
                        false);
                return;
              }
              accepted(offer, std::string(r.response->body()));
            },
            offer, "application/sdp", SessionHeaders(*y, side));
        if (!sent.ok()) give_up(sent.status(), false);
      });
  if (!queued.ok()) {
    y.moving = false;
    moved(queued);
  }
}

void B2bua::Merge(Call& x, Call& y, std::function<void(Status)> done) {
  const std::string node = x.media_node, y_node = y.media_node;
  std::vector<std::string> dropped, y_dropped;
  // Y's party, and Y's callee hung up.
  const char y_side = y.one_legged ? 'b' : 'a';
  const sip::DialogId y_dialog = y_side == 'a' ? y.a_dialog : *y.b_dialog;
  const std::string y_leg = MediaLeg(y, y_side);
  const std::string y_sdp = y_side == 'a' ? y.a_sdp : y.b_offer;
  const std::string y_peer_sdp = Session(y, y_side).peer_sdp;
  const std::string y_uri = y_side == 'a' ? y.from_uri : y.to_uri;
  // Y's party's session timer goes with its dialog, as it runs (the refresh we owe it, or the
  // one it owes us, stays due when it was).
  std::optional<sip::SessionTimer> y_timer = Session(y, y_side).timer;
  StopSessions(y);
  if (!y.one_legged) {
    HangUp(*y.b_dialog);
    by_dialog_.erase(*y.b_dialog);
    y_dropped.push_back(MediaLeg(y, 'b'));
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
  const char x_side = x.one_legged ? 'a' : 'b';
  StartSession(x, x_side, std::nullopt);
  LegSession& taken = Session(x, x_side);
  taken.refresh_retries = 0;
  taken.answer_in_ack = false;
  if (y_timer) {
    taken.timer.emplace(*y_timer);
    ArmSession(x, x_side);
  }
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
      [this, status, node, y_node, dropped, y_dropped, x_leg, y_leg, y_stored, x_stored = Stored(x),
       ended] {
        EndStored(y_stored, ended);
        (void)ports_.store.Save(x_stored, nullptr);
        (void)ports_.media.DestroyLegs(node, dropped);
        (void)ports_.media.DestroyLegs(y_node, y_dropped);
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
