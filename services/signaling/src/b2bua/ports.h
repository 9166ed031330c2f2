// The B2BUA's edges: what it asks of the rest of the platform while it sets up and ends a call.
// Each is a narrow interface so that the call logic (b2bua.h) stays pure and is tested on a
// FakeClock; the service wires the real ones (admin lookups over NATS, bindings in Redis, a media
// node through libs/media_client, call events on JetStream, dialog state in Redis).
//
// Every method here may block (a bus request, a Redis round trip): the B2BUA calls them through
// its Offloader, never on the SIP loop thread, so implementations must be thread-safe. The
// exceptions are CallEvents and CallAuthorizer::ChallengeOnLoop, which must not block: they are
// called on the loop thread.
//
//   class AdminAuthorizer : public sb::signaling::b2bua::CallAuthorizer { ... };
//   sb::signaling::b2bua::Ports ports{authorizer, router, locator, media, events, store};
//   sb::signaling::b2bua::B2bua b2bua(clock, endpoint, offloader, ports, settings);
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/call_control.h"
#include "events/call_record.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/dialog.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/transaction.h"

namespace sb::signaling::b2bua {

// Who is calling, once the INVITE is authenticated: an extension (digest), or a carrier trunk
// of the tenant (matched by the INVITE's source address).
struct Caller {
  TenantId tenant;
  std::string domain;     // the tenant's SIP domain (the realm)
  std::string extension;  // the authenticated user; from a trunk: the calling number (From)
  std::string trunk_id;   // set when the call came in from this trunk
};

// code 0: authenticated (caller set); otherwise the response to send (407 with its challenge
// headers, 403, 503 ...).
struct AuthOutcome {
  int code = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  Caller caller;
};

// A call an originate command places: as `caller` (an extension of the tenant, whose domain it
// names) to the user part `dialed` (routed as if the extension had dialled it); or, with a
// `trunk_id`, as the tenant itself (no extension) out through that trunk only, presenting
// `trunk_caller_id` as the trunk's caller id policy allows.
struct Origination {
  Caller caller;
  std::string dialed;
  std::string from_uri;  // presented caller for calls inside the tenant; empty: the router's
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::string call_id;  // empty: a new one
  std::string trunk_id{};
  std::string trunk_caller_id{};
};

// Whom an originate command places its call as. Blocking (admin lookups): called on the command's
// thread, never on the SIP loop.
class Originators {
 public:
  virtual ~Originators() = default;
  // Extension `extension` of `tenant`, whose SIP domain is `domain`. NOT_FOUND when no tenant or
  // another tenant owns the domain, or the tenant has no such extension; FAILED_PRECONDITION for
  // a suspended tenant or a disabled extension; UNAVAILABLE when admin does not answer.
  virtual Result<Caller> Resolve(const TenantId& tenant, std::string_view domain,
                                 std::string_view extension) = 0;
  // The tenant itself (no extension; its domain filled in), for a call placed through one of
  // its trunks or to a tel: URI. NOT_FOUND for no such tenant, FAILED_PRECONDITION when it is
  // suspended, UNAVAILABLE when admin does not answer.
  virtual Result<Caller> AsTenant(const TenantId& tenant) = 0;
};

class CallAuthorizer {
 public:
  virtual ~CallAuthorizer() = default;
  // Digest authentication of a new INVITE (RFC 3261 §22.3: 407 + Proxy-Authenticate) that
  // entered the deployment at the address `entry` (SipEndpoint::EntrySource: behind the
  // balancer, the phone's or carrier's; bans are per address), or a carrier trunk recognised by
  // that address.
  virtual AuthOutcome Authorize(const sip::Message& invite, const std::string& entry) = 0;
  // Called on the SIP loop thread, so it must not block: the challenge Authorize would answer,
  // when that is sure without a Redis or admin round trip (nullopt: Authorize decides).
  virtual std::optional<AuthOutcome> ChallengeOnLoop(const sip::Message& invite,
                                                     const std::string& entry) = 0;
};

// A carrier gateway a call goes out to.
struct TrunkGateway {
  std::string trunk_id;
  sip::Destination destination;
  // Where the gateway is also reached, in order (RFC 3263 §4.3: tried when one fails).
  std::vector<sip::Destination> alternates;
  std::string request_uri;  // sip:<number as the carrier wants it>@host:port
  std::string from_user;    // the caller id to present; empty when anonymous (RFC 3323)
  std::string username;     // digest credentials for the carrier's 401/407; empty: none
  std::string password;
};

// Where a dialled call goes: code 0 and an extension to locate or a trunk; otherwise the final
// response (404 nothing by that number, 403 refused, 480 nobody takes it, 503 admin unreachable).
struct Route {
  int code = 0;
  std::string reason;
  std::string cause;      // the call event's cause when refused
  std::string domain;     // the callee's tenant's SIP domain (extensions register there)
  std::string extension;  // the callee's SIP username (its registrations)
  std::optional<TrunkGateway> trunk;
  std::string from_uri, to_uri;  // the call as events show it
};

class CallRouter {
 public:
  virtual ~CallRouter() = default;
  // `dialed` is the user part of the INVITE's Request-URI.
  virtual Route Resolve(const Caller& caller, std::string_view dialed) = 0;
  // Out through the caller's tenant's trunk `trunk_id` only, by its prefix rules (an originate
  // naming the trunk), presenting `caller_id` as the trunk's policy allows: 404 when the tenant
  // has no such trunk or none of its rules matches `dialed`.
  virtual Route ThroughTrunk(const Caller& caller, std::string_view trunk_id,
                             std::string_view dialed, std::string_view caller_id) = 0;
};

// One registered contact of the callee, as the registrar stored it.
struct Target {
  std::string contact_uri;        // the Request-URI of our INVITE
  sip::Destination destination;   // where the REGISTER came from (NAT: its public address)
  std::vector<std::string> path;  // RFC 3327 Path values, sent as Route
  // A gateway's further destinations (RFC 3263 §4.3): the INVITE goes to the next when one
  // stays silent, times out or answers 503.
  std::vector<sip::Destination> alternates = {};
  // Where the phone registered from as a proxy in front saw it (its Path entry's received);
  // the answering leg's remote_source when `destination` is a trusted proxy (the balancer).
  std::optional<sip::Destination> entry = std::nullopt;
};

// A trunk's carrier gateway as the one contact a routed call (or transfer) rings.
inline Target GatewayTarget(const TrunkGateway& trunk) {
  return Target{.contact_uri = trunk.request_uri,
                .destination = trunk.destination,
                .path = {},
                .alternates = trunk.alternates};
}

class CalleeLocator {
 public:
  virtual ~CalleeLocator() = default;
  // The live contacts of extension `number` of the tenant. NOT_FOUND: no such extension (404);
  // an empty list: nobody registered (480); UNAVAILABLE: admin or Redis did not answer (503).
  virtual Result<std::vector<Target>> Locate(const TenantId& tenant, std::string_view domain,
                                             std::string_view number) = 0;
};

// A media node anchoring the call (libs/media_client): every leg's SDP is the node's.
class MediaAnchor {
 public:
  virtual ~MediaAnchor() = default;
  struct Leg {
    std::string node_id;
    std::string sdp;    // the node's SDP for this leg (its answer, or its offer)
    std::string codec;  // when known
  };
  // A leg on `node_id` (empty: the least-loaded live node). With an offer the node answers it;
  // without one the node offers.
  virtual Result<Leg> CreateLeg(const TenantId& tenant, std::string_view call_id,
                                std::string_view leg_id, std::string_view node_id,
                                std::string_view offer) = 0;
  // The endpoint's answer to the node's offer (is_offer false), or a new offer from it (true,
  // re-INVITE): the node's answer then comes back.
  virtual Result<Leg> UpdateLeg(std::string_view node_id, std::string_view leg_id, bool is_offer,
                                std::string_view sdp) = 0;
  // True when the node transcodes between the two legs.
  virtual Result<bool> Bridge(std::string_view node_id, std::string_view a, std::string_view b) = 0;
  virtual Status DestroyLeg(std::string_view node_id, std::string_view leg_id) = 0;

