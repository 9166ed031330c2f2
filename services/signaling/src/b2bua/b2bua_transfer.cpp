// Blind transfer (RFC 3515 REFER, RFC 5589 §6 "basic transfer"), started by a REFER from either
// side of an answered call or by a transfer command:
//
//   transferor --REFER (Refer-To: <sip:1003@domain>)-->  B2BUA
//              <--202--  <--NOTIFY "SIP/2.0 100 Trying"--
//                        [route 1003 as the party that stays dialled it: CallRouter]
//                        [locate 1003] [new media leg on the call's node, offering]
//                        --INVITE (node's offer, Referred-By)--> every contact of 1003
//                          (or the carrier gateway of a trunk, with its caller id policy and
//                          one answer to its challenge)
//              <--NOTIFY "SIP/2.0 180 Ringing"--  (once)
//                        <--200--  first answer wins: its SDP completes the new leg, the
//                        transferor's leg is destroyed and the new one bridged to the party that
//                        stays
//              <--NOTIFY "SIP/2.0 200 OK" (terminated)--  <--BYE--
//
// A failure (a refused route, unknown extension, busy, no answer, media) leaves the call as it was
// and the final NOTIFY carries it. The transferor may hang up once it has the 202: the transfer
// goes on and, if it fails, the party that stays is hung up. A command has no subscription: it
// hears whether the target is being rung, the rest shows in the call events. A command on a
// one-legged (originated) call rings the target for its party, which stays: the answered target
// becomes the call's side a (no BYE to anyone), as if it had called the party.
#include <cctype>
#include <utility>

#include "b2bua/b2bua.h"
#include "b2bua/dialed_uri.h"
#include "switchboard/sip/builder.h"

