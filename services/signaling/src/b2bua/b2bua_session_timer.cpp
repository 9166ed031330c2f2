// RFC 4028 session timers on an answered call: the B2BUA is a UA on each leg, so each dialog
// has its own interval and refresher (negotiated in b2bua.cpp as the call is set up, and again
// by every refresh). As the refresher we refresh at half the interval; as the other side we end
// the call when no refresh came in time (§10), with both legs BYEd as for any other hangup.
#include "b2bua/b2bua.h"
#include "b2bua/sdp_direction.h"

namespace sb::signaling::b2bua {

void B2bua::StartSession(Call& call, char side, std::optional<sip::SessionTerms> terms) {
  LegSession& session = Session(call, side);
  if (session.tu_timer != 0) endpoint_.StopTimer(session.tu_timer);
  session.tu_timer = 0;
  session.timer.reset();
  if (!terms) return;
  session.timer.emplace(endpoint_.clock(), *terms);
  ArmSession(call, side);
}

void B2bua::SessionRefreshed(Call& call, char side, sip::SessionTerms terms) {
  LegSession& session = Session(call, side);
  if (!session.timer) {
    StartSession(call, side, terms);
    return;
  }
  session.timer->Refreshed(terms);
  ArmSession(call, side);
}

void B2bua::ArmSession(Call& call, char side) {
  LegSession& session = Session(call, side);
  if (session.tu_timer != 0) endpoint_.StopTimer(session.tu_timer);
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(session.timer->NextDeadline() -
                                                                 endpoint_.clock().Now());
  session.tu_timer = endpoint_.StartTimer(std::max(wait, std::chrono::milliseconds(0)),
                                          [this, id = call.id, side] { OnSessionTimer(id, side); });
}

void B2bua::OnSessionTimer(const std::string& id, char side) {
  Call* call = Find(id);
  if (call == nullptr) return;
  LegSession& session = Session(*call, side);
  session.tu_timer = 0;
  if (!session.timer) return;
  switch (session.timer->OnTimers()) {
    case sip::SessionTimer::Action::kExpire:
      Finish(id, true, true, "session_expired");
      return;
    case sip::SessionTimer::Action::kRefresh:
      SendRefresh(*call, side);
      break;
    case sip::SessionTimer::Action::kNone:
      break;
  }
  ArmSession(*call, side);
}

void B2bua::SendRefresh(Call& call, char side) {
  const sip::DialogId dialog = side == 'a' ? call.a_dialog : *call.b_dialog;
  const sip::Dialog* state = endpoint_.FindDialog(dialog);
  if (state == nullptr) return;
  // RFC 4028 §7.4: an UPDATE without an offer refreshes without touching the media; a peer
  // that does not allow UPDATE gets the description it already has again, so nothing changes.
  const bool update = state->PeerAllowsUpdate();
  const std::string sdp = update ? std::string() : (side == 'a' ? call.a_sdp : call.b_offer);
  auto sent = endpoint_.SendInDialog(
      dialog, update ? "UPDATE" : "INVITE",
      [this, id = call.id, side](const ClientResponse& r, SipEndpoint&) {
        Call* call = Find(id);
        if (call == nullptr) return;
        const int code = r.timed_out ? 408 : r.response->status_code();
        if (code < 200) return;
        if (code == 408 || code == 481) {
          // §10: the peer is gone (or no longer knows the dialog): the session is over.
          Finish(id, true, true, "session_expired");
          return;
        }
        if (code == 491 || code >= 500) {
          RetryRefresh(*call, side);
          return;
        }
        // Another refusal leaves the session to expire unless the peer refreshes.
        if (code >= 300) return;
        Session(*call, side).refresh_retries = 0;
        if (!r.response->body().empty()) PeerAnswered(*call, side, std::string(r.response->body()));
        SessionAnswered(*call, side, *r.response);
      },
      sdp, sdp.empty() ? std::string_view() : "application/sdp", SessionHeaders(call, side));
  if (sent.ok()) Save(call);  // the dialog's CSeq moved
}

sip::HeaderLines B2bua::SessionHeaders(Call& call, char side) {
  const LegSession& session = Session(call, side);
  if (!session.timer) return {};
  return sip::SessionRefreshHeaders(session.timer->terms(), settings_.session_timer.min_se);
}

void B2bua::SessionAnswered(Call& call, char side, const sip::Message& response) {
  LegSession& session = Session(call, side);
  if (!session.timer || response.status_code() < 200 || response.status_code() >= 300) return;
  // A peer without timer support answers without Session-Expires: the terms stay as they were
  // (as the refresher, we go on refreshing).
  SessionRefreshed(call, side, sip::TermsFromAnswer(response).value_or(session.timer->terms()));
}

void B2bua::RetryRefresh(Call& call, char side) {
  LegSession& session = Session(call, side);
  if (!session.timer || session.refresh_retries >= kMaxRefreshRetries) return;
  ++session.refresh_retries;
  // RFC 3261 §14.1 (491, a glare): the dialog's owner of the Call-ID (us towards the callee)
  // waits 2.1-4 s, the other side 0-2 s, in units of 10 ms; a 5xx gets the same pause.
  const bool owner = side == 'b';
  const auto wait =
      std::chrono::milliseconds(owner ? 2100 + 10 * (rng_() % 191) : 10 * (rng_() % 201));
  endpoint_.StartTimer(wait, [this, id = call.id, side] {
    Call* call = Find(id);
    if (call == nullptr || !Session(*call, side).timer) return;
    SendRefresh(*call, side);
  });
}

void B2bua::PeerAnswered(Call& call, char side, std::string answer) {
  LegSession& session = Session(call, side);
  // A peer may answer our unchanged offer with another description (a new address or port,
  // RFC 3264 §8): the node's leg must follow it, or its media goes astray; and the record, so
  // that a replica answering that peer's refresh later takes it as unchanged.
  const bool changed = answer != session.peer_sdp;
  if (changed && !call.media_node.empty()) {
    (void)offloader_.Run([this, node = call.media_node, leg = MediaLeg(call, side),
                          answer] { (void)ports_.media.UpdateLeg(node, leg, false, answer); },
                         nullptr);
  }
  session.peer_sdp = std::move(answer);
  if (changed) Save(call);
}

void B2bua::StopSessions(Call& call) {
  StartSession(call, 'a', std::nullopt);
  StartSession(call, 'b', std::nullopt);
}

void B2bua::AnswerRefresh(const IncomingRequest& request, Call& call, bool from_caller,
                          const sip::UasTimerAnswer& timer) {
  const char side = from_caller ? 'a' : 'b';
  // A re-INVITE without an offer gets ours in the 200 (§14.2); an UPDATE without one gets no
  // body (RFC 3311 §5.2); one that repeats the description before gets the node's as before.
  const bool offer_wanted =
      request.message->method() == sip::Method::kInvite || !request.message->body().empty();
  const std::string& sdp = from_caller ? call.a_sdp : call.b_offer;
  Status answered =
      offer_wanted ? endpoint_.Respond(request.key, 200, {}, timer.headers, sdp, "application/sdp")
                   : endpoint_.Respond(request.key, 200, {}, timer.headers);
  if (!answered.ok()) return;
  SessionRefreshed(call, side, timer.terms);
  // Ours was the offer: the answer comes in the ACK (§13.2.1).
  Session(call, side).answer_in_ack = offer_wanted && request.message->body().empty();
}

std::optional<std::vector<std::pair<std::string, std::string>>> B2bua::MinSeRetry(
    CalleeLeg& leg, const std::optional<TrunkGateway>& trunk, const std::string& sdp,
    const sip::Message& response) {
  // §7.3: one retry; a second 422 (or one naming nothing larger) fails the leg.
  if (leg.session_expires != 0) return std::nullopt;
  auto larger = sip::IntervalAfter422(response, settings_.session_timer.session_expires);
  if (!larger) return std::nullopt;
  leg.session_expires = *larger;
  ++leg.cseq;
  // A carrier that challenged the INVITE before wants its credentials on the retry too.
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto credentials = LegCredentials(leg, trunk, sdp))
    headers.push_back(std::move(*credentials));
  return headers;
}

bool B2bua::RetryWithMinSe(const std::string& id, size_t index, const sip::Message& response) {
  Call& call = *Find(id);
  auto headers = MinSeRetry(call.legs[index], call.trunk, call.b_offer, response);
  return headers && SendLegInvite(id, index, std::move(*headers));
}

}  // namespace sb::signaling::b2bua