  // What a two-party call asks of its node, each in one go where the node can do it in one
  // request (the defaults here compose the single-leg calls above, for anchors that cannot).
  struct LegPair {
    Leg a, b;
  };
  // Leg `a` answers the caller's `offer` on the least-loaded live node; leg `b`, on the same
  // node, offers to the callee. All or nothing: on failure no leg is left behind.
  virtual Result<LegPair> CreateLegPair(const TenantId& tenant, std::string_view call_id,
                                        std::string_view a, std::string_view b,
                                        std::string_view offer) {
    auto leg_a = CreateLeg(tenant, call_id, a, {}, offer);
    if (!leg_a.ok()) return leg_a.status();
    auto leg_b = CreateLeg(tenant, call_id, b, leg_a->node_id, {});
    if (!leg_b.ok()) {
      (void)DestroyLeg(leg_a->node_id, a);
      return leg_b.status();
    }
    return LegPair{std::move(*leg_a), std::move(*leg_b)};
  }
  // The callee's `answer` to leg `b`'s offer; then, when `bridge_with` is not empty, `b` bridged
  // with that leg.
  virtual Status AnswerLeg(std::string_view node_id, std::string_view b, std::string_view answer,
                           std::string_view bridge_with) {
    auto updated = UpdateLeg(node_id, b, false, answer);
    if (!updated.ok() || bridge_with.empty()) return updated.status();
    auto bridged = Bridge(node_id, bridge_with, b);
    return bridged.ok() ? Status::Ok() : bridged.status();
  }
  // AnswerLeg without blocking its caller (the SIP loop): `done` gets the outcome, from any
  // thread. This default runs AnswerLeg at once, for anchors that do not block.
  virtual void AnswerLegAsync(std::string_view node_id, std::string_view b, std::string_view answer,
                              std::string_view bridge_with, std::function<void(Status)> done) {
    done(AnswerLeg(node_id, b, answer, bridge_with));
  }
  // Every one of `legs`; the first failure is returned, after trying them all.
  virtual Status DestroyLegs(std::string_view node_id, const std::vector<std::string>& legs) {
    Status first = Status::Ok();
    for (const auto& leg : legs) {
      Status s = DestroyLeg(node_id, leg);
      if (first.ok() && !s.ok()) first = s;
    }
    return first;
  }
  // DestroyLegs for a caller that does not wait for the outcome (the legs' call is over, and a
  // node that is gone took its legs with it). Called on the SIP loop: an anchor whose requests
  // block overrides it with one that does not; the default is for those that do not block.
  virtual void ReleaseLegs(std::string_view node_id, const std::vector<std::string>& legs) {
    (void)DestroyLegs(node_id, legs);
  }
  // Each leg's media statistics as its node measured them to the end, by leg id.
  using LegFinals = std::map<std::string, MediaStats>;
  // ReleaseLegs for a call whose ended event carries its legs' final statistics: `done` gets
  // them, from any thread (none when the node did not say: gone, too slow, or a leg unknown).
  // Called on the SIP loop, never blocking it. The default, for anchors that measure nothing:
  // ReleaseLegs, then none.
  virtual void ReleaseLegsReporting(std::string_view node_id, const std::vector<std::string>& legs,
                                    std::function<void(LegFinals)> done) {
    ReleaseLegs(node_id, legs);
    done({});
  }
  // What the leg's endpoint hears instead of its peer, until done or stopped (a WAV file on the
  // node, or a named tone of call_ops::kTones): the playback id.
  virtual Result<std::string> Play(std::string_view node_id, std::string_view leg_id,
                                   const PlayParams& params) = 0;
  virtual Status StopPlay(std::string_view node_id, std::string_view leg_id) = 0;
  virtual Result<RecordingStarted> RecordStart(std::string_view node_id, std::string_view leg_id,
                                               const RecordParams& params) = 0;
  virtual Status RecordStop(std::string_view node_id, std::string_view leg_id) = 0;
};

// What the call looks like to the outside (call events, CDRs).
struct CallSummary {
  std::string call_id;
  TenantId tenant;
  std::string from_uri, to_uri;
  std::string answered_leg;  // empty until answered
  int sip_code = 0;          // ringing: 180/183; ended: the final code (200 when answered)
  std::string cause;         // ended: "normal", "caller_cancelled", "busy", "no_answer", ...
  // By the B2BUA's clock, and kept with the stored call: a replica that ends a call another
  // one carried reports the same duration and billable time. Unset: not known (not answered).
  std::optional<core::Clock::WallTime> start_time, answer_time;
  // Each party's media leg and dialog (StoredLegs); empty: as the call's last event said.
  std::vector<LegRecord> legs;
};

// A call event as it will be sent (the stream's subject, body and de-duplication id), for a
// store to keep with the change it reports; `call` is what it reports.
struct PreparedEvent {
  enum class Kind { kAnswered, kEnded };
  Kind kind = Kind::kEnded;
  CallSummary call;
  bus::JsOutbound message;
};

// Queues the event and returns at once (the B2BUA calls it on its loop thread, in the order the
// call's events happen); storing it, and reporting a failure, is the implementation's business.
class CallEvents {
 public:
  virtual ~CallEvents() = default;
  virtual void Created(const CallSummary& call) = 0;
  virtual void Ringing(const CallSummary& call) = 0;
  virtual void Answered(const CallSummary& call) = 0;
  virtual void Ended(const CallSummary& call) = 0;