namespace sb::signaling::b2bua {
namespace {

std::string StatusLine(int code, std::string_view reason) {
  return "SIP/2.0 " + std::to_string(code) + " " +
         std::string(reason.empty() ? sip::DefaultReasonPhrase(code) : reason);
}

// What the party that stays dials for `target_uri`: the user of a SIP URI in the tenant's
// domain, or a tel: number, global or local to that domain (b2bua/dialed_uri.h).
// INVALID_ARGUMENT for anything else, PERMISSION_DENIED for another domain: a transfer leaves the
// tenant only through its own trunks.
Result<std::string> TargetUser(std::string_view target_uri, std::string_view domain) {
  auto uri = sip::ParseUri(target_uri);
  if (uri.ok() && uri->scheme == sip::UriScheme::kTel) return TelDialed(*uri, "target_uri", domain);
  if (!uri.ok() || !uri->is_sip() || !uri->has_user || uri->user.empty()) {
    return Status::InvalidArgument(
        "the transfer target must be a sip: URI with a user part or a global tel: number",
        "target_uri");
  }
  if (!SameDomain(uri->host, domain)) {
    return Status::PermissionDenied("the transfer target is outside the tenant's domain");
  }
  return uri->UserUnescaped();
}

}  // namespace

void B2bua::OnRefer(const IncomingRequest& request, Call& call, bool from_caller) {
  const sip::Message& refer = *request.message;
  auto refer_to = refer.ReferTo();
  if (!refer_to.ok() || !refer_to->has_value()) {
    (void)endpoint_.Respond(request.key, 400, "Missing or Malformed Refer-To");
    return;
  }
  if (call.transfer) {
    (void)endpoint_.Respond(request.key, 491, "Transfer Already In Progress");
    return;
  }
  auto number = TargetUser((*refer_to)->uri.text, call.caller.domain);
  if (!number.ok()) {
    (void)endpoint_.Respond(request.key,
                            number.status().code() == StatusCode::kPermissionDenied ? 403 : 416);
    return;
  }
  const char replaced = from_caller ? 'a' : 'b';
  // The target learns who asked for the call (RFC 3892); a REFER without it names its sender.
  std::string referred_by(refer.Header(sip::HeaderId::kReferredBy).value_or(""));
  if (referred_by.empty()) {
    referred_by = "<" + SideUri(call, replaced) + ">";
  }
  // The subscription exists once the REFER is accepted (RFC 3515 §2.4.4): its first NOTIFY
  // goes out before anything else of the transfer.
  (void)endpoint_.Respond(request.key, 202);
  NotifyTransferor(*request.dialog, StatusLine(100, {}), false);
  StartTransfer(call, replaced, *number, true, std::move(referred_by), nullptr);
}

void B2bua::Transfer(const TenantId& tenant, std::string_view call_id, std::string_view target_uri,
                     std::function<void(Status)> done) {
  // A call whose node is gone is taken up here from its record (b2bua_revival.cpp).
  WithAnswered(
      tenant, call_id,
      [this, target = std::string(target_uri),
       done = std::move(done)](Result<Call*> found) mutable {
        if (!found.ok()) {
          done(found.status());
          return;
        }
        Call* call = *found;
        const std::string id = call->id;
        if (call->transfer) {
          done(Status::FailedPrecondition("call " + id + " is already being transferred"));
          return;
        }
        auto number = TargetUser(target, call->caller.domain);
        if (!number.ok()) {
          PutBackIfIdle(id);
          done(number.status().code() == StatusCode::kPermissionDenied
                   ? Status::InvalidArgument("the transfer target is outside the tenant's domain",
                                             "target_uri")
                   : number.status());
          return;
        }
        // A one-legged (originated) call's party stays and the target becomes its side a.
        StartTransfer(*call, call->one_legged ? 'a' : 'b', *number, false, {}, std::move(done));
      });
}

void B2bua::StartTransfer(Call& call, char replaced, std::string_view dialed, bool refer,
                          std::string referred_by, std::function<void(Status)> started) {
  PendingTransfer t;
  t.replaced = replaced;
  t.refer = refer;
  t.referred_by = std::move(referred_by);
  t.to_uri = "sip:" + std::string(dialed) + "@" + call.caller.domain;
  // The target sees the party that stays as the caller.
  t.from_uri = SideUri(call, replaced == 'a' ? 'b' : 'a');
  t.media_leg =
      MediaLeg(call, replaced, (replaced == 'a' ? call.a_generation : call.b_generation) + 1);
  t.started = std::move(started);
  call.transfer = std::move(t);
  const std::string id = call.id;
  // Routed and located by one worker, as a call the party that stays dialled.
  struct Routing {
    Route route;
    Result<std::vector<Target>> targets = Status::Internal("locate did not run");
  };
  auto routing = std::make_shared<Routing>();
  Caller dialer = Dialer(call, replaced == 'a' ? 'b' : 'a');
  std::string user(dialed);
  Status queued = offloader_.Run(
      [this, routing, dialer, user] {
        routing->route = ports_.router.Resolve(dialer, user);
        const Route& route = routing->route;
        if (route.code == 0 && !route.trunk) {
          routing->targets = ports_.locator.Locate(dialer.tenant, route.domain, route.extension);
        }
      },
      [this, id, routing] {
        TransferRouted(id, std::move(routing->route), std::move(routing->targets));
      });
  if (!queued.ok()) TransferFailed(id, 503, "Overloaded");
}

const std::string& B2bua::SideUri(const Call& call, char side) {
  if (side == 'a') return call.from_uri;
  return call.b_party_uri.empty() ? call.to_uri : call.b_party_uri;
}

Caller B2bua::Dialer(const Call& call, char stays) {
  auto side = [&call](char which) {
    if (which == 'a') return call.caller;
    // The callee: an extension (its number is the user of the call's To), or a carrier's number
    // when the call went out through a trunk.
    auto to = sip::ParseUri(call.to_uri);
    return Caller{.tenant = call.caller.tenant,
                  .domain = call.caller.domain,
                  .extension = to.ok() ? to->UserUnescaped() : std::string(),
                  .trunk_id = call.trunk ? call.trunk->trunk_id : std::string()};
  };
  Caller dialer = side(stays);
  // A carrier party would reach only the tenant's numbers (a trunk's rules): the extension on
  // the other side, which hands the call on, dials for it.
  if (!dialer.trunk_id.empty()) dialer = side(stays == 'a' ? 'b' : 'a');
  return dialer;
}

void B2bua::TransferRouted(const std::string& id, Route route,
                           Result<std::vector<Target>> targets) {
  Call* call = Find(id);
  if (call == nullptr || !call->transfer) return;
  if (route.code != 0) {
    TransferFailed(id, route.code, route.reason);
    return;
  }
  if (!route.to_uri.empty()) call->transfer->to_uri = std::move(route.to_uri);
  if (route.trunk) {
    targets = std::vector<Target>{GatewayTarget(*route.trunk)};
    call->transfer->trunk = std::move(route.trunk);
  }
  TransferLocated(id, std::move(targets));
}

void B2bua::TransferLocated(const std::string& id, Result<std::vector<Target>> targets) {
  Call* call = Find(id);
  if (call == nullptr || !call->transfer) return;
  if (!targets.ok()) {
    if (targets.status().code() == StatusCode::kNotFound) {
      TransferFailed(id, 404, {});
    } else {
      TransferFailed(id, 503, {});
    }
    return;
  }
  if (targets->empty()) {
    TransferFailed(id, 480, {});
    return;
  }
  for (auto& target : *targets) {
    CalleeLeg leg;
    leg.target = std::move(target);
    call->transfer->legs.push_back(std::move(leg));
  }
  auto leg = std::make_shared<Result<MediaAnchor::Leg>>(Status::Internal("not run"));
  TenantId tenant = call->caller.tenant;
  std::string node = call->media_node, leg_id = call->transfer->media_leg;
  Status queued =
      offloader_.Run([this, leg, tenant, id, node,
                      leg_id] { *leg = ports_.media.CreateLeg(tenant, id, leg_id, node, {}); },
                     [this, id, leg_id, leg] { TransferAnchored(id, leg_id, std::move(*leg)); });
  if (!queued.ok()) TransferFailed(id, 503, "Overloaded");
}

void B2bua::TransferAnchored(const std::string& id, const std::string& leg_id,
                             Result<MediaAnchor::Leg> leg) {
  Call* call = Find(id);
  if (call == nullptr || !call->transfer || call->transfer->media_leg != leg_id) {
    // The call ended (or the transfer failed) while the node worked: the new leg is an orphan.
    if (leg.ok()) DestroyMedia(leg->node_id, {leg_id});
    return;
  }
  PendingTransfer& t = *call->transfer;
  if (!leg.ok()) {
    TransferFailed(id, 503, "Media Unavailable");
    return;
  }
  t.offer = leg->sdp;
  size_t sent = 0;
  for (size_t i = 0; i < t.legs.size(); ++i) {
    auto send = [this, &id, i] { return SendTargetInvite(id, i, {}); };
    if (send() || NextDestination(t.legs[i], send)) ++sent;
  }
  if (sent == 0) {
    TransferFailed(id, 503, {});
    return;
  }
  t.no_answer_timer = endpoint_.StartTimer(settings_.no_answer_timeout, [this, id] {
    Call* call = Find(id);
    if (call == nullptr || !call->transfer || call->transfer->answered) return;
    call->transfer->no_answer_timer = 0;
    TransferFailed(id, 480, "No Answer");
  });
  if (t.started) {
    auto started = std::move(t.started);
    t.started = nullptr;
    started(Status::Ok());
  }
}

bool B2bua::SendTargetInvite(const std::string& id, size_t index,
                             std::vector<std::pair<std::string, std::string>> headers) {
  Call& call = *Find(id);
  PendingTransfer& t = *call.transfer;
  if (!t.referred_by.empty()) headers.emplace_back("Referred-By", t.referred_by);
  std::string from = PresentedFrom(t.trunk, t.from_uri, call.caller.domain, headers);
  const bool sent = SendInvite(
      t.legs[index], from, t.to_uri, t.offer, headers,
      [this, id, index, transfer_leg = t.media_leg](const ClientResponse& r, SipEndpoint&) {
        OnTargetResponse(id, transfer_leg, index, r);
      });
  if (sent) {
    WatchSilence(t.legs[index], [this, id, index, transfer_leg = t.media_leg] {
      OnSilentTarget(id, transfer_leg, index);
    });
  }
  return sent;
}

void B2bua::OnSilentTarget(const std::string& id, const std::string& transfer_leg, size_t index) {
  Call* call = Find(id);
  if (call == nullptr || !call->transfer || call->transfer->media_leg != transfer_leg ||
      index >= call->transfer->legs.size() || call->transfer->answered) {
    return;
  }
  CalleeLeg& leg = call->transfer->legs[index];
  if (!GiveUpSilent(leg)) return;
  if (NextDestination(leg, [&] { return SendTargetInvite(id, index, {}); })) return;
  FailTransferIfNoLegLeft(id);
}

void B2bua::FailTransferIfNoLegLeft(const std::string& id) {
  PendingTransfer& t = *Find(id)->transfer;
  if (t.answered) return;
  std::vector<int> codes;
  for (const auto& l : t.legs) {
    if (!l.done) return;
    codes.push_back(l.final_code);
  }
  TransferFailed(id, ChooseFailure(codes).first, {});
}

void B2bua::OnTargetResponse(const std::string& id, const std::string& transfer_leg, size_t index,
                             const ClientResponse& r) {
  int code = r.timed_out ? 408 : r.response->status_code();
  const bool success = code >= 200 && code < 300;
  Call* call = Find(id);
  if (call == nullptr || !call->transfer || call->transfer->media_leg != transfer_leg ||
      index >= call->transfer->legs.size()) {
    // The call or this transfer is over: a target that answers anyway is hung up.
    if (success && r.dialog) (void)endpoint_.SendInDialog(*r.dialog, "BYE", nullptr);
    return;
  }
  PendingTransfer& t = *call->transfer;
  CalleeLeg& leg = t.legs[index];
  if (LeftBehind(leg, r)) return;
  Heard(leg, r);
  // A target contact given up for its silence keeps that verdict, as a callee's does.
  if (leg.done && !success) return;
  if (code < 200) {
    if (code > 100 && !t.ringing_notified) {
      t.ringing_notified = true;
      if (t.refer && !t.transferor_gone) {
        NotifyTransferor(t.replaced == 'a' ? call->a_dialog : *call->b_dialog,
                         StatusLine(code, r.response->reason_phrase()), false);
      }
    }
    return;
  }
  if (code == 422 && !t.answered) {
    auto headers = MinSeRetry(leg, t.trunk, t.offer, *r.response);
    if (headers && SendTargetInvite(id, index, std::move(*headers))) return;
  }
  if ((code == 401 || code == 407) && !t.answered) {
    auto credentials = ChallengeAnswer(leg, t.trunk, t.offer, *r.response);
    if (credentials && SendTargetInvite(id, index, {std::move(*credentials)})) return;
    // Nobody else can answer a challenge meant for us.
    code = 403;
  }
  if (FailsOver(r) && !t.answered &&
      NextDestination(leg, [&] { return SendTargetInvite(id, index, {}); })) {
    return;
  }
  leg.done = true;
  leg.final_code = code;
  if (success) {
    if (t.answered || !r.dialog) {
      // Another contact (or fork) answered first.
      if (r.dialog) (void)endpoint_.SendInDialog(*r.dialog, "BYE", nullptr);
      return;
    }
    t.answered = true;
    NoteEntry(*r.dialog, leg.target);
    t.session = sip::TermsFromAnswer(*r.response);
    t.answer_sdp = std::string(r.response->body());
    if (t.no_answer_timer != 0) endpoint_.StopTimer(t.no_answer_timer);
    t.no_answer_timer = 0;
    for (size_t i = 0; i < t.legs.size(); ++i) {
      if (i != index && !t.legs[i].done) (void)endpoint_.Cancel(t.legs[i].key);
    }
    // The target's answer completes its leg; only then does the transferor's leg go, so that a
    // refused answer leaves the call as it was. The party that stays is bridged to the target.
    auto status = std::make_shared<Status>(Status::Internal("not run"));
    const char stays = t.replaced == 'a' ? 'b' : 'a';
    std::string node = call->media_node, fresh = t.media_leg,
                old = call->one_legged ? std::string() : MediaLeg(*call, t.replaced),
                other = MediaLeg(*call, stays), sdp(r.response->body());
    sip::DialogId dialog = *r.dialog;
    Status queued = offloader_.Run(
        [this, status, node, fresh, old, other, sdp] {
          auto updated = ports_.media.UpdateLeg(node, fresh, false, sdp);
          if (!updated.ok()) {
            *status = updated.status();
            return;
          }
          if (!old.empty()) (void)ports_.media.DestroyLeg(node, old);
          auto bridged = ports_.media.Bridge(node, fresh, other);
          *status = bridged.ok() ? Status::Ok() : bridged.status();
        },
        [this, id, dialog, status] { TargetAnswered(id, dialog, *status); });
    if (!queued.ok()) TargetAnswered(id, dialog, queued);
    return;
  }
  FailTransferIfNoLegLeft(id);
}

void B2bua::TargetAnswered(const std::string& id, const sip::DialogId& dialog, Status media) {
  Call* call = Find(id);
  if (call == nullptr || !call->transfer) {
    (void)endpoint_.SendInDialog(dialog, "BYE", nullptr);
    return;
  }
  if (!media.ok()) {
    (void)endpoint_.SendInDialog(dialog, "BYE", nullptr);
    TransferFailed(id, media.code() == StatusCode::kInvalidArgument ? 488 : 503, {});
    return;
  }
  PendingTransfer t = std::move(*call->transfer);
  call->transfer.reset();
  sip::DialogId& side = t.replaced == 'a' ? call->a_dialog : *call->b_dialog;
  const sip::DialogId transferor = side;
  // A one-legged call had no side a: nobody to notify or hang up.
  if (!t.transferor_gone && !call->one_legged) {
    if (t.refer) {
      // The BYE once the final NOTIFY is answered: sent together, the balancer's parallel
      // workers may deliver the BYE first, and the transferor never hears how its transfer ended.
      NotifyTransferor(transferor, StatusLine(200, {}), true,
                       [this, transferor] { HangUp(transferor); });
    } else {
      HangUp(transferor);
    }
    by_dialog_.erase(transferor);
  }
  side = dialog;
  by_dialog_[dialog] = id;
  call->one_legged = false;
  // The transferor's session timer goes with its dialog; the target's 2xx set the new one.
  StartSession(*call, t.replaced, t.session);
  Session(*call, t.replaced).peer_sdp = t.answer_sdp;
  if (t.replaced == 'a') {
    ++call->a_generation;
    call->a_sdp = t.offer;
    call->from_uri = t.to_uri;
  } else {
    ++call->b_generation;
    call->b_offer = t.offer;
    call->to_uri = t.to_uri;
    call->b_party_uri.clear();
    call->trunk = std::move(t.trunk);  // who side b is, should it stay through another transfer
  }
  call->answered_leg = t.media_leg;
  StoredCall record = Stored(*call);
  CallSummary answered = Summary(*call, record);
  SaveStored(std::move(record));
  answered.sip_code = 200;
  ports_.events.Answered(answered);
  PutBackIfIdle(id, true);
}

void B2bua::TransferFailed(const std::string& id, int code, std::string_view reason) {
  Call* call = Find(id);
  if (call == nullptr || !call->transfer) return;
  AbandonTransfer(*call);
  PendingTransfer t = std::move(*call->transfer);
  call->transfer.reset();
  if (t.started) {
    t.started(code == 404 ? Status::NotFound("nothing routes to " + t.to_uri)
                          : Status::FailedPrecondition("the transfer target cannot be reached (" +
                                                       StatusLine(code, reason) + ")"));
  }
  if (t.transferor_gone) {
    // Nobody is left to take the call back: the party that stays is hung up.
    Finish(id, t.replaced == 'b', t.replaced == 'a', "normal");
    return;
  }
  if (t.refer) {
    NotifyTransferor(t.replaced == 'a' ? call->a_dialog : *call->b_dialog, StatusLine(code, reason),
                     true);
  }
  PutBackIfIdle(id);
}

void B2bua::AbandonTransfer(Call& call) {
  if (!call.transfer) return;
  PendingTransfer& t = *call.transfer;
  for (auto& leg : t.legs) {
    if (!leg.done && !leg.key.empty()) (void)endpoint_.Cancel(leg.key);
  }
  if (t.no_answer_timer != 0) endpoint_.StopTimer(t.no_answer_timer);
  t.no_answer_timer = 0;
  if (!t.offer.empty()) DestroyMedia(call.media_node, {t.media_leg});
}

void B2bua::TransferorLeft(const IncomingRequest& request, Call& call) {
  (void)endpoint_.Respond(request.key, 200);
  call.transfer->transferor_gone = true;
  endpoint_.ForgetDialog(*request.dialog);
  by_dialog_.erase(*request.dialog);
}

void B2bua::NotifyTransferor(const sip::DialogId& dialog, std::string_view status_line, bool final,
                             std::function<void()> answered) {
  ResponseCallback on_response;
  if (answered) {
    on_response = [answered](const ClientResponse& r, SipEndpoint&) {
      if (r.response == nullptr || r.response->status_code() >= 200) answered();
    };
  }
  auto sent = endpoint_.SendInDialog(
      dialog, "NOTIFY", std::move(on_response), std::string(status_line) + "\r\n",
      "message/sipfrag;version=2.0",
      {{"Event", "refer"},
       {"Subscription-State", final ? "terminated;reason=noresource" : "active;expires=60"}});
  if (!sent.ok() && answered) answered();
}

}  // namespace sb::signaling::b2bua
