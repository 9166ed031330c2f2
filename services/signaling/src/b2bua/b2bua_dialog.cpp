// Requests inside an answered call: BYE from either side, re-INVITE / UPDATE (hold, unhold)
// re-anchored on the media node and passed on, INFO / OPTIONS relayed; and calls this node only
// knows from the store (another replica set them up and died): a BYE ends them, an OPTIONS or a
// session refresh (re-INVITE or UPDATE) is answered, a session change re-anchored and passed on.
#include <algorithm>
#include <chrono>
#include <utility>

#include "b2bua/b2bua.h"
#include "b2bua/sdp_direction.h"
#include "switchboard/sip/builder.h"

namespace sb::signaling::b2bua {
namespace {

bool HasBody(const sip::Message& m) { return !m.body().empty(); }

// Hands the final answer to a request passed on to the other party back to the transaction
// `key` it came in (408 when none came).
ResponseCallback AnswerBackTo(std::string key) {
  return [key = std::move(key)](const ClientResponse& r, SipEndpoint& ep) {
    if (r.timed_out) {
      (void)ep.Respond(key, 408);
    } else if (r.response->status_code() >= 200) {
      std::string type;
      if (auto t = r.response->Header(sip::HeaderId::kContentType)) type = std::string(*t);
      (void)ep.Respond(key, r.response->status_code(), r.response->reason_phrase(), {},
                       r.response->body(), type);
    }
  };
}

// Calls `on_final` once, with the first final answer to a request sent in a dialog only the
// store knows. A retransmitted 2xx to a re-INVITE calls back again (the endpoint ACKs it again,
// from a dialog it made of the 2xx, which is forgotten: this node carries none).
ResponseCallback OnceFinal(std::function<void(const ClientResponse&, SipEndpoint&)> on_final) {
  auto done = std::make_shared<bool>(false);
  return [on_final = std::move(on_final), done](const ClientResponse& r, SipEndpoint& ep) {
    if (r.response != nullptr && r.response->status_code() < 200) return;
    if (r.dialog) ep.ForgetDialog(*r.dialog);
    if (*done) return;
    *done = true;
    on_final(r, ep);
  };
}

// Whether the adopter's probe of `d` is a session refresh (B2bua::ProbeDialog): this node is the
// refresher, by UPDATE or by a re-INVITE repeating our description (which an older record lacks).
bool ProbeRefreshes(const StoredDialog& d) {
  return d.refresh_interval != 0 && (d.refresh_by_update || !d.local_sdp.empty());
}

// Half the shortest session interval the probes of `call` refresh (RFC 4028 §10: the refresher
// refreshes at half of it); zero when they refresh none.
std::chrono::milliseconds AgainWithin(const StoredCall& call) {
  std::chrono::milliseconds within{0};
  for (const auto* d : {&call.caller, &call.callee}) {
    if (d->id.call_id.empty() || !ProbeRefreshes(*d)) continue;
    const std::chrono::milliseconds half = std::chrono::seconds(d->refresh_interval) / 2;
    within = within == within.zero() ? half : std::min(within, half);
  }
  return within;
}

}  // namespace

void B2bua::OnDialogRequest(const IncomingRequest& request, SipEndpoint& endpoint) {
  const sip::Message& message = *request.message;
  const bool is_ack = message.method() == sip::Method::kAck;
  auto found = request.dialog ? by_dialog_.find(*request.dialog) : by_dialog_.end();
  if (found == by_dialog_.end()) {
    if (is_ack) {
      // One with an answer completes a re-INVITE answered from the store (our 200 made the
      // offer); one without is for a call already gone.
      if (HasBody(message)) AckAnswerFromStore(request);
      return;
    }
    switch (message.method()) {
      case sip::Method::kBye:
        EndFromStore(request);
        return;
      default:
        AnswerFromStore(request);
        return;
    }
  }
  Call* call = Find(found->second);
  if (call == nullptr) {
    if (!is_ack) (void)endpoint.Respond(request.key, 481);
    return;
  }
  const bool from_caller = *request.dialog == call->a_dialog;
  if (is_ack) {
    // The caller's dialog: side a, or side b once the answer command made it the one party.
    if ((from_caller || call->one_legged) && std::exchange(call->awaiting_caller_answer, false)) {
      CallerAnswered(*call, message);
      return;
    }
    // The endpoint stopped its 2xx retransmissions; an answer to the offer our 2xx made to a
    // re-INVITE without one (RFC 3264 §8: a new address or port) goes to the node.
    LegSession& session = Session(*call, from_caller ? 'a' : 'b');
    if (std::exchange(session.answer_in_ack, false) && HasBody(message)) {
      AckAnswered(*call, from_caller, std::string(message.body()));
    }
    return;
  }
  OnInDialog(request, *call, from_caller);
}

namespace {

sdp::Direction DirectionOf(std::string_view sdp) {
  return OfferedDirection(sdp).value_or(sdp::Direction::kSendRecv);
}

}  // namespace

void B2bua::AckAnswered(Call& call, bool from_caller, std::string answer) {
  const char side = from_caller ? 'a' : 'b';
  const sdp::Direction before = DirectionOf(Session(call, side).peer_sdp);
  const sdp::Direction wanted = DirectionOf(answer);
  PeerAnswered(call, side, std::move(answer));
  if (wanted == before || call.one_legged || !call.b_dialog) return;
  (void)OfferDirection(call, from_caller, wanted, "INVITE", nullptr);
}

void B2bua::CallerAnswered(Call& call, const sip::Message& ack) {
  const std::string id = call.id;
  if (!HasBody(ack)) {
    Finish(id, true, true, "media_failure");
    return;
  }
  std::string answer(ack.body());
  const char side = call.one_legged ? 'b' : 'a';
  Session(call, side).peer_sdp = answer;
  const std::string bridge_with = call.one_legged ? std::string() : MediaLeg(call, 'b');
  auto status = std::make_shared<Status>(Status::Internal("not run"));
  Status queued = offloader_.Run(
      [this, status, node = call.media_node, leg = MediaLeg(call, side), bridge_with, answer] {
        *status = ports_.media.AnswerLeg(node, leg, answer, bridge_with);
      },
      [this, id, status] {
        Call* call = Find(id);
        if (call == nullptr) return;
        if (!status->ok()) {
          Finish(id, true, true, "media_failure");
          return;
        }
        Save(*call);  // the caller's answer, which a refresh through another replica repeats
      });
  if (!queued.ok()) Finish(id, true, true, "network_failure");
}

Status B2bua::OfferDirection(Call& call, bool from_caller, sdp::Direction wanted,
                             const std::string& method,
                             std::function<void(const ClientResponse&, Call*)> then) {
  // Its node description as before, now with `wanted` (hold passes through), as a new version
  // of that description.
  std::string& other_sdp = from_caller ? call.b_offer : call.a_sdp;
  other_sdp = WithDirection(other_sdp, wanted, true);
  const char other = from_caller ? 'b' : 'a';
  return endpoint_
      .SendInDialog(
          from_caller ? *call.b_dialog : call.a_dialog, method,
          [this, id = call.id, other, then = std::move(then)](const ClientResponse& r,
                                                              SipEndpoint&) {
            if (r.response && r.response->status_code() < 200) return;
            Call* call = Find(id);
            if (then) then(r, call);
            if (call == nullptr) return;
            if (!r.timed_out && r.response->status_code() < 300) {
              if (!r.response->body().empty()) Session(*call, other).peer_sdp = r.response->body();
              SessionAnswered(*call, other, *r.response);
            }
            Save(*call);  // the other side's description and CSeq moved
          },
          other_sdp, "application/sdp", SessionHeaders(call, other))
      .status();
}

void B2bua::OnInDialog(const IncomingRequest& request, Call& call, bool from_caller) {
  const sip::Message& message = *request.message;
  switch (message.method()) {
    case sip::Method::kBye:
      if (call.transfer && call.transfer->replaced == (from_caller ? 'a' : 'b')) {
        TransferorLeft(request, call);
        return;
      }
      (void)endpoint_.Respond(request.key, 200);
      Finish(call.id, !from_caller, from_caller, "normal");
      return;
    case sip::Method::kInvite:
    case sip::Method::kUpdate: {
      // Every re-INVITE and UPDATE is a session refresh too (RFC 4028 §9).
      sip::UasTimerAnswer timer = sip::NegotiateAsUas(message, settings_.session_timer);
      if (timer.reject_code != 0) {
        (void)endpoint_.Respond(request.key, timer.reject_code, timer.reason, timer.headers);
        return;
      }
      const std::string& before = Session(call, from_caller ? 'a' : 'b').peer_sdp;
      if (HasBody(message) && !SameDescription(before, message.body())) {
        ReOffer(request, call, from_caller, std::move(timer));
      } else {
        // Nothing changed (a refresh): neither the node nor the other side hears of it.
        AnswerRefresh(request, call, from_caller, timer);
      }
      return;
    }
    case sip::Method::kRefer:
      if (call.one_legged) {
        (void)endpoint_.Respond(request.key, 403, "No Party To Transfer");
        return;
      }
      OnRefer(request, call, from_caller);
      return;
    default:
      if (call.one_legged) {
        // Nobody to relay it to (INFO, OPTIONS): this node is the other end.
        (void)endpoint_.Respond(request.key, 200);
        return;
      }
      RelayRequest(request, call, from_caller);
      return;
  }
}

void B2bua::RelayRequest(const IncomingRequest& request, Call& call, bool from_caller) {
  const sip::Message& message = *request.message;
  const sip::DialogId other = from_caller ? *call.b_dialog : call.a_dialog;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  if (auto type = message.Header(sip::HeaderId::kContentType)) content_type = std::string(*type);
  std::string key = request.key;
  auto sent = endpoint_.SendInDialog(other, message.method_text(), AnswerBackTo(key),
                                     message.body(), content_type, headers);
  if (!sent.ok()) (void)endpoint_.Respond(request.key, 500, "Other Leg Gone");
}

void B2bua::ReOffer(const IncomingRequest& request, Call& call, bool from_caller,
                    sip::UasTimerAnswer timer) {
  const sip::Message& message = *request.message;
  const std::string id = call.id;
  const std::string key = request.key;
  const std::string method(message.method_text());
  const std::string offer(message.body());
  const char side = from_caller ? 'a' : 'b';
  const std::string node = call.media_node, leg = MediaLeg(call, side);
  auto answer = std::make_shared<Result<MediaAnchor::Leg>>(Status::Internal("not run"));
  Status queued = offloader_.Run(
      [this, answer, node, leg, offer] {
        *answer = ports_.media.UpdateLeg(node, leg, true, offer);
      },
      [this, id, key, method, offer, answer, from_caller, timer] {
        Call* call = Find(id);
        if (call == nullptr) {
          (void)endpoint_.Respond(key, 481);
          return;
        }
        if (!answer->ok()) {
          (void)endpoint_.Respond(key, 488);
          return;
        }
        const sdp::Direction wanted = OfferedDirection(offer).value_or(sdp::Direction::kSendRecv);
        // The offerer's side: the node's answer, facing the direction it asked for.
        std::string reply = WithDirection((*answer)->sdp, sdp::Reverse(wanted), false);
        if (call->one_legged) {
          if (!endpoint_.Respond(key, 200, {}, {}, reply, "application/sdp").ok()) return;
          Session(*call, from_caller ? 'a' : 'b').peer_sdp = offer;
          (from_caller ? call->a_sdp : call->b_offer) = std::move(reply);
          Save(*call);
          return;
        }
        Status sent = OfferDirection(
            *call, from_caller, wanted, method,
            [this, key, reply, offer, from_caller, timer](const ClientResponse& r, Call* call) {
              if (r.timed_out) {
                (void)endpoint_.Respond(key, 408);
              } else if (r.response->status_code() >= 300) {
                (void)endpoint_.Respond(key, r.response->status_code(),
                                        r.response->reason_phrase());
              } else if (endpoint_.Respond(key, 200, {}, timer.headers, reply, "application/sdp")
                             .ok() &&
                         call != nullptr) {
                // These descriptions are the ones a later refresh repeats, and the ones this
                // node (or a replica after it) answers that refresh with.
                Session(*call, from_caller ? 'a' : 'b').peer_sdp = offer;
                (from_caller ? call->a_sdp : call->b_offer) = reply;
                SessionRefreshed(*call, from_caller ? 'a' : 'b', timer.terms);
              }
            });
        if (!sent.ok()) (void)endpoint_.Respond(key, 500, "Other Leg Gone");
      });
  if (!queued.ok()) (void)endpoint_.Respond(request.key, 503);
}

void B2bua::OnAckTimeout(const sip::DialogId& dialog, SipEndpoint&) {
  auto found = by_dialog_.find(dialog);
  if (found == by_dialog_.end()) return;
  // §13.3.1.4: a 2xx never ACKed; the session is ended with a BYE on both sides.
  Finish(found->second, true, true, "network_failure");
}

void B2bua::Hangup(const TenantId& tenant, std::string_view call_id,
                   std::function<void(Status)> done) {
  std::string id(call_id);
  if (Call* call = Find(id)) {
    if (call->caller.tenant != tenant || call->phase == Phase::kAuthorizing) {
      done(Status::NotFound("no call " + id));
      return;
    }
    if (call->phase == Phase::kConnected) {
      Finish(id, true, true, "hangup_command");
    } else {
      Fail(id, 480, "Hung Up", "hangup_command");
    }
    done(Status::Ok());
    return;
  }
  FindStoredAnswered(tenant, id, [this, done](Result<StoredCall> stored) {
    if (!stored.ok()) {
      done(stored.status());
      return;
    }
    ByeStored(*stored, stored->caller);
    ByeStored(*stored, stored->callee);
    ReleaseStored(std::move(*stored), "hangup_command");
    done(Status::Ok());
  });
}

void B2bua::FindStoredAnswered(const TenantId& tenant, const std::string& id,
                               std::function<void(Result<StoredCall>)> then) {
  auto stored = std::make_shared<Result<StoredCall>>(Status::Internal("not run"));
  Status queued = offloader_.Run(
      [this, stored, id] { *stored = ports_.store.Find(id); },
      [stored, tenant, id, then] {
        // A ringing record is another replica's call: alive there, or adopted once its node is
        // found dead.
        if (!stored->ok() || (*stored)->tenant != tenant || StoredRinging(**stored)) {
          then(Status::NotFound("no call " + id));
          return;
        }
        then(std::move(*stored));
      });
  if (!queued.ok()) then(queued);
}

void B2bua::WithStoredDialog(const IncomingRequest& request,
                             std::function<void(const StoredCall&, bool from_caller)> then) {
  const sip::Message& message = *request.message;
  auto to = message.To();
  auto call_id = message.CallId();
  if (!to.ok() || !call_id.ok()) {
    (void)endpoint_.Respond(request.key, 481);
    return;
  }
  std::string sip_call_id(*call_id), local_tag((*to)->tag()), key = request.key;
  auto stored = std::make_shared<Result<StoredCall>>(Status::Internal("not run"));
  Status queued =
      offloader_.Run([this, stored, sip_call_id,
                      local_tag] { *stored = ports_.store.FindByDialog(sip_call_id, local_tag); },
                     [this, stored, key, sip_call_id, local_tag, then = std::move(then)] {
                       if (!stored->ok()) {
                         (void)endpoint_.Respond(key, 481);
                         return;
                       }
                       const StoredCall& call = **stored;
                       const bool from_caller = call.caller.id.call_id == sip_call_id &&
                                                call.caller.id.local_tag == local_tag;
                       const bool from_callee = call.callee.id.call_id == sip_call_id &&
                                                call.callee.id.local_tag == local_tag;
                       if (!from_caller && !from_callee) {
                         // A dialog the call left (a transferor's, whose BYE crossed ours): its key
                         // still names the call, which goes on without it.
                         (void)endpoint_.Respond(key, 481);
                         return;
                       }
                       then(call, from_caller);
                     });
  if (!queued.ok()) (void)endpoint_.Respond(request.key, 503);
}

void B2bua::EndFromStore(const IncomingRequest& request) {
  const std::string key = request.key;
  WithStoredDialog(request, [this, key](const StoredCall& call, bool from_caller) {
    (void)endpoint_.Respond(key, 200);
    ByeStored(call, from_caller ? call.callee : call.caller);
    ReleaseStored(call, "node_failure");
  });
}

void B2bua::AnswerFromStore(const IncomingRequest& request) {
  const std::string key = request.key;
  const sip::Message& message = *request.message;
  // What this node can do for a call it does not carry: say that the call is there (OPTIONS),
  // and keep its session going. A re-INVITE or UPDATE refreshing the session (RFC 4028 §9) gets
  // the description the dead node last gave that side, when it repeats its own last one or
  // offers nothing; one that changes it (hold, unhold) is re-anchored on the node and passed on
  // (ReOfferStored). A record without descriptions (an older replica's) can do neither: 488, so
  // the session stays as it was, where a 481 would end it (RFC 4028 §10, RFC 5057). An INFO
  // (DTMF) or MESSAGE is passed to the other party, and its answer back, as the live node does.
  // A REFER takes the call up live here for its transfer (b2bua_revival.cpp). Anything else
  // would need the dead node's state: 503, which fails that request only (RFC 5057 §5.1), not
  // the call.
  const bool options = message.method() == sip::Method::kOptions;
  const bool refer = message.method() == sip::Method::kRefer;
  // Answered once the record is read: the message is kept by its shared copy.
  IncomingRequest held = request;
  held.message = request.shared.get();
  const bool relayed =
      message.method() == sip::Method::kInfo || message.method() == sip::Method::kMessage;
  std::string content_type;
  if (auto type = message.Header(sip::HeaderId::kContentType)) content_type = std::string(*type);
  const bool invite = message.method() == sip::Method::kInvite;
  const bool session = invite || message.method() == sip::Method::kUpdate;
  sip::UasTimerAnswer timer;
  if (session) {
    timer = sip::NegotiateAsUas(message, settings_.session_timer);
    if (timer.reject_code != 0) {
      (void)endpoint_.Respond(key, timer.reject_code, timer.reason, timer.headers);
      return;
    }
  }
  WithStoredDialog(request, [this, key, options, refer, held, relayed, session, invite,
                             method = std::string(message.method_text()),
                             body = std::string(message.body()), content_type,
                             timer](const StoredCall& call, bool from_caller) {
    const StoredDialog& dialog = from_caller ? call.caller : call.callee;
    const std::string& offer = body;
    if (options) {
      (void)endpoint_.Respond(key, 200);
    } else if (refer) {
      ReferStored(held, call, from_caller);
    } else if (relayed) {
      RelayStored(key, call, from_caller ? call.callee : call.caller, method, body, content_type);
    } else if (!session) {
      (void)endpoint_.Respond(key, 503, "Not Available After Failover");
    } else if (!invite && offer.empty()) {
      // An UPDATE without an offer gets no body (RFC 3311 §5.2).
      (void)endpoint_.Respond(key, 200, {}, timer.headers);
    } else if (dialog.local_sdp.empty()) {
      (void)endpoint_.Respond(key, 488, "Session Cannot Change Here");
    } else if (!offer.empty() && !SameDescription(dialog.peer_sdp, offer)) {
      ReOfferStored(key, call, from_caller, method, offer, timer);
    } else {
      // A re-INVITE without an offer gets ours (§14.2); its ACK's answer, AckAnswerFromStore.
      (void)endpoint_.Respond(key, 200, {}, timer.headers, dialog.local_sdp, "application/sdp");
    }
  });
}

void B2bua::AckAnswerFromStore(const IncomingRequest& request) {
  WithStoredDialog(request, [this, answer = std::string(request.message->body())](
                                const StoredCall& call, bool from_caller) {
    const StoredDialog& dialog = from_caller ? call.caller : call.callee;
    if (SameDescription(dialog.peer_sdp, answer) || call.media_legs.empty()) return;
    // Leg a then b (a one-party call has b alone, and no caller dialog).
    const std::string leg = from_caller ? call.media_legs.front() : call.media_legs.back();
    // A late-offer caller's first answer, its node dead before the ACK: leg a was never bridged.
    const bool first_answer = from_caller && dialog.peer_sdp.empty() && call.media_legs.size() == 2;
    const std::string bridge_with = first_answer ? call.media_legs.back() : std::string();
    (void)offloader_.Run(
        [this, node = call.media_node_id, leg, answer, bridge_with] {
          (void)ports_.media.AnswerLeg(node, leg, answer, bridge_with);
        },
        nullptr);
    const sdp::Direction wanted = DirectionOf(answer);
    const bool passes = wanted != DirectionOf(dialog.peer_sdp);
    auto record = std::make_shared<StoredCall>(call);
    (from_caller ? record->caller : record->callee).peer_sdp = answer;
    const StoredDialog& other = from_caller ? record->callee : record->caller;
    // A hold given in the answer passes to the other party, as ReOfferStored passes an offer's.
    if (!passes || other.id.call_id.empty() || other.local_sdp.empty() ||
        !OfferDirectionStored(record, from_caller, wanted, "INVITE", nullptr).ok()) {
      SaveStored(*record);
    }
  });
}

void B2bua::ReOfferStored(const std::string& key, StoredCall call, bool from_caller,
                          const std::string& method, const std::string& offer,
                          const sip::UasTimerAnswer& timer) {
  if (call.media_node_id.empty() || call.media_legs.empty()) {
    (void)endpoint_.Respond(key, 488, "Session Cannot Change Here");
    return;
  }
  // Leg a then b (a one-party call has b alone, and no caller dialog).
  const std::string node = call.media_node_id;
  const std::string leg = from_caller ? call.media_legs.front() : call.media_legs.back();
  auto answer = std::make_shared<Result<MediaAnchor::Leg>>(Status::Internal("not run"));
  auto record = std::make_shared<StoredCall>(std::move(call));
  Status queued = offloader_.Run(
      [this, answer, node, leg, offer] {
        *answer = ports_.media.UpdateLeg(node, leg, true, offer);
      },
      [this, key, method, offer, answer, from_caller, timer, record] {
        if (!answer->ok()) {
          (void)endpoint_.Respond(key, 488);
          return;
        }
        const sdp::Direction wanted = OfferedDirection(offer).value_or(sdp::Direction::kSendRecv);
        // The offerer's side: the node's answer, facing the direction it asked for.
        const std::string reply = WithDirection((*answer)->sdp, sdp::Reverse(wanted), false);
        auto answered = [this, key, timer, reply, offer, record, from_caller] {
          if (!endpoint_.Respond(key, 200, {}, timer.headers, reply, "application/sdp").ok()) {
            return;
          }
          StoredDialog& own = from_caller ? record->caller : record->callee;
          own.peer_sdp = offer;
          own.local_sdp = reply;
        };
        if ((from_caller ? record->callee : record->caller).id.call_id.empty()) {
          answered();
          SaveStored(*record);
          return;
        }
        Status sent = OfferDirectionStored(
            record, from_caller, wanted, method, [this, key, answered](const ClientResponse& r) {
              if (r.timed_out) {
                (void)endpoint_.Respond(key, 408);
              } else if (r.response->status_code() >= 300) {
                (void)endpoint_.Respond(key, r.response->status_code(),
                                        r.response->reason_phrase());
              } else {
                answered();
              }
            });
        if (!sent.ok()) (void)endpoint_.Respond(key, 500, "Other Leg Gone");
      });
  if (!queued.ok()) (void)endpoint_.Respond(key, 503);
}

Status B2bua::OfferDirectionStored(std::shared_ptr<StoredCall> record, bool from_caller,
                                   sdp::Direction wanted, const std::string& method,
                                   std::function<void(const ClientResponse&)> then) {
  StoredDialog& other = from_caller ? record->callee : record->caller;
  const std::string offered = WithDirection(other.local_sdp, wanted, true);
  const uint32_t cseq = StoredCSeq(*record, other);
  auto on_answer = [this, record, from_caller, offered, cseq, then = std::move(then)](
                       const ClientResponse& r, SipEndpoint&) {
    if (then) then(r);
    StoredDialog& other = from_caller ? record->callee : record->caller;
    if (!r.timed_out && r.response->status_code() < 300) {
      other.local_sdp = offered;
      if (!r.response->body().empty()) other.peer_sdp = r.response->body();
    }
    // The other side's CSeq moved, whatever it answered.
    other.next_local_cseq = std::max(other.next_local_cseq, cseq + 1);
    SaveStored(*record);
  };
  return SendStored(method, other, cseq, OnceFinal(on_answer), offered, "application/sdp",
                    StoredSessionHeaders(other))
      .status();
}

void B2bua::ReleaseStored(StoredCall call, std::string cause, int sip_code) {
  for (const auto* d : {&call.caller, &call.callee}) stored_cseqs_.erase(StoredDialogKey(*d));
  CallSummary ended;
  ended.call_id = call.call_id;
  ended.tenant = call.tenant;
  ended.from_uri = call.from_uri;
  ended.to_uri = call.to_uri;
  ended.answered_leg = call.answered_leg;
  ended.start_time = call.start_time;
  ended.answer_time = call.answer_time;
  ended.legs = StoredLegs(call);
  ended.sip_code = sip_code;
  ended.cause = std::move(cause);
  const std::string node = call.media_node_id;
  std::vector<std::string> legs = call.media_legs;
  ReleaseThenEnd(node, std::move(legs), std::move(ended),
                 [this, call = std::move(call)](CallSummary ended) {
                   (void)offloader_.Run([this, call, ended] { EndStored(call, ended); }, nullptr);
                 });
}

sip::HeaderLines B2bua::StoredSessionHeaders(const StoredDialog& dialog) const {
  // The record keeps the terms of the sessions this node refreshes only (SessionHeaders).
  if (dialog.refresh_interval == 0) return {};
  return sip::SessionRefreshHeaders({.interval = dialog.refresh_interval, .we_refresh = true},
                                    settings_.session_timer.min_se);
}

bool StoredRinging(const StoredCall& call) {
  return !call.ringing_invite.empty() || !call.ringing_forks.empty();
}

void B2bua::EndRingingStored(StoredCall call) {
  // A contact that answered meanwhile (its 2xx went to the dead node) takes the CANCEL as too
  // late, and hangs up itself when no ACK comes.
  for (const auto& fork : call.ringing_forks) (void)endpoint_.CancelSent(fork.invite, fork.peer);
  int code = 487;  // an originated call has no caller to tell
  if (!call.ringing_invite.empty()) {
    code = 500;
    (void)endpoint_.AnswerReceived(call.ringing_invite, call.ringing_source, code);
  }
  ReleaseStored(std::move(call), "node_failure", code);
}

void B2bua::RelayStored(const std::string& key, const StoredCall& call, const StoredDialog& other,
                        std::string_view method, std::string_view body,
                        std::string_view content_type) {
  if (other.id.call_id.empty()) {
    (void)endpoint_.Respond(key, 200);  // an originated call's one party: nobody to tell
    return;
  }
  auto sent =
      SendStored(method, other, StoredCSeq(call, other), AnswerBackTo(key), body, content_type);
  if (!sent.ok()) (void)endpoint_.Respond(key, 500, "Other Leg Gone");
}

Result<std::string> B2bua::SendStored(std::string_view method, const StoredDialog& dialog,
                                      uint32_t cseq, ResponseCallback on_response,
                                      std::string_view body, std::string_view content_type,
                                      const sip::HeaderLines& headers) {
  // Built by hand (§12.2.1.1, loose routing): this endpoint holds no Dialog for it.
  auto request = sip::MessageBuilder::Request(std::string(method), dialog.remote_target);
  for (const auto& route : dialog.route_set) request.AddHeader("Route", route);
  request.AddHeader("From", dialog.local_uri + ";tag=" + dialog.id.local_tag)
      .AddHeader("To", dialog.id.remote_tag.empty()
                           ? dialog.remote_uri
                           : dialog.remote_uri + ";tag=" + dialog.id.remote_tag)
      .AddHeader("Call-ID", dialog.id.call_id)
      .AddHeader("CSeq", std::to_string(cseq) + " " + std::string(method));
  for (const auto& [name, value] : headers) request.AddHeader(name, value);
  if (!body.empty()) request.SetBody(body, content_type);
  return endpoint_.SendRequest(request, dialog.peer, std::move(on_response));
}

std::string B2bua::StoredDialogKey(const StoredDialog& dialog) {
  return dialog.id.call_id + ":" + dialog.id.local_tag;
}

uint32_t B2bua::StoredCSeq(const StoredCall& call, const StoredDialog& dialog) {
  const auto since = call.answer_time ? call.answer_time : call.start_time;
  int64_t elapsed_ms = 0;
  if (since) {
    elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(endpoint_.clock().WallNow() - *since)
            .count();
  }
  // No wrap in 32 bits (a call of 24 days, at worst, stops growing).
  const int64_t room = UINT32_MAX - dialog.next_local_cseq - 1;
  uint32_t cseq =
      dialog.next_local_cseq + static_cast<uint32_t>(std::clamp<int64_t>(elapsed_ms, 0, room));
  if (stored_cseqs_.size() >= kMaxStoredCSeqs) stored_cseqs_.clear();
  auto [it, fresh] = stored_cseqs_.try_emplace(StoredDialogKey(dialog), cseq);
  if (!fresh) it->second = cseq = std::max(cseq, it->second + 1);
  return cseq;
}

Result<std::string> B2bua::ProbeDialog(const StoredCall& call, const StoredDialog& dialog,
                                       std::function<void(int code)> answered) {
  ResponseCallback on_response =
      OnceFinal([answered = std::move(answered)](const ClientResponse& r, SipEndpoint&) {
        answered(r.response != nullptr ? r.response->status_code() : 0);
      });
  const uint32_t cseq = StoredCSeq(call, dialog);
  if (!ProbeRefreshes(dialog)) return SendStored("OPTIONS", dialog, cseq, std::move(on_response));
  // RFC 4028 §7.4, as SendRefresh: an UPDATE without an offer, or the peer's description again.
  const sip::HeaderLines headers = StoredSessionHeaders(dialog);
  if (dialog.refresh_by_update) {
    return SendStored("UPDATE", dialog, cseq, std::move(on_response), {}, {}, headers);
  }
  return SendStored("INVITE", dialog, cseq, std::move(on_response), dialog.local_sdp,
                    "application/sdp", headers);
}

void B2bua::ByeStored(const StoredCall& call, const StoredDialog& dialog) {
  if (dialog.id.call_id.empty()) return;
  (void)SendStored("BYE", dialog, StoredCSeq(call, dialog), nullptr);
}

bool StoredPartyGone(int code) { return code == 0 || code == 408 || code == 481; }

void B2bua::ProbeStored(std::string call_id, ProbeDone done) {
  auto stored = std::make_shared<Result<StoredCall>>(Status::Internal("not run"));
  Status queued = offloader_.Run(
      [this, stored, call_id] { *stored = ports_.store.Find(call_id); },
      [this, stored, done] {
        if (!stored->ok()) {
          // Ended by another replica (a BYE it took from the store), or Redis is away: then
          // the next probe asks again.
          done(stored->status().code() != StatusCode::kNotFound, {});
          return;
        }
        if (StoredRinging(**stored)) {
          EndRingingStored(std::move(**stored));
          return done(false, {});
        }
        // Taken up here for a transfer (b2bua_revival.cpp): its live dialogs number their own
        // requests, and its sessions are refreshed live; probed again once it is put back.
        if (Find((*stored)->call_id) != nullptr) return done(true, {});
        struct Probe {
          StoredCall call;
          int waiting = 0;
          int caller_code = 0, callee_code = 0;  // final answers to the OPTIONS, 0: none
        };
        auto state = std::make_shared<Probe>(Probe{std::move(**stored)});
        auto answered = [this, state, done](bool caller, int code) {
          (caller ? state->caller_code : state->callee_code) = code;
          if (--state->waiting > 0) return;
          const StoredCall& call = state->call;
          const bool caller_gone =
              !call.caller.id.call_id.empty() && StoredPartyGone(state->caller_code);
          const bool callee_gone =
              !call.callee.id.call_id.empty() && StoredPartyGone(state->callee_code);
          if (!caller_gone && !callee_gone) return done(true, AgainWithin(call));
          // A party that said 481 has no dialog left to BYE; one that said nothing may only be
          // out of reach, and gets one all the same.
          if (state->caller_code != 481) ByeStored(call, call.caller);
          if (state->callee_code != 481) ByeStored(call, call.callee);
          ReleaseStored(std::move(state->call), "node_failure");
          done(false, {});
        };
        auto has_dialog = [](const StoredDialog& d) { return !d.id.call_id.empty(); };
        state->waiting = has_dialog(state->call.caller) + has_dialog(state->call.callee);
        if (state->waiting == 0) {
          ReleaseStored(std::move(state->call), "node_failure");
          return done(false, {});
        }
        for (bool caller : {true, false}) {
          const StoredDialog& dialog = caller ? state->call.caller : state->call.callee;
          if (!has_dialog(dialog)) continue;
          auto sent = ProbeDialog(state->call, dialog,
                                  [answered, caller](int code) { answered(caller, code); });
          if (!sent.ok()) answered(caller, 0);
        }
      });
  if (!queued.ok()) done(true, {});
}

}  // namespace sb::signaling::b2bua