  // Answered and Ended in two steps, for the changes the store records: the store keeps the
  // event in the step that saves the answered call or removes the ended one (CallStore::Save,
  // Remove), so that a replica killed at any point loses neither the change nor its event (an
  // answered call's webhooks, an ended one's charge). Prepare* builds the event (nullopt: it
  // cannot be built, and the implementation has said why); SendPrepared queues it once the store
  // answered, `kept` when the store holds it (it is let go there once stored).
  virtual std::optional<PreparedEvent> PrepareAnswered(const CallSummary& call) = 0;
  virtual std::optional<PreparedEvent> PrepareEnded(const CallSummary& call) = 0;
  virtual void SendPrepared(PreparedEvent event, bool kept) = 0;
};

// What another replica needs to end an answered call after this one died: both dialogs as
// seen from this node and where their peers are, and the media legs.
struct StoredDialog {
  sip::DialogId id;  // our side: local tag is ours
  std::string local_uri, remote_uri, remote_target;
  std::vector<std::string> route_set;
  uint32_t next_local_cseq = 1;
  sip::Destination peer;
  // Where the party stands as the balancer in front saw it, when that is not `peer`
  // (SipEndpoint::DialogEntry: where its INVITE came from, or where it registered from); its
  // leg's remote_source in the call's events. Not in a record from before version 9.
  std::optional<sip::Destination> entry;
  // The description this node last sent the peer, and the peer's own last one: a session
  // refresh that repeats the peer's is answered with ours again (RFC 3264 §8), by any replica.
  // Empty: not known (a record from an older replica), so no refresh can be answered from it.
  std::string local_sdp, peer_sdp;
  // RFC 4028: the session interval (seconds) at which this node refreshes the peer, 0 when it
  // does not (the peer refreshes, or no timer runs); and whether by UPDATE (the peer allows it)
  // rather than a re-INVITE. The adopter's probes are that refresh, so the session outlives the
  // node that negotiated it.
  uint32_t refresh_interval = 0;
  bool refresh_by_update = false;
  // We sent the INVITE that made this dialog (a callee, a transfer target): the party's leg is
  // outbound in the call's events; a party that called us, inbound. A record from before version
  // 6 says neither, and is read as the caller inbound and the callee outbound.
  bool outbound = false;
  // The dialog's first offer was ours (we called the party, or it called us without one): the
  // peer's description is the answer, whose first codec the leg's events name; otherwise ours.
  // Before version 6, read as for `outbound`.
  bool we_offered = false;
};
// Our INVITE to one contact of a ringing call, as sent (with our Via and its branch), and
// where it went: another replica builds its CANCEL (§9.1) from it.
struct StoredFork {
  std::string invite;
  sip::Destination peer;
};
struct StoredCall {
  std::string call_id;
  TenantId tenant;
  std::string node_id;  // the run of the signaling node carrying it (Settings::node_id)
  std::string media_node_id;
  std::vector<std::string> media_legs;
  StoredDialog caller, callee;
  // For the "ended" event of the replica that ends it (CallSummary's fields of the same names).
  std::string from_uri, to_uri, answered_leg;
  std::optional<core::Clock::WallTime> start_time, answer_time;
  // Who the parties are, for a transfer another replica makes from the record: the caller as
  // authenticated (its domain empty in a record from before version 7), and the trunk side b
  // went out through (empty: none).
  Caller caller_party;
  std::string callee_trunk_id;
  // Call::b_party_uri (empty: side b is to_uri); not in a record from before version 8.
  std::string b_party_uri;
  // A call still ringing (Settings::store_ringing_after): the caller's INVITE as it came and
  // from where, which another replica answers when this node dies, and our INVITEs to the
  // contacts, which it cancels. Empty for an answered call.
  std::string ringing_invite;
  sip::Destination ringing_source;
  std::vector<StoredFork> ringing_forks;
  // Saved only over a record still there, never made again: a call read from the store (or
  // revived from it), which another replica may have ended meanwhile. Not part of the record.
  bool existing_only = false;
};

class CallStore {
 public:
  virtual ~CallStore() = default;
  // Saves the call, and keeps `answered` (may be null) in the same atomic step, until the stream
  // has it (CallEvents::PrepareAnswered).
  virtual Status Save(const StoredCall& call, const PreparedEvent* answered) = 0;
  // NOT_FOUND when no call holds that dialog (by Call-ID and our tag).
  virtual Result<StoredCall> FindByDialog(std::string_view sip_call_id,
                                          std::string_view local_tag) = 0;
  virtual Result<StoredCall> Find(std::string_view call_id) = 0;
  // Removes the call and the keys of the dialogs `call` names, or of the stored copy's dialogs
  // when it names none; and keeps `ended` (may be null) in the same atomic step, until the
  // stream has it (CallEvents::PrepareEnded).
  virtual Status Remove(const StoredCall& call, const PreparedEvent* ended) = 0;

