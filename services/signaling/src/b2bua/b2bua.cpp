// Call set-up and tear-down: INVITE -> authorize -> route -> locate -> anchor media (one worker
// job, SetUpWork; the loop acts on its answers in that order) -> ring all contacts (or the trunk's
// gateway) -> first 2xx -> bridge -> 200 to the caller; and the ways a call ends before or after
// that.
#include "b2bua/b2bua.h"

#include <cstdio>
#include <utility>

#include "b2bua/sdp_direction.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/transaction_manager.h"

namespace sb::signaling::b2bua {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The platform's call ids are UUIDs (events, commands: call_command_server checks the form):
// a random (version 4) one from two draws of the generator.
std::string NewCallId(uint64_t high, uint64_t low) {
  high = (high & ~uint64_t{0xf000}) | 0x4000;                    // version 4
  low = (low & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // RFC 4122 variant
  const std::string h = Hex(high), l = Hex(low);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + l.substr(0, 4) +
         "-" + l.substr(4);
}

bool HasSdp(const sip::Message& m) {
  auto type = m.ContentType();
  return !m.body().empty() && type.ok() && type->has_value() && (*type)->type == "application" &&
         (*type)->subtype == "sdp";
}

// The set-up chain's decisions, taken by the worker that runs its steps ahead (a step only when
// the call goes on) and by the loop that acts on them.
// A call, once authenticated, with an SDP offer for the media node to answer, or none at all
// (a late offer: the node offers in our 200); a body of another kind is no offer we can take.
bool Admitted(const AuthOutcome& outcome, const sip::Message& invite) {
  return outcome.code == 0 && (HasSdp(invite) || invite.body().empty());
}
bool RouteFound(const Route& route) { return route.code == 0; }
// Somebody to ring.
bool Reachable(const Result<std::vector<Target>>& targets) {
  return targets.ok() && !targets->empty();
}

// What a call's "ended" event says of it, into a CallSummary or a StoredCall (whose fields of the
// same names carry it to the replica that ends a stored call).
template <typename Call, typename Out>
void CopyEndedFacts(const Call& call, Out& out) {
  out.from_uri = call.from_uri;
  out.to_uri = call.to_uri;
  out.answered_leg = call.answered_leg;
  out.start_time = call.started;
  out.answer_time = call.answered_at;
}

}  // namespace

// RFC 3261 §16.7 step 6 in spirit: a 6xx or a busy callee decides; a leg that rang out or
// timed out is "no answer"; otherwise the lowest failure.
std::pair<int, std::string_view> ChooseFailure(const std::vector<int>& codes) {
  int best = 0;
  for (int code : codes) {
    if (code >= 600) return {code, code == 603 ? "rejected" : "busy"};
  }
  for (int code : codes) {
    if (code == 486) return {486, "busy"};
  }
  bool all_no_answer = true;
  for (int code : codes) {
    if (code != 408 && code != 480 && code != 487) all_no_answer = false;
    if (code != 487 && (best == 0 || code < best)) best = code;
  }
  if (all_no_answer || best == 0) return {480, "no_answer"};
  if (best == 404 || best == 604) return {404, "not_found"};
  if (best == 488 || best == 606) return {488, "media_failure"};
  return {best, best >= 500 ? "network_failure" : "rejected"};
}

B2bua::B2bua(SipEndpoint& endpoint, Offloader& offloader, Ports ports, Settings settings)
    : endpoint_(endpoint),
      offloader_(offloader),
      ports_(ports),
      settings_(std::move(settings)),
      rng_(settings_.seed != 0 ? settings_.seed : std::random_device{}()) {}

std::string B2bua::MediaLeg(const Call& call, char side, int generation) const {
  const std::string& base = side == 'a' ? call.a_leg_base : call.b_leg_base;
  std::string leg = base.empty() ? call.id + "-" + side : base;
  if (generation != 0) leg += std::to_string(generation);
  return leg;
}

std::vector<std::string> B2bua::MediaLegs(const Call& call) const {
  if (call.one_legged) return {MediaLeg(call, 'b')};
  return {MediaLeg(call, 'a'), MediaLeg(call, 'b')};
}

std::string B2bua::PartyLeg(const Call& call) const {
  return MediaLeg(call, call.one_legged ? 'b' : 'a');
}

std::string B2bua::FreshCallId() { return NewCallId(rng_(), rng_()); }

B2bua::Call* B2bua::Find(const std::string& id) {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : &it->second;
}

std::vector<LegRecord> StoredLegs(const StoredCall& call) {
  std::vector<LegRecord> legs;
  const bool two_parties = call.media_legs.size() > 1;
  for (size_t i = 0; i < call.media_legs.size(); ++i) {
    const bool caller = two_parties && i == 0;
    const StoredDialog& d = caller ? call.caller : call.callee;
    LegRecord& leg = legs.emplace_back();
    leg.leg_id = call.media_legs[i];
    // Who called whom is the dialog's; before there is one (ringing, or a failed call), the
    // caller called us and we called the callee.
    const bool outbound = d.id.call_id.empty() ? !caller : d.outbound;
    leg.direction = outbound ? LegDirection::kOutbound : LegDirection::kInbound;
    leg.from_uri = call.from_uri;
    leg.to_uri = call.to_uri;
    leg.sip_call_id = d.id.call_id;
    leg.remote_contact = d.remote_target;
    const sip::Destination& seen = d.entry ? *d.entry : d.peer;
    if (!seen.host.empty()) leg.remote_source = seen.host + ":" + std::to_string(seen.port);
    // The answer on the leg: ours (the node's) to the party's offer, or the party's to ours.
    const bool party_answered = d.id.call_id.empty() ? !caller : d.we_offered;
    leg.codec = FirstCodec(party_answered ? d.peer_sdp : d.local_sdp);
    leg.media_node_id = call.media_node_id;
    leg.media_leg_id = call.media_legs[i];
    if (call.answer_time) leg.final_sip_code = 200;
  }
  return legs;
}

CallSummary B2bua::Summary(const Call& call) const { return Summary(call, Stored(call)); }

CallSummary B2bua::Summary(const Call& call, const StoredCall& record) const {
  CallSummary s;
  s.call_id = call.id;
  s.tenant = call.caller.tenant;
  CopyEndedFacts(call, s);
  s.legs = StoredLegs(record);
  // Before our final response the caller has no dialog to say where it is: its INVITE does.
  if (!call.one_legged && !call.originated && !s.legs.empty() && s.legs[0].remote_source.empty()) {
    const sip::Destination entry = CallerEntry(call);
    s.legs[0].remote_source = entry.host + ":" + std::to_string(entry.port);
  }
  return s;
}

void B2bua::OnRequest(const IncomingRequest& request, SipEndpoint& endpoint) {
  const sip::Message& invite = *request.message;
  if (invite.method() != sip::Method::kInvite) {
    (void)endpoint.Respond(request.key, 405, {}, {{"Allow", "INVITE"}});
    return;
  }
  // RFC 4028 §9: an interval below our minimum is refused before any authentication round trip.
  sip::UasTimerAnswer timer = sip::NegotiateAsUas(invite, settings_.session_timer);
  if (timer.reject_code != 0) {
    (void)endpoint.Respond(request.key, timer.reject_code, timer.reason, timer.headers);
    return;
  }
  // A challenge is no call yet (as in Authorized): answered here when the authorizer can say so
  // without blocking, it costs no worker and no round trip.
  const std::string entry = endpoint.EntrySource(request).host;
  if (auto challenge = ports_.authorizer.ChallengeOnLoop(invite, entry)) {
    (void)endpoint.Respond(request.key, challenge->code, challenge->reason, challenge->headers);
    return;
  }
  Call call;
  call.id = FreshCallId();
  call.a_timer = std::move(timer);
  call.a_key = request.key;
  call.invite = request.shared;
  call.a_source = request.source;
  call.late_offer = invite.body().empty();
  call.started = endpoint_.clock().WallNow();
  auto from = invite.From();
  call.a_dialog = {std::string(invite.CallId().value_or("")), request.local_tag,
                   from.ok() ? std::string((*from)->tag()) : std::string()};
  const std::string id = call.id;
  const std::string a = MediaLeg(call, 'a'), b = MediaLeg(call, 'b');
  by_invite_key_[request.key] = id;
  auto message = std::make_shared<sip::Message>(invite.Clone());
  auto setup = std::make_shared<SetUp>();
  calls_.emplace(id, std::move(call));
  // One trip off the loop for the whole set-up, not one per step.
  Status queued = offloader_.Run(
      [this, setup, message, entry, id, a, b] { SetUpWork(*setup, *message, entry, id, a, b); },
      [this, id, a, b, setup] { SetUpDone(id, a, b, std::move(*setup)); });
  if (!queued.ok()) Fail(id, 503, "Overloaded", "");
}

void B2bua::SetUpWork(SetUp& setup, const sip::Message& invite, const std::string& entry,
                      const std::string& id, const std::string& a, const std::string& b) {
  setup.outcome = ports_.authorizer.Authorize(invite, entry);
  if (!Admitted(setup.outcome, invite)) return;
  const Caller& caller = setup.outcome.caller;
  setup.route = ports_.router.Resolve(caller, invite.request_uri().user);
  if (!RouteFound(setup.route)) return;
  // A trunk's gateway is the one contact (Ring); an extension's are the registrar's.
  if (!setup.route.trunk) {
    setup.targets = ports_.locator.Locate(caller.tenant, setup.route.domain, setup.route.extension);
    if (!Reachable(*setup.targets)) return;
  }
  setup.anchors = ports_.media.CreateLegPair(caller.tenant, id, a, b, invite.body());
}

void B2bua::SetUpDone(const std::string& id, const std::string& a, const std::string& b,
                      SetUp setup) {
  Call* call = Find(id);
  const bool anchored = setup.anchors && setup.anchors->ok();
  if (call == nullptr) {
    // Cancelled while the worker set it up: the legs it created are orphans now.
    if (anchored) DestroyMedia((*setup.anchors)->a.node_id, {a, b});
    return;
  }
  if (anchored) {
    call->media_node = (*setup.anchors)->a.node_id;
    call->a_sdp = std::move((*setup.anchors)->a.sdp);
    call->b_offer = std::move((*setup.anchors)->b.sdp);
  }
  if (setup.anchors) call->anchored = setup.anchors->status();
  call->located = std::move(setup.targets);
  Authorized(id, std::move(setup.outcome), std::move(setup.route));
}

void B2bua::Authorized(const std::string& id, AuthOutcome outcome, Route route) {
  Call* call = Find(id);
  if (call == nullptr) return;
  // Checked after authentication so that an unauthenticated peer learns nothing but the
  // challenge.
  if (!Admitted(outcome, *call->invite)) {
    // A challenge or a refused offer is not a call yet: no events, nothing to clean up.
    if (outcome.code != 0) {
      (void)endpoint_.Respond(call->a_key, outcome.code, outcome.reason, outcome.headers);
    } else {
      (void)endpoint_.Respond(call->a_key, 488, "SDP Offer Required");
    }
    by_invite_key_.erase(call->a_key);
    calls_.erase(id);
    return;
  }
  call->caller = std::move(outcome.caller);
  call->phase = Phase::kRouting;
  call->dialed = std::string(call->invite->request_uri().user);
  Routed(id, std::move(route));
}

void B2bua::Routed(const std::string& id, Route route) {
  Call* call = Find(id);
  if (call == nullptr) return;
  call->from_uri = std::move(route.from_uri);
  call->to_uri = !route.to_uri.empty() ? std::move(route.to_uri)
                                       : "sip:" + call->dialed + "@" + call->caller.domain;
  call->phase = Phase::kLocating;
  CallSummary created = Summary(*call);
  ports_.events.Created(created);
  if (!RouteFound(route)) {
    Fail(id, route.code, route.reason, route.cause);
    return;
  }
  Ring(id, std::move(route));
}

void B2bua::Ring(const std::string& id, Route route) {
  Call* call = Find(id);
  if (route.trunk) {
    Target gateway = GatewayTarget(*route.trunk);
    call->trunk = std::move(route.trunk);
    Located(id, std::vector<Target>{std::move(gateway)});
    return;
  }
  if (call->located) {
    // Located by the set-up job.
    auto targets = std::move(*call->located);
    call->located.reset();
    Located(id, std::move(targets));
    return;
  }
  auto targets =
      std::make_shared<Result<std::vector<Target>>>(Status::Internal("locate did not run"));
  TenantId tenant = call->caller.tenant;
  std::string domain = std::move(route.domain), number = std::move(route.extension);
  Status queued =
      offloader_.Run([this, targets, tenant, domain,
                      number] { *targets = ports_.locator.Locate(tenant, domain, number); },
                     [this, id, targets] { Located(id, std::move(*targets)); });
  if (!queued.ok()) Fail(id, 503, "Overloaded", "network_failure");
}

void B2bua::Located(const std::string& id, Result<std::vector<Target>> targets) {
  Call* call = Find(id);
  if (call == nullptr) return;
  if (!Reachable(targets)) {
    if (targets.ok()) {
      Fail(id, 480, {}, "unavailable");
    } else if (targets.status().code() == StatusCode::kNotFound) {
      Fail(id, 404, {}, "not_found");
    } else {
      Fail(id, 503, {}, "network_failure");
    }
    return;
  }
  for (auto& target : *targets) {
    CalleeLeg leg;
    leg.target = std::move(target);
    call->legs.push_back(std::move(leg));
  }
  call->phase = Phase::kAnchoring;
  if (call->originated) {
    AnchorOriginated(id);
    return;
  }
  // Leg a answering the caller's offer and leg b offering to the callee, on one node, were
  // created by the set-up job (SetUpDone took them).
  Anchored(id, call->anchored.value_or(Status::Internal("no leg pair was created")));
}

void B2bua::Anchored(const std::string& id, Status status) {
  Call* call = Find(id);
  if (call == nullptr) return;
  if (!status.ok()) {
    // The node refused the caller's SDP (no codec it knows): 488; no node: 503.
    if (status.code() == StatusCode::kInvalidArgument) {
      Fail(id, 488, {}, "media_failure");
    } else {
      Fail(id, 503, {}, "media_failure");
    }
    return;
  }
  call->phase = Phase::kRinging;
  size_t sent = 0;
  for (size_t i = 0; i < call->legs.size(); ++i) {
    auto send = [this, &id, i] { return SendLegInvite(id, i, {}); };
    if (send() || NextDestination(call->legs[i], send)) ++sent;
  }
  if (sent == 0) {
    Fail(id, 503, {}, "network_failure");
    return;
  }
  const auto timeout =
      call->ring_timeout.count() != 0 ? call->ring_timeout : settings_.no_answer_timeout;
  call->no_answer_timer = endpoint_.StartTimer(timeout, [this, id] { NoAnswer(id); });
  // Only a store that works from the loop keeps its writes in the order made: a ringing record
  // saved by a worker could land after the answered one.
  if (ports_.store.works_on_loop()) {
    call->ringing_store_timer =
        endpoint_.StartTimer(settings_.store_ringing_after, [this, id] { StoreRinging(id); });
  }
}

bool B2bua::SendInvite(CalleeLeg& leg, const std::string& from, const std::string& to_uri,
                       const std::string& sdp,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       ResponseCallback on_response) {
  // A retry after a challenge is the same request again: same Call-ID and From tag.
  if (leg.sip_call_id.empty()) {
    leg.sip_call_id = Hex(rng_()) + "@" + settings_.node_id;
    leg.local_tag = endpoint_.NewTag();
  }
  auto invite = sip::MessageBuilder::Request("INVITE", leg.target.contact_uri);
  for (const auto& route : leg.target.path) invite.AddHeader("Route", route);
  invite.AddHeader("From", from + ";tag=" + leg.local_tag)
      .AddHeader("To", "<" + to_uri + ">")
      .AddHeader("Call-ID", leg.sip_call_id)
      .AddHeader("CSeq", std::to_string(leg.cseq) + " INVITE")
      .AddHeader("Contact", "<" + endpoint_.ContactUri(leg.target.destination.transport) + ">")
      .AddHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, PRACK")
      .AddHeader("Supported", "100rel, timer");
  // RFC 4028 §7.1; after a 422 the interval it asked for is also our Min-SE (§7.3).
  const auto& policy = settings_.session_timer;
  for (const auto& [name, value] : sip::UacTimerHeaders(
           leg.session_expires != 0 ? leg.session_expires : policy.session_expires,
           leg.session_expires != 0 ? leg.session_expires : policy.min_se, false)) {
    invite.AddHeader(name, value);
  }
  for (const auto& [name, value] : headers) invite.AddHeader(name, value);
  invite.SetBody(sdp, "application/sdp");
  auto key = endpoint_.SendRequest(invite, leg.target.destination, std::move(on_response));
  if (!key.ok()) {
    leg.done = true;
    leg.final_code = 503;
    return false;
  }
  leg.key = *key;
  return true;
}

bool B2bua::SendLegInvite(const std::string& id, size_t index,
                          std::vector<std::pair<std::string, std::string>> headers) {
  Call& call = *Find(id);
  std::string from = PresentedFrom(call.trunk, call.from_uri, call.caller.domain, headers);
  CalleeLeg& leg = call.legs[index];
  const bool sent = SendInvite(
      leg, from, call.to_uri, call.b_offer, headers,
      [this, id, index](const ClientResponse& r, SipEndpoint&) { OnCalleeResponse(id, index, r); });
  if (sent) WatchSilence(leg, [this, id, index] { OnSilentContact(id, index); });
  // A retry (after a challenge or a 422) is a new transaction: its CANCEL differs.
  if (sent && call.ringing_stored) SaveStored(RingingRecord(call));
  return sent;
}

void B2bua::WatchSilence(CalleeLeg& leg, std::function<void()> on_silent) {
  // A retry (after a challenge or a 422) goes to a contact that has answered already.
  if (leg.heard) return;
  leg.silence_timer = endpoint_.StartTimer(settings_.silent_contact_timeout, std::move(on_silent));
}

void B2bua::Heard(CalleeLeg& leg, const ClientResponse& response) {
  if (response.timed_out || leg.heard) return;
  leg.heard = true;
  endpoint_.StopTimer(leg.silence_timer);
}

bool B2bua::GiveUpSilent(CalleeLeg& leg) {
  if (leg.done || leg.heard) return false;
  // §9.1: no CANCEL before a provisional response; the endpoint sends it if one ever comes.
  (void)endpoint_.Cancel(leg.key);
  leg.done = true;
  leg.final_code = 408;
  return true;
}

bool B2bua::NextDestination(CalleeLeg& leg, const std::function<bool()>& send) {
  while (!leg.target.alternates.empty()) {
    leg.target.destination = leg.target.alternates.front();
    leg.target.alternates.erase(leg.target.alternates.begin());
    // Another server: nothing it said applies (its challenge, whether it was heard).
    leg.done = false;
    leg.final_code = 0;
    leg.heard = false;
    leg.challenged = false;
    leg.challenge.reset();
    leg.nonce_count = 0;
    if (send()) return true;
  }
  return false;
}

bool B2bua::LeftBehind(const CalleeLeg& leg, const ClientResponse& response) {
  if (response.key == leg.key) return false;
  const bool success = !response.timed_out && response.response->status_code() >= 200 &&
                       response.response->status_code() < 300;
  if (success && response.dialog) (void)endpoint_.SendInDialog(*response.dialog, "BYE", nullptr);
  return true;
}

bool B2bua::FailsOver(const ClientResponse& response) {
  return response.timed_out || response.response->status_code() == 503;
}

void B2bua::OnSilentContact(const std::string& id, size_t index) {
  Call* call = Find(id);
  if (call == nullptr || index >= call->legs.size() || call->phase != Phase::kRinging) return;
  if (!GiveUpSilent(call->legs[index])) return;
  if (NextDestination(call->legs[index], [&] { return SendLegInvite(id, index, {}); })) return;
  FailIfNoLegLeft(id);
}

void B2bua::FailIfNoLegLeft(const std::string& id) {
  Call* call = Find(id);
  if (call == nullptr || call->phase != Phase::kRinging) return;
  std::vector<int> codes;
  for (const auto& l : call->legs) {
    if (!l.done) return;
    codes.push_back(l.final_code);
  }
  auto [failure, cause] = ChooseFailure(codes);
  Fail(id, failure, {}, cause);
}

std::string B2bua::PresentedFrom(const std::optional<TrunkGateway>& trunk,
                                 const std::string& from_uri, const std::string& domain,
                                 std::vector<std::pair<std::string, std::string>>& headers) {
  if (!trunk) return "<" + from_uri + ">";
  // A carrier sees the caller id its trunk's policy says, or an anonymous caller (RFC 3323
  // §4.1.1.3).
  if (trunk->from_user.empty()) {
    headers.emplace_back("Privacy", "id");
    return "\"Anonymous\" <sip:anonymous@anonymous.invalid>";
  }
  return "<sip:" + trunk->from_user + "@" + domain + ">";
}

bool B2bua::AnswerChallenge(const std::string& id, size_t index, const sip::Message& challenge) {
  Call& call = *Find(id);
  auto credentials = ChallengeAnswer(call.legs[index], call.trunk, call.b_offer, challenge);
  return credentials && SendLegInvite(id, index, {std::move(*credentials)});
}

std::optional<std::pair<std::string, std::string>> B2bua::ChallengeAnswer(
    CalleeLeg& leg, const std::optional<TrunkGateway>& trunk, const std::string& sdp,
    const sip::Message& challenge) {
  if (!trunk || trunk->username.empty() || leg.challenged) return std::nullopt;
  leg.challenged = true;
  const bool proxy = challenge.status_code() == 407;
  const sip::HeaderId wanted =
      proxy ? sip::HeaderId::kProxyAuthenticate : sip::HeaderId::kWwwAuthenticate;
  std::vector<sip::DigestChallenge> offered;
  for (size_t i = 0; i < challenge.header_count(); ++i) {
    auto field = challenge.header(i);
    if (field.id != wanted) continue;
    if (auto parsed = sip::ParseChallenge(field.value); parsed.ok()) offered.push_back(*parsed);
  }
  auto chosen = sip::PreferredChallenge(offered);
  if (!chosen) return std::nullopt;
  leg.challenge = offered[*chosen];
  leg.proxy_challenge = proxy;
  auto answer = LegCredentials(leg, trunk, sdp);
  if (!answer) return std::nullopt;
  // §8.1.3.5 / §22.2: the same request again with a higher CSeq and the credentials.
  ++leg.cseq;
  return answer;
}

std::optional<std::pair<std::string, std::string>> B2bua::LegCredentials(
    CalleeLeg& leg, const std::optional<TrunkGateway>& trunk, const std::string& sdp) {
  if (!leg.challenge || !trunk) return std::nullopt;
  auto credentials = sip::AnswerChallenge(
      *leg.challenge, {.username = trunk->username, .password = trunk->password, .ha1 = {}},
      "INVITE", leg.target.contact_uri, sdp, Hex(rng_()), ++leg.nonce_count);
  if (!credentials.ok()) return std::nullopt;
  return std::make_pair(std::string(leg.proxy_challenge ? "Proxy-Authorization" : "Authorization"),
                        sip::FormatCredentials(*credentials));
}

void B2bua::OnCalleeResponse(const std::string& id, size_t index, const ClientResponse& r) {
  int code = r.timed_out ? 408 : r.response->status_code();
  Call* call = Find(id);
  const bool success = code >= 200 && code < 300;
  if (call == nullptr || index >= call->legs.size()) {
    // The call ended (caller cancelled, no answer) while this callee answered: hang up on it.
    if (success && r.dialog) (void)endpoint_.SendInDialog(*r.dialog, "BYE", nullptr);
    return;
  }
  CalleeLeg& leg = call->legs[index];
  if (LeftBehind(leg, r)) return;
  Heard(leg, r);
  // A contact given up for its silence keeps that verdict: when it rings (the endpoint cancels
  // it), challenges or refuses after all, nothing changes; only its 2xx is taken as any other.
  if (leg.done && !success) return;
  if (code < 200) {
    if (code == 100 || call->phase != Phase::kRinging) return;
    // An originated call has nobody to hear early media, nor a caller whose INVITE made no
    // offer (ours comes in the 200): its 18x is only "ringing".
    if (HasSdp(*r.response) && call->early == EarlyMedia::kNone && !call->originated &&
        !call->late_offer) {
      StartEarlyMedia(id, code, std::string(r.response->body()));
    } else if (!call->ringing_sent) {
      Ringing(*call, code == 183 ? 183 : 180, {});
    }
    return;
  }
  if (success) {
    leg.done = true;
    leg.final_code = code;
    if (call->phase != Phase::kRinging || !r.dialog) {
      // Another contact (or another fork of this one) answered first.
      if (r.dialog) (void)endpoint_.SendInDialog(*r.dialog, "BYE", nullptr);
      return;
    }
    StartSession(*call, 'b', sip::TermsFromAnswer(*r.response));
    Answer(id, index, *r.dialog, std::string(r.response->body()));
    return;
  }
  if (code == 422 && call->phase == Phase::kRinging && RetryWithMinSe(id, index, *r.response)) {
    return;
  }
  if (code == 401 || code == 407) {
    if (call->phase == Phase::kRinging && AnswerChallenge(id, index, *r.response)) return;
    // The caller cannot answer a challenge meant for us.
    code = 403;
  }
  if (FailsOver(r) && call->phase == Phase::kRinging &&
      NextDestination(leg, [&] { return SendLegInvite(id, index, {}); })) {
    return;
  }
  leg.done = true;
  leg.final_code = code;
  FailIfNoLegLeft(id);
}

void B2bua::Ringing(Call& call, int code, std::string_view sdp) {
  if (call.originated) {
    // Nobody to relay it to.
  } else if (sdp.empty()) {
    (void)endpoint_.Respond(call.a_key, code);
  } else {
    (void)endpoint_.Respond(call.a_key, code, {}, {}, sdp, "application/sdp");
  }
  if (call.ringing_sent) return;
  call.ringing_sent = true;
  CallSummary ringing = Summary(call);
  ringing.sip_code = code;
  ports_.events.Ringing(ringing);
}

void B2bua::StartEarlyMedia(const std::string& id, int code, std::string sdp) {
  Call* call = Find(id);
  call->early = EarlyMedia::kPending;
  call->early_sdp = sdp;
  auto status = std::make_shared<Status>(Status::Internal("not run"));
  std::string node = call->media_node, a = MediaLeg(*call, 'a'), b = MediaLeg(*call, 'b');
  Status queued = offloader_.Run(
      [this, status, node, a, b, sdp] { *status = ports_.media.AnswerLeg(node, b, sdp, a); },
      [this, id, code, status] {
        Call* call = Find(id);
        if (call == nullptr) return;
        // Early media is a courtesy: when the node refuses the callee's early SDP the caller
        // still hears that it rings, and the 200's SDP is given to the node as without it.
        call->early = status->ok() ? EarlyMedia::kBridged : EarlyMedia::kNone;
        if (call->phase == Phase::kRinging) {
          Ringing(*call, code == 180 ? 180 : 183, status->ok() ? call->a_sdp : std::string());
        } else if (call->phase == Phase::kAnswering) {
          ConnectMedia(id);
        }
      });
  if (!queued.ok()) {
    call->early = EarlyMedia::kNone;
    if (!call->ringing_sent) Ringing(*call, 180, {});
  }
}

void B2bua::Answer(const std::string& id, size_t index, const sip::DialogId& dialog,
                   std::string sdp) {
  Call* call = Find(id);
  call->phase = Phase::kAnswering;
  call->b_dialog = dialog;
  NoteEntry(dialog, call->legs[index].target);
  call->answered_leg = MediaLeg(*call, 'b');
  call->answer_sdp = std::move(sdp);
  call->b_session.peer_sdp = call->answer_sdp.empty() ? call->early_sdp : call->answer_sdp;
  endpoint_.StopTimer(call->no_answer_timer);
  endpoint_.StopTimer(call->ringing_store_timer);
  for (size_t i = 0; i < call->legs.size(); ++i) {
    if (i != index && !call->legs[i].done) (void)endpoint_.Cancel(call->legs[i].key);
  }
  if (call->early != EarlyMedia::kPending) ConnectMedia(id);
}

void B2bua::ConnectMedia(const std::string& id) {
  Call* call = Find(id);
  // After early media leg b is bridged already: the node only needs the 200's SDP when it
  // differs (another fork answered, or the callee changed its mind within the RFC's leeway).
  const bool bridged = call->early == EarlyMedia::kBridged;
  std::string sdp = std::move(call->answer_sdp);
  if (bridged && (sdp.empty() || sdp == call->early_sdp)) {
    Connected(id, Status::Ok(), false);
    return;
  }
  auto status = std::make_shared<Status>(Status::Internal("not run"));
  std::string node = call->media_node, a = MediaLeg(*call, 'a'), b = MediaLeg(*call, 'b');
  // A late-offer caller's leg has no media before its ACK: bridged then (CallerAnswered).
  const bool bridge = !bridged && !call->originated && !call->late_offer;
  // The record another replica needs is saved once the node has the answer: from the loop when
  // the store can (Connected), otherwise in the same job.
  const bool save_here = !ports_.store.works_on_loop();
  if (!save_here) {
    // The node's answer comes back to the loop from a bus thread: no worker woken, none blocked.
    ports_.media.AnswerLegAsync(
        node, b, sdp, bridge ? a : std::string(), [this, id](Status status) {
          offloader_.ToLoop(
              [this, id, status = std::move(status)] { Connected(id, status, false); });
        });
    return;
  }
  Status queued = offloader_.Run(
      [this, status, node, a, b, sdp, bridge, stored = Answering(*call)] {
        *status = ports_.media.AnswerLeg(node, b, sdp, bridge ? a : std::string());
        if (status->ok()) (void)ports_.store.Save(stored, nullptr);
      },
      [this, id, status] { Connected(id, *status, true); });
  if (!queued.ok()) Fail(id, 503, "Overloaded", "network_failure");
}

void B2bua::Connected(const std::string& id, Status status, bool saved) {
  Call* call = Find(id);
  if (call == nullptr) return;
  if (!status.ok()) {
    Fail(id, status.code() == StatusCode::kInvalidArgument ? 488 : 503, {}, "media_failure");
    return;
  }
  if (!call->originated) {
    Status answered = endpoint_.Respond(call->a_key, 200, {}, call->a_timer.headers, call->a_sdp,
                                        "application/sdp");
    if (!answered.ok()) {
      // The caller's transaction is gone (it cancelled in the meantime): the callee is hung up,
      // and the record saved with the node's answer goes.
      if (saved) {
        StoredCall stored;
        stored.call_id = id;
        stored.tenant = call->caller.tenant;
        (void)offloader_.Run([this, stored] { (void)ports_.store.Remove(stored, nullptr); },
                             nullptr);
      }
      Fail(id, 0, {}, "caller_cancelled");
      return;
    }
    by_invite_key_.erase(call->a_key);
    by_dialog_[call->a_dialog] = id;
    call->a_session.peer_sdp = std::string(call->invite->body());
    call->awaiting_caller_answer = call->late_offer;
    StartSession(*call, 'a', call->a_timer.terms);
  }
  AnsweredNow(*call, saved);
}

void B2bua::AnsweredNow(Call& call, bool saved) {
  call.phase = Phase::kConnected;
  // Answered once the caller has its 200 (a failure before that bills nothing).
  call.answered_at = endpoint_.clock().WallNow();
  by_dialog_[*call.b_dialog] = call.id;
  // One record for both: what is saved and what the answered event's legs say.
  StoredCall record = Stored(call);
  CallSummary answered = Summary(call, record);
  answered.sip_code = 200;
  if (saved || !ports_.store.works_on_loop()) {
    if (!saved) SaveStored(std::move(record));
    ports_.events.Answered(answered);
    return;
  }
  // Kept with the record that makes the call outlive this node: a webhook subscriber hears of
  // the answer even when the node dies right after it.
  auto event = ports_.events.PrepareAnswered(answered);
  ports_.store.SaveOnLoop(record, event ? &*event : nullptr, SendOnceStored(event));
}

void B2bua::AnswerCaller(const TenantId& tenant, std::string_view call_id,
                         std::function<void(Status)> done) {
  const std::string id(call_id);
  Call* call = Find(id);
  if (call == nullptr || call->caller.tenant != tenant || call->phase == Phase::kAuthorizing) {
    done(Status::NotFound("no call " + id + " on this node"));
    return;
  }
  if (call->originated || call->phase == Phase::kAnswering || call->phase == Phase::kConnected) {
    done(Status::FailedPrecondition("call " + id + " has no caller waiting for an answer"));
    return;
  }
  if (call->phase != Phase::kRinging || call->early == EarlyMedia::kPending) {
    done(Status::FailedPrecondition("call " + id + " is not ringing yet"));
    return;
  }
  Status answered = endpoint_.Respond(call->a_key, 200, {}, call->a_timer.headers, call->a_sdp,
                                      "application/sdp");
  if (!answered.ok()) {
    done(Status::FailedPrecondition("the caller of call " + id + " is gone"));
    return;
  }
  endpoint_.StopTimer(call->no_answer_timer);
  endpoint_.StopTimer(call->ringing_store_timer);
  call->no_answer_timer = call->ringing_store_timer = 0;
  // The contacts rung stop ringing (a 2xx crossing the CANCEL is hung up: the call is answered),
  // and their media leg goes.
  for (auto& leg : call->legs) {
    if (!leg.done && !leg.key.empty()) (void)endpoint_.Cancel(leg.key);
  }
  DestroyMedia(call->media_node, {MediaLeg(*call, 'b')});
  by_invite_key_.erase(call->a_key);
  // The caller is the call's one party, as an originated call's callee is: side b, with its
  // dialog, its media leg and its session; the platform is its other end (play, record,
  // transfer, bridge act on it).
  call->one_legged = true;
  call->b_party_uri = call->from_uri;
  call->b_dialog = call->a_dialog;
  call->a_dialog = {};
  call->b_leg_base = MediaLeg(*call, 'a');
  call->b_generation = 0;
  call->a_leg_base.clear();
  call->a_generation = 0;
  call->b_offer = call->a_sdp;
  call->trunk.reset();  // side b is the caller now, not a gateway rung
  call->answered_leg = MediaLeg(*call, 'b');
  call->b_session.peer_sdp = std::string(call->invite->body());
  StartSession(*call, 'b', call->a_timer.terms);
  // A caller that made no offer has ours (leg a's) in the 200: its answer comes in the ACK.
  call->awaiting_caller_answer = call->late_offer;
  AnsweredNow(*call, false);
  done(Status::Ok());
}

void B2bua::NoAnswer(const std::string& id) {
  Call* call = Find(id);
  if (call == nullptr || call->phase != Phase::kRinging) return;
  call->no_answer_timer = 0;
  Fail(id, 480, "No Answer", "no_answer");
}

void B2bua::OnCancelled(std::string_view invite_key, SipEndpoint&) {
  auto it = by_invite_key_.find(invite_key);
  if (it == by_invite_key_.end()) return;
  Fail(std::string(it->second), 0, {}, "caller_cancelled");
}

void B2bua::OnPrackTimeout(std::string_view invite_key, SipEndpoint&) {
  auto it = by_invite_key_.find(invite_key);
  if (it == by_invite_key_.end()) return;
  // The endpoint has answered the caller 500 already (Fail's own answer finds the transaction
  // answered); the caller's side stopped acknowledging, as on a transaction timeout.
  Fail(std::string(it->second), 500, {}, "network_failure");
}

void B2bua::Fail(const std::string& id, int code, std::string_view reason, std::string_view cause) {
  Call* call = Find(id);
  if (call == nullptr) return;
  if (call->created) {
    // An originate command still waiting for its route: the call was never placed.
    auto created = std::move(call->created);
    call->created = nullptr;
    created(Status::Unavailable("the call could not be placed (" + std::to_string(code) + " " +
                                std::string(reason) + ")"));
  }
  if (code != 0 && !call->originated) (void)endpoint_.Respond(call->a_key, code, reason);
  for (auto& leg : call->legs) {
    if (!leg.done && !leg.key.empty()) (void)endpoint_.Cancel(leg.key);
  }
  if (call->b_dialog) (void)endpoint_.SendInDialog(*call->b_dialog, "BYE", nullptr);
  if (call->no_answer_timer != 0) endpoint_.StopTimer(call->no_answer_timer);
  if (call->ringing_store_timer != 0) endpoint_.StopTimer(call->ringing_store_timer);
  StopSessions(*call);
  if (!call->media_node.empty()) DestroyMedia(call->media_node, MediaLegs(*call));
  if (call->phase != Phase::kAuthorizing && call->phase != Phase::kRouting && !cause.empty()) {
    CallSummary ended = Summary(*call);
    ended.sip_code = code != 0 ? code : 487;
    ended.cause = std::string(cause);
    // Unanswered: the caller got that failure, which stands for what the callee's side said.
    for (auto& leg : ended.legs) leg.final_sip_code = ended.sip_code;
    auto event = ports_.events.PrepareEnded(ended);
    if (call->ringing_stored) {
      // Its ringing record goes with the event kept in the same step.
      ports_.store.RemoveOnLoop(RecordKey(*call), event ? &*event : nullptr, SendOnceStored(event));
    } else if (event) {
      // Never saved, so kept on its own: the call's record (a CDR) outlives the node all the
      // same.
      ports_.store.KeepOnLoop(*event, SendOnceStored(event));
    }
  } else if (call->ringing_stored) {
    ports_.store.RemoveOnLoop(RecordKey(*call), nullptr, nullptr);
  }
  by_invite_key_.erase(call->a_key);
  calls_.erase(id);
}

void B2bua::Finish(const std::string& id, bool bye_caller, bool bye_callee,
                   std::string_view cause) {
  Call* call = Find(id);
  if (call == nullptr) return;
  auto bye = [this](const sip::DialogId& dialog, bool send) {
    if (send) {
      HangUp(dialog);
    } else {
      endpoint_.ForgetDialog(dialog);
    }
  };
  AbandonTransfer(*call);
  StopSessions(*call);
  // While the dialogs still say where the parties are.
  CallSummary ended = Summary(*call);
  ended.sip_code = 200;
  ended.cause = std::string(cause);
  if (!call->one_legged) bye(call->a_dialog, bye_caller);
  if (call->b_dialog) bye(*call->b_dialog, bye_callee);
  StoredCall stored;
  stored.call_id = call->id;
  stored.tenant = call->caller.tenant;
  stored.node_id = settings_.node_id;  // whose list of carried calls it leaves
  // Its dialogs name the keys to remove: no read of the stored copy first.
  if (!call->one_legged) stored.caller.id = call->a_dialog;
  if (call->b_dialog) stored.callee.id = *call->b_dialog;
  const std::string node = call->media_node;
  std::vector<std::string> legs = MediaLegs(*call);
  calls_.erase(id);
  ReleaseThenEnd(node, std::move(legs), std::move(ended), [this, id, stored](CallSummary ended) {
    // "ended" once the call is out of the store: a consumer acting on it finds no stale state.
    if (ports_.store.works_on_loop()) {
      auto event = ports_.events.PrepareEnded(ended);
      ports_.store.RemoveOnLoop(stored, event ? &*event : nullptr, SendOnceStored(event));
    } else {
      (void)offloader_.Run([this, stored, ended] { EndStored(stored, ended); }, nullptr);
    }
    for (const auto* dialog : {&stored.caller.id, &stored.callee.id}) {
      auto it = by_dialog_.find(*dialog);
      if (it != by_dialog_.end() && it->second == id) by_dialog_.erase(it);
    }
  });
}

void B2bua::ReleaseThenEnd(const std::string& media_node, std::vector<std::string> legs,
                           CallSummary ended, std::function<void(CallSummary)> then) {
  if (media_node.empty()) {
    then(std::move(ended));
    return;
  }
  ++ending_;
  ports_.media.ReleaseLegsReporting(
      media_node, legs,
      [this, ended = std::move(ended), then = std::move(then)](MediaAnchor::LegFinals finals) {
        offloader_.ToLoop([this, ended, then, finals = std::move(finals)]() mutable {
          --ending_;
          for (auto& leg : ended.legs) {
            auto measured = finals.find(leg.media_leg_id);
            if (measured != finals.end()) leg.media_stats = measured->second;
          }
          then(std::move(ended));
        });
      });
}

void B2bua::EndStored(const StoredCall& stored, const CallSummary& ended) {
  auto event = ports_.events.PrepareEnded(ended);
  SendOnceStored(event)(ports_.store.Remove(stored, event ? &*event : nullptr));
}

CallStore::Done B2bua::SendOnceStored(std::optional<PreparedEvent> event) {
  return [this, event = std::move(event)](const Status& stored) mutable {
    if (event) ports_.events.SendPrepared(std::move(*event), stored.ok());
  };
}

void B2bua::HangUp(const sip::DialogId& dialog) {
  (void)endpoint_.SendInDialog(dialog, "BYE", [dialog](const ClientResponse& r, SipEndpoint& ep) {
    if (r.timed_out || r.response->status_code() >= 200) ep.ForgetDialog(dialog);
  });
}

void B2bua::DestroyMedia(const std::string& media_node, std::vector<std::string> legs) {
  if (media_node.empty()) return;
  ports_.media.ReleaseLegs(media_node, legs);
}

namespace {

// What another replica needs of `dialog` to send a request in it (its id and peer aside).
void Describe(const sip::Dialog& dialog, StoredDialog& d) {
  d.local_uri = dialog.local_uri();
  d.remote_uri = dialog.remote_uri();
  d.remote_target = dialog.remote_target();
  d.route_set = dialog.route_set();
  // Another replica's BYE must not reuse a CSeq this node may still send (a re-INVITE after
  // the save): it leaves room, which §12.2.2 allows (CSeq only has to grow).
  d.next_local_cseq = dialog.local_cseq().value_or(0) + 1000;
  d.refresh_by_update = dialog.PeerAllowsUpdate();
  d.outbound = dialog.is_uac();
  d.we_offered = dialog.is_uac();
}

// The interval at which this node refreshes a session under `terms` (none: no timer).
uint32_t RefreshInterval(const std::optional<sip::SessionTerms>& terms) {
  return terms && terms->we_refresh ? terms->interval : 0;
}

std::optional<sip::SessionTerms> TermsOf(const std::optional<sip::SessionTimer>& timer) {
  if (!timer) return std::nullopt;
  return timer->terms();
}

}  // namespace

sip::Destination B2bua::CallerEntry(const Call& call) const {
  return call.invite ? endpoint_.EntrySource(*call.invite, call.a_source) : call.a_source;
}

void B2bua::NoteEntry(const sip::DialogId& dialog, const Target& answered) {
  if (answered.entry) endpoint_.SetDialogEntry(dialog, answered.destination, *answered.entry);
}

StoredDialog B2bua::Snapshot(const sip::DialogId& id) const {
  StoredDialog d;
  d.id = id;
  if (const sip::Dialog* dialog = endpoint_.FindDialog(id)) Describe(*dialog, d);
  if (auto peer = endpoint_.DialogPeer(id)) d.peer = *peer;
  d.entry = endpoint_.DialogEntry(id);
  return d;
}

StoredCall B2bua::Answering(const Call& call) const {
  StoredCall stored = Stored(call);
  // Kept only if the answer goes through (Connected), at about the time it records.
  stored.answer_time = endpoint_.clock().WallNow();
  if (call.one_legged) return stored;
  // The endpoint creates the caller's dialog when it sends our 200, after the node took the
  // callee's answer; the library builds it from the INVITE alone, as the endpoint will (the
  // initial CSeq is one we have not used: none is stored for a dialog that sent nothing).
  StoredDialog& caller = stored.caller;
  caller = StoredDialog();
  caller.id = call.a_dialog;
  auto dialog = sip::Dialog::CreateUas(*call.invite, call.a_dialog.local_tag, 200,
                                       endpoint_.ContactUri(call.a_source.transport), 1);
  if (dialog.ok()) Describe(*dialog, caller);
  caller.we_offered = call.late_offer;
  caller.peer = sip::ResponseDestination(*call.invite, call.a_source);
  if (auto entry = CallerEntry(call); entry != call.a_source) {
    caller.entry = std::move(entry);
  }
  caller.local_sdp = call.a_sdp;
  caller.peer_sdp = call.invite->body();
  // The caller's session starts with our 200, under the terms it grants.
  caller.refresh_interval = RefreshInterval(call.a_timer.terms);
  return stored;
}

void B2bua::Save(const Call& call) { SaveStored(Stored(call)); }

void B2bua::StoreRinging(const std::string& id) {
  Call* call = Find(id);
  if (call == nullptr) return;
  call->ringing_store_timer = 0;
  if (call->phase != Phase::kRinging) return;
  call->ringing_stored = true;
  SaveStored(RingingRecord(*call));
}

StoredCall B2bua::RingingRecord(const Call& call) {
  StoredCall stored = BaseRecord(call);
  if (!call.originated) {
    stored.ringing_invite = call.invite->raw();
    stored.ringing_source = call.a_source;
  }
  for (const auto& leg : call.legs) {
    if (leg.done || leg.key.empty()) continue;
    std::string sent = endpoint_.SentRequest(leg.key);
    if (!sent.empty()) stored.ringing_forks.push_back({std::move(sent), leg.target.destination});
  }
  return stored;
}

StoredCall B2bua::RecordKey(const Call& call) const {
  StoredCall stored;
  stored.call_id = call.id;
  stored.tenant = call.caller.tenant;
  stored.node_id = call.home_node.empty() ? settings_.node_id : call.home_node;
  return stored;
}

StoredCall B2bua::BaseRecord(const Call& call) const {
  StoredCall stored = RecordKey(call);
  stored.media_node_id = call.media_node;
  stored.media_legs = MediaLegs(call);
  CopyEndedFacts(call, stored);
  stored.caller_party = call.caller;
  if (call.trunk) stored.callee_trunk_id = call.trunk->trunk_id;
  stored.b_party_uri = call.b_party_uri;
  stored.existing_only = call.revived;
  return stored;
}

void B2bua::SaveStored(StoredCall stored) {
  if (ports_.store.works_on_loop()) {
    ports_.store.SaveOnLoop(stored, nullptr, nullptr);
    return;
  }
  (void)offloader_.Run(
      [this, stored = std::move(stored)] { (void)ports_.store.Save(stored, nullptr); }, nullptr);
}

StoredCall B2bua::Stored(const Call& call) const {
  StoredCall stored = BaseRecord(call);
  if (!call.one_legged) {
    stored.caller = Snapshot(call.a_dialog);
    // Side a is the late-offer caller still, or a party we called (is_uac).
    stored.caller.we_offered = stored.caller.we_offered || call.late_offer;
    stored.caller.local_sdp = call.a_sdp;
    stored.caller.peer_sdp = call.a_session.peer_sdp;
    stored.caller.refresh_interval = RefreshInterval(TermsOf(call.a_session.timer));
  }
  if (call.b_dialog) {
    stored.callee = Snapshot(*call.b_dialog);
    // A late-offer caller answered by the answer command is the one party, on side b.
    stored.callee.we_offered = stored.callee.we_offered || (call.one_legged && call.late_offer);
    stored.callee.local_sdp = call.b_offer;
    stored.callee.peer_sdp = call.b_session.peer_sdp;
    stored.callee.refresh_interval = RefreshInterval(TermsOf(call.b_session.timer));
  }
  return stored;
}

}  // namespace sb::signaling::b2bua
