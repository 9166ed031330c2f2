// A call only the store knows, taken up live here for what needs the whole call at once: a
// transfer (a REFER from one of its parties, or the transfer command), which rings a target,
// swaps a party's dialog and media leg, and tells the transferor how it went. Every other request
// of such a call is answered from its record, request by request, by whichever replica it reaches
// (b2bua_dialog.cpp); a transfer runs for many seconds over several dialogs, so it runs on a
// live call as on the node that set the call up:
//
//   REFER (stored dialog) -> record -> Revive: both dialogs held again by this endpoint
//                            (sip::Dialog::Restore), the call's parties from the record
//                            (version 7), its media legs named as they are
//                         -> OnInDialog / StartTransfer, as for any live call
//   transfer over (the target answered, or it failed) -> PutBack: the record saved as the call
//                            now is, the call no longer carried here (its dialogs forgotten a
//                            little later, so that a retransmitted 2xx still meets its ACK)
//
// Once put back, the call is a stored call again, for any replica: the other party's requests may
// reach another one meanwhile (the balancer hashes them by their own Call-ID once the call's node
// is gone), and a live call here would then be a second copy that could end twice. Its record
// stays in the set of the node that had it (an adopter's, or the dead node's until one adopts
// it), so that its probes and session refreshes go on.
#include <utility>

#include "b2bua/b2bua.h"

namespace sb::signaling::b2bua {
namespace {

// §17.1.1.2: a retransmitted 2xx to our INVITE comes within 64*T1 of the first.
constexpr std::chrono::seconds kForgetPutBackDialogsAfter{32};

}  // namespace

Result<B2bua::Call*> B2bua::Revive(const StoredCall& record) {
  if (Call* live = Find(record.call_id)) {
    if (live->phase != Phase::kConnected) {
      return Status::FailedPrecondition("call " + record.call_id + " is not answered yet");
    }
    return live;
  }
  if (StoredRinging(record)) {
    return Status::FailedPrecondition("call " + record.call_id + " is still ringing");
  }
  if (record.caller_party.domain.empty()) {
    return Status::FailedPrecondition("the record of call " + record.call_id +
                                      " does not say who its parties are (an older replica's)");
  }
  if (record.media_node_id.empty() || record.media_legs.empty() ||
      record.callee.id.call_id.empty()) {
    return Status::FailedPrecondition("the record of call " + record.call_id +
                                      " has no media legs or no callee");
  }
  Call call;
  call.id = record.call_id;
  call.phase = Phase::kConnected;
  call.revived = true;
  call.home_node = record.node_id;
  call.caller = record.caller_party;
  call.caller.tenant = record.tenant;
  call.from_uri = record.from_uri;
  call.to_uri = record.to_uri;
  call.b_party_uri = record.b_party_uri;
  if (!record.callee_trunk_id.empty()) {
    call.trunk.emplace();
    call.trunk->trunk_id = record.callee_trunk_id;  // for Dialer: side b rang out already
  }
  call.media_node = record.media_node_id;
  call.answered_leg = record.answered_leg;
  call.started = record.start_time.value_or(endpoint_.clock().WallNow());
  call.answered_at = record.answer_time;
  call.one_legged = record.caller.id.call_id.empty() || record.media_legs.size() == 1;
  // The legs keep their names; a transfer's new leg is named after the one it replaces.
  call.b_leg_base = record.media_legs.back();
  if (!call.one_legged) call.a_leg_base = record.media_legs.front();
  call.late_offer = record.caller.we_offered && !record.caller.outbound;

  std::vector<sip::DialogId> restored;
  auto restore = [&](const StoredDialog& d, char side) -> Status {
    Status held = endpoint_.RestoreDialog({.id = d.id,
                                           .uac = d.outbound,
                                           .local_uri = d.local_uri,
                                           .remote_uri = d.remote_uri,
                                           .local_target = endpoint_.ContactUri(d.peer.transport),
                                           .remote_target = d.remote_target,
                                           .route_set = d.route_set,
                                           .next_local_cseq = StoredCSeq(record, d),
                                           .peer_allows_update = d.refresh_by_update},
                                          d.peer, d.entry);
    // Still held from a transfer put back moments ago: it knows more than the record.
    if (!held.ok() && held.code() != StatusCode::kAlreadyExists) return held;
    restored.push_back(d.id);
    LegSession& session = Session(call, side);
    session.peer_sdp = d.peer_sdp;
    (side == 'a' ? call.a_sdp : call.b_offer) = d.local_sdp;
    return Status::Ok();
  };
  Status status = restore(record.callee, 'b');
  if (status.ok() && !call.one_legged) status = restore(record.caller, 'a');
  if (!status.ok()) {
    for (const auto& id : restored) endpoint_.ForgetDialog(id);
    return status;
  }
  call.b_dialog = record.callee.id;
  if (!call.one_legged) call.a_dialog = record.caller.id;
  const std::string id = call.id;
  Call& live = calls_.emplace(id, std::move(call)).first->second;
  for (const auto& dialog : restored) by_dialog_[dialog] = id;
  // The sessions this node refreshes go on from here, as the record's probes would have.
  if (record.callee.refresh_interval != 0) {
    StartSession(live, 'b', sip::SessionTerms{record.callee.refresh_interval, true});
  }
  if (!live.one_legged && record.caller.refresh_interval != 0) {
    StartSession(live, 'a', sip::SessionTerms{record.caller.refresh_interval, true});
  }
  return &live;
}

void B2bua::PutBackIfIdle(const std::string& id, bool saved) {
  Call* call = Find(id);
  if (call == nullptr || !call->revived || call->transfer || call->moving) return;
  if (!saved) SaveStored(Stored(*call));
  StopSessions(*call);
  std::vector<sip::DialogId> dialogs;
  if (!call->one_legged) dialogs.push_back(call->a_dialog);
  if (call->b_dialog) dialogs.push_back(*call->b_dialog);
  for (const auto& dialog : dialogs) {
    by_dialog_.erase(dialog);
    endpoint_.StartTimer(kForgetPutBackDialogsAfter, [this, dialog] {
      // Taken up again meanwhile: the live call needs it.
      if (by_dialog_.count(dialog) == 0) endpoint_.ForgetDialog(dialog);
    });
  }
  calls_.erase(id);
}

void B2bua::ReferStored(const IncomingRequest& request, const StoredCall& record,
                        bool from_caller) {
  auto call = Revive(record);
  if (!call.ok()) {
    // What the record cannot carry fails this request alone, not the call (RFC 5057 §5.1).
    (void)endpoint_.Respond(request.key, 503, "Not Available After Failover");
    return;
  }
  const std::string id = (*call)->id;
  IncomingRequest refer = request;
  refer.dialog = from_caller ? (*call)->a_dialog : *(*call)->b_dialog;
  OnInDialog(refer, **call, from_caller);
  // Refused before it started (no Refer-To, a target outside the tenant ...).
  PutBackIfIdle(id);
}

void B2bua::WithAnswered(const TenantId& tenant, std::string_view call_id,
                         std::function<void(Result<Call*>)> then) {
  const std::string id(call_id);
  if (Find(id) != nullptr) {
    then(FindAnswered(tenant, id));
    return;
  }
  FindStoredAnswered(tenant, id, [this, then](Result<StoredCall> stored) {
    then(stored.ok() ? Revive(*stored) : Result<Call*>(stored.status()));
  });
}

}  // namespace sb::signaling::b2bua