  // A store that talks from the SIP loop without blocking (works_on_loop) saves and removes
  // there: `done` (may be empty) runs on the loop with the outcome, and requests are carried out
  // in the order made. RemoveOnLoop's `call` names its dialogs. The defaults, for stores that do
  // not block, run Save and Remove on the spot.
  using Done = std::function<void(Status)>;
  virtual bool works_on_loop() const { return false; }
  virtual void SaveOnLoop(const StoredCall& call, const PreparedEvent* answered, Done done) {
    Status saved = Save(call, answered);
    if (done) done(saved);
  }
  virtual void RemoveOnLoop(const StoredCall& call, const PreparedEvent* ended, Done done) {
    Status removed = Remove(call, ended);
    if (done) done(removed);
  }
  // Keeps `event` on its own, for a call that ends before it was ever saved (busy, no answer,
  // cancelled): its ended event outlives the node as an answered call's does. The default keeps
  // nothing (FAILED_PRECONDITION), and the event is then sent unkept.
  virtual void KeepOnLoop(const PreparedEvent&, Done done) {
    if (done) done(Status::FailedPrecondition("this store keeps no event on its own"));
  }
};

struct Ports {
  CallAuthorizer& authorizer;
  CallRouter& router;
  CalleeLocator& locator;
  MediaAnchor& media;
  CallEvents& events;
  CallStore& store;
};

}  // namespace sb::signaling::b2bua
