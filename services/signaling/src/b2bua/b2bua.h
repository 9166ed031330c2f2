// B2bua: calls of a tenant's extensions and carrier trunks, as a back-to-back user agent (RFC
// 3261 §6 "B2BUA", RFC 7092). A call is the caller's inbound (UAS) leg and one outbound (UAC) leg
// per registered contact of the callee, or one to the carrier gateway of a trunk; media is
// anchored on a media node for every call.
//
//   caller --INVITE--> [auth 407? / trunk by source] [route: extension, number or trunk]
//                      [locate callee] [media: leg a (answer), leg b (offer)]
//          <--100----  (the INVITE server transaction, at once)
//                      --INVITE (node's offer)--> every contact of the callee (ring all)
//          <--180/183-- relayed once                <--180/183--
//          <--183 (node's answer)--  early media: a callee's 18x SDP completes leg b, bridged
//          <--200 (node's answer)--   first 2xx wins, CANCEL the rest, bridge a<->b
//   BYE from either side: 200, BYE the other, destroy the legs, "ended".
//   CANCEL from the caller: 487 (endpoint), CANCEL every callee leg.  Busy: 486 relayed.
//   No answer within no_answer_timeout: CANCEL + 480.  A contact that has said nothing at all
//   (not even 100) within silent_contact_timeout is given up as a 408 while the others ring on:
//   a phone gone without un-registering no longer holds the caller for the whole no-answer
//   time, or Timer B's 32 s, when it was the only one.  Unknown extension: 404.  Nobody
//   registered: 480.  Routing refused: the router's code (404, 403, 480, 503).  A carrier's
//   401/407 is answered once with the trunk's outbound credentials; a challenge that cannot be
//   answered is 403 to the caller (who could not answer it for us).  re-INVITE / UPDATE (hold,
//   unhold): the node re-anchors that side, the other side gets the direction passed on.  INFO /
//   OPTIONS in a dialog: relayed.
//   Session timers (RFC 4028) on each leg as its own UA: negotiated with the caller (422 below
//   our Min-SE) and with the callee (one retry after its 422); the refresher's refresh is an
//   UPDATE (re-INVITE when the peer does not allow UPDATE); a refresh with the SDP unchanged is
//   answered here; a session not refreshed in time ends the call (b2bua_session_timer.cpp).
//   REFER (blind transfer, RFC 3515 / RFC 5589 §6) from either side, or a transfer command:
//   202, NOTIFY sipfrag progress, the target routed as if the party that stays dialled it (an
//   extension's contacts, or a trunk's gateway) and rung with a new leg on the same node;
//   its answer replaces the transferor (BYE) and is bridged to the party that stays; a failure
//   leaves the call as it was (b2bua_transfer.cpp).
//
// Pure: the SIP side goes through SipEndpoint, time through its clock and timers, and every
// blocking step (Ports: admin, Redis, media node) through the Offloader, whose continuation runs
// back on the loop. A continuation finds its call by id; a call that ended meanwhile cleans up
// what the step created. Answered calls are saved in the CallStore so that another replica can
// still end them (BYE both legs) when this one has died: unknown dialogs are looked up there.
//
//   sb::signaling::b2bua::B2bua b2bua(endpoint, offloader, ports, {.node_id = "sig-1"});
//   endpoint.SetHandler(sb::sip::Method::kInvite, &b2bua);
//   endpoint.SetDialogHandler(&b2bua);
//   b2bua.Hangup(call_id);   // a hangup command
//
// Thread-safety: none; it lives on the SIP loop thread like the endpoint.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "b2bua/ports.h"
#include "runtime/offloader.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/sdp.h"
#include "switchboard/sip/session_timer.h"
#include "transport/sip_endpoint.h"

namespace sb::signaling::b2bua {

struct Settings {
  // This run of the signaling node (its id and a random part, store/redis_call_owners.h),
  // stored with each call: whose calls another replica adopts once this run is gone.
  std::string node_id;
  std::chrono::milliseconds no_answer_timeout{std::chrono::seconds(30)};
  // A live phone answers an INVITE within milliseconds (100 Trying, 180); this long covers the
  // INVITE and its first three retransmissions over UDP (sent at 0, 0.5, 1.5 and 3.5 s).
  std::chrono::milliseconds silent_contact_timeout{std::chrono::seconds(5)};
  // A call still ringing this long is stored (its INVITEs), so that another replica can end it
  // should this node die: CANCEL the contacts, a 500 to the caller, "ended". A call answered
  // sooner (by a machine) never costs the write; one whose node dies sooner is left ringing
  // until the contacts' and the caller's own timers give up, with no "ended". The same window
  // as the created and ringing events' own (JsOutboxOptions::journal_after).
  std::chrono::milliseconds store_ringing_after{250};
  // RFC 4028 on both legs: asked of the callee, granted to a caller that asks none, the minimum.
  sip::SessionTimerPolicy session_timer{};
  uint64_t seed = 0;  // call ids and tags; 0: std::random_device
};

// RFC 3261 §16.7 step 6 in spirit: the response the caller gets when every contact failed with
// `codes`, and the end cause it stands for.
std::pair<int, std::string_view> ChooseFailure(const std::vector<int>& codes);

// The final answer to a probe of an adopted call's party (B2bua::ProbeStored; 0: none came) says
// its dialog is gone: 481, 408 or nothing at all.
bool StoredPartyGone(int code);

// A record of a call that was still ringing (StoredCall::ringing_*), not an answered one.
bool StoredRinging(const StoredCall& call);

// The legs a call event lists (CallSummary::legs), from a call's record: each media leg, with
// the dialog of the party it anchors (the caller's side inbound, the callee's outbound) and the
// codec of the answer on it. A one-legged call has the callee's side only.
std::vector<LegRecord> StoredLegs(const StoredCall& call);

class B2bua final : public RequestHandler, public DialogHandler {
 public:
  // Everything is borrowed and must outlive the B2BUA.
  B2bua(SipEndpoint& endpoint, Offloader& offloader, Ports ports, Settings settings);

  // RequestHandler: a new INVITE; a CANCEL that ended one.
  void OnRequest(const IncomingRequest& request, SipEndpoint& endpoint) override;
  void OnCancelled(std::string_view invite_key, SipEndpoint& endpoint) override;
  void OnPrackTimeout(std::string_view invite_key, SipEndpoint& endpoint) override;
  // DialogHandler: requests inside a call's dialogs (and dialogs only the store knows).
  void OnDialogRequest(const IncomingRequest& request, SipEndpoint& endpoint) override;
  void OnAckTimeout(const sip::DialogId& dialog, SipEndpoint& endpoint) override;

  // Ends a call of `tenant` from outside (a hangup command): a final response (480) before an
  // answer, BYE both legs after. A call this node does not hold is ended from the store (another
  // replica set it up). `done` runs on the loop with OK, or NOT_FOUND when the tenant has no
  // such call (another tenant's call included).
  void Hangup(const TenantId& tenant, std::string_view call_id, std::function<void(Status)> done);
  // Answers the caller of a call of `tenant` still ringing here (an answer command: the
  // platform takes the call, e.g. for a recorded message once nobody picks up): 200 with the
  // media node's description (for a late-offer caller its offer, answered in the ACK), the
  // contacts rung cancelled and their media leg released. The
  // caller is then the call's one party (as an originated call's callee): play, record,
  // transfer and bridge act on it, its BYE ends the call. `done` runs on the loop: OK; NOT_FOUND
  // for another tenant's call or one not carried here; FAILED_PRECONDITION for a call answered
  // already, placed by an originate command, or not ringing yet.
  void AnswerCaller(const TenantId& tenant, std::string_view call_id,
                    std::function<void(Status)> done);
  // Blind transfer of an answered call's caller to `target_uri` (sip:<user>@<the tenant's domain>,
  // routed as if the caller had dialled the user: an extension, a number of the tenant, a trunk):
  // the callee's side is replaced by the target once it answers (a transfer command); a
  // one-legged call's party gets the target as its other side. `done` runs on the loop once the
  // target is being rung: OK; NOT_FOUND for another tenant's call or a target nothing routes to;
  // FAILED_PRECONDITION for a call not answered (or not held here) or already being transferred,
  // or a target nobody can take (not registered, refused route); INVALID_ARGUMENT for a target
  // outside the tenant. The outcome is in the call events (a new answered leg, or none).
  void Transfer(const TenantId& tenant, std::string_view call_id, std::string_view target_uri,
                std::function<void(Status)> done);

  // Media work on the caller's leg of an answered call of `tenant` (play, record commands): `work`
  // runs on the offloader with the anchor, the call's node and that leg; `done` runs on the loop
  // with its status, or NOT_FOUND for another tenant's call or one nobody stores,
  // FAILED_PRECONDITION before the answer. A call this node does not carry is worked on from the
  // store (another replica set it up and is gone), as Hangup ends one.
  using LegWork = std::function<Status(MediaAnchor& media, const std::string& node_id,
                                       const std::string& leg_id)>;
  void OnCallerLeg(const TenantId& tenant, std::string_view call_id, LegWork work,
                   std::function<void(Status)> done);

  // Places a call as `origination.caller` (an originate command; b2bua_originate.cpp): this node
  // is the UAC and the answered call has one leg. `created` runs on the loop once the call is
  // routed, with its id; a refused route is its status instead (NOT_FOUND for 404,
  // FAILED_PRECONDITION for 403 and 480, UNAVAILABLE for 503) and no call exists.
  void Originate(Origination origination, std::function<void(Result<std::string>)> created);
  // Joins two answered calls of `tenant` on one media node into `call_id` (a bridge command;
  // b2bua_bridge.cpp): each call's party (the caller, or an originated call's one leg) is
  // bridged to the other's, the other sides are hung up, and `other_id` ends with cause
  // "bridged". Calls on two media nodes are joined on `call_id`'s: the other call's party is
  // moved there first (a new leg, offered to it in a re-INVITE). NOT_FOUND / FAILED_PRECONDITION
  // as for the other commands; FAILED_PRECONDITION for calls being transferred or bridged, or
  // whose party refuses the move.
  void Bridge(const TenantId& tenant, std::string_view call_id, std::string_view other_id,
              std::function<void(Status)> done);

  // The media node heard nothing from the endpoint of `leg_id` for its RTP timeout (media's
  // rtp_timeout event): when that is a party of an answered call here whose last description
  // is sendrecv, the phone is gone without a BYE (crashed, unplugged, its network lost), and the
  // call ends as a BYE would end it, on both sides, with cause media_failure, rather than be
  // billed until a session refresh fails. A party on hold, or holding, sends nothing rightly
  // (sendonly, recvonly, inactive): nothing happens, and its silence is timed anew once its
  // description changes. A leg of no call here (another replica's, one a transfer replaced) is
  // ignored.
  void OnMediaSilent(std::string_view leg_id);

  // A call this node adopted from a replica that died (b2bua/call_adopter.h), which nobody may
  // otherwise end: its parties still there? Each leg gets an in-dialog request (ProbeDialog: the
  // session refresh the dead node owed it, else an OPTIONS). A party that answers 481, or
  // nothing (408, a timeout), has lost the call (RFC 5057 §5.1); any other answer (a 500 for
  // an unexpected CSeq included) says it is there. Then the call ends as a BYE from one side
  // ends it on a replica without it: BYE to the other party, media released, the call removed
  // from the store, "ended" with cause node_failure. `done` runs on the loop: true while the
  // call goes on (or the store cannot say), false once it ended here or nobody stores it; and
  // the time within which the next probe must come to refresh a session again (half the
  // shortest interval refreshed; zero when none was).
  using ProbeDone = std::function<void(bool going_on, std::chrono::milliseconds again_within)>;
  void ProbeStored(std::string call_id, ProbeDone done);

  // Calls carried, and those ended whose ended event waits for their media's final statistics.
  size_t calls() const { return calls_.size() + ending_; }

 private:
  enum class Phase {
    kAuthorizing,
    kRouting,
    kLocating,
    kAnchoring,
    kRinging,
    kAnswering,
    kConnected
  };
  enum class EarlyMedia { kNone, kPending, kBridged };
  struct CalleeLeg {
    std::string key;  // our INVITE's client transaction
    Target target;
    std::string sip_call_id, local_tag;
    uint32_t cseq = 1;
    bool challenged = false;  // a carrier's 401/407 was answered (once per call)
    // That challenge, kept for a retry of the same INVITE (after a 422), which answers it again
    // with the next nonce count.
    std::optional<sip::DigestChallenge> challenge;
    bool proxy_challenge = false;  // a 407's (Proxy-Authorization), not a 401's
    uint32_t nonce_count = 0;
    uint32_t session_expires = 0;  // RFC 4028 interval asked; 0: the policy's (raised by a 422)
    bool done = false;             // had its final response (or timed out, or was given up)
    int final_code = 0;
    bool heard = false;          // any response at all, 100 included
    uint64_t silence_timer = 0;  // Settings::silent_contact_timeout, while nothing is heard
  };
  // A blind transfer under way: side `replaced` (the transferor's; 'b' for a command) gives its
  // dialog and media leg to the target once one of the target's contacts answers.
  struct PendingTransfer {
    char replaced = 'b';
    bool refer = false;            // from a REFER: its implicit subscription gets NOTIFYs
    bool transferor_gone = false;  // the transferor hung up meanwhile (allowed after the 202)
    std::string to_uri, from_uri, referred_by;
    std::optional<TrunkGateway> trunk;  // the target is this carrier gateway
    std::string media_leg, offer;  // the target's new leg on the call's node, and its SDP offer
    std::vector<CalleeLeg> legs;
    bool ringing_notified = false;
    bool answered = false;
    uint64_t no_answer_timer = 0;
    std::function<void(Status)> started;  // a command: answered once the target rings
    // The answering target's 2xx: its session timer terms and description (RFC 4028).
    std::optional<sip::SessionTerms> session;
    std::string answer_sdp;
  };
  // RFC 4028 state of one side's dialog (b2bua_session_timer.cpp).
  struct LegSession {
    std::optional<sip::SessionTimer> timer;  // none: the peer did not take part
    uint64_t tu_timer = 0;
    std::string peer_sdp;     // the last description this side sent: a refresh may repeat it
    int refresh_retries = 0;  // of the refresh under way, after 491 or 5xx (kMaxRefreshRetries)
    // Our 200 to this side's re-INVITE without an offer carried ours: its ACK has the answer.
    bool answer_in_ack = false;
  };
  struct Call {
    std::string id;
    Phase phase = Phase::kAuthorizing;
    std::string a_key;  // the caller's INVITE server transaction (until answered)
    std::shared_ptr<const sip::Message> invite;  // the endpoint's; read on the loop only
    sip::Destination a_source;
    sip::DialogId a_dialog;
    Caller caller;
    std::string from_uri, to_uri;
    // Who side b is when that is not to_uri: the caller, once the answer command made it the
    // call's one party.
    std::string b_party_uri;
    std::optional<TrunkGateway> trunk;  // the callee is this carrier gateway
    std::string media_node, a_sdp, b_offer;
    std::vector<CalleeLeg> legs;
    std::optional<sip::DialogId> b_dialog;
    std::string answered_leg;
    core::Clock::WallTime started{};                   // the INVITE or the originate command
    std::optional<core::Clock::WallTime> answered_at;  // the first answer (a transfer keeps it)
    bool ringing_sent = false;
    // Early media: a callee's 18x SDP completes leg b and bridges it before the answer; the
    // final answer waits while that is under way (the node bridges a pair once).
    EarlyMedia early = EarlyMedia::kNone;
    std::string early_sdp;
    std::string answer_sdp;  // the answering callee's 200 SDP, until the node has it
    // The caller's INVITE had no offer (RFC 3261 §13.2.1): leg a offers in our 200, its answer
    // comes in the caller's ACK (awaited until then), and only then is leg a bridged; no early
    // media for such a caller.
    bool late_offer = false;
    bool awaiting_caller_answer = false;
    uint64_t no_answer_timer = 0;
    uint64_t ringing_store_timer = 0;  // Settings::store_ringing_after
    bool ringing_stored = false;       // the store has its ringing record (StoreRinging)
    // Each transfer gives the replaced side a new media leg: "<id>-a", "<id>-a1", ...
    int a_generation = 0, b_generation = 0;
    // A side a bridge brought in from another call keeps that call's media leg (its name).
    std::string a_leg_base, b_leg_base;
    // Placed by an originate command: no caller's INVITE to answer, leg b only, no early media.
    bool originated = false;
    // No side a (an originated call until a bridge gives it one): commands act on side b.
    bool one_legged = false;
    std::string dialed;                                // the user part the router resolves
    std::chrono::milliseconds ring_timeout{};          // 0: Settings::no_answer_timeout
    std::function<void(Result<std::string>)> created;  // an originate command's reply
    std::optional<PendingTransfer> transfer;
    bool moving = false;  // a bridge is moving its party to the other call's media node
    // Taken up from the store for a transfer (b2bua_revival.cpp), and put back once that is over;
    // its record stays in the set of `home_node` (the node whose calls adopters take over).
    bool revived = false;
    std::string home_node;
    sip::UasTimerAnswer a_timer;  // what the caller's 200 grants
    LegSession a_session, b_session;
    // What the set-up job found out past the route (SetUpWork), taken by Ring and Located
    // instead of asking again: the callee's contacts, and whether the leg pair was created (its
    // node and SDPs are the call's from the job's end, so that any failure releases them).
    std::optional<Result<std::vector<Target>>> located;
    std::optional<Status> anchored;
  };
  // What the worker found out for a new INVITE, each step only when the one before lets the call
  // go on; the loop then acts on the answers in the same order (Authorized ... Anchored).
  struct SetUp {
    AuthOutcome outcome;
    Route route;
    std::optional<Result<std::vector<Target>>> targets;  // an extension's contacts
    std::optional<Result<MediaAnchor::LegPair>> anchors;
  };
  // A request of one side waiting for the other side's answer (re-INVITE, UPDATE, INFO...).
  struct Relay {
    std::string server_key;
    std::string answer_sdp;  // the node's answer for the sending side (re-INVITE, UPDATE)
  };

  Call* Find(const std::string& id);
  std::string FreshCallId();  // a random UUID (version 4)
  // The answered call of `tenant` a command names: NOT_FOUND (another tenant's, or not carried
  // here), FAILED_PRECONDITION before the answer.
  Result<Call*> FindAnswered(const TenantId& tenant, std::string_view call_id);
  // Bridge (b2bua_bridge.cpp): the two answered calls a bridge joins, or why not.
  Result<std::pair<Call*, Call*>> Bridgeable(const TenantId& tenant, std::string_view call_id,
                                             std::string_view other_id);
  // `y`'s party onto media node `node`: a new leg there, offered to the party in a re-INVITE.
  // `moved` hears OK once the party accepted and the node has its answer (its old leg released);
  // otherwise why not, with the call as it was (or ended, when the party accepted the new leg
  // and the node then refused its answer).
  void MoveParty(Call& y, const std::string& node, std::function<void(Status)> moved);
  // The bridge itself, once `y`'s party is on `x`'s node.
  void Merge(Call& x, Call& y, std::function<void(Status)> done);
  // OnCallerLeg for a call only the store knows: the record's node and party leg, on a worker.
  void OnStoredCallerLeg(const TenantId& tenant, std::string id, LegWork work,
                         std::function<void(Status)> done);
  std::string MediaLeg(const Call& call, char side, int generation) const;
  std::string MediaLeg(const Call& call, char side) const {
    return MediaLeg(call, side, side == 'a' ? call.a_generation : call.b_generation);
  }
  CallSummary Summary(const Call& call) const;
  // The same with the call's record already made (Stored), its legs read from it.
  CallSummary Summary(const Call& call, const StoredCall& record) const;
  // The call's current media legs (side a's unless it is one-legged, side b's).
  std::vector<std::string> MediaLegs(const Call& call) const;
  // The leg commands act on: the caller's, or the one leg of a one-legged call.
  std::string PartyLeg(const Call& call) const;

  // On a worker: authorize, route, locate and create the leg pair (`a`, `b`) of call `id`.
  void SetUpWork(SetUp& setup, const sip::Message& invite, const std::string& entry,
                 const std::string& id, const std::string& a, const std::string& b);
  // On the loop: the call goes on with what the set-up job found (or its legs are released).
  void SetUpDone(const std::string& id, const std::string& a, const std::string& b, SetUp setup);
  // `route` is the router's answer when the outcome let the call be routed.
  void Authorized(const std::string& id, AuthOutcome outcome, Route route);
  void Routed(const std::string& id, Route route);
  // Rings the route's trunk gateway, or locates the callee extension's contacts.
  void Ring(const std::string& id, Route route);
  // An originated call's route (b2bua_originate.cpp): the command hears it, then Ring.
  void OriginateRouted(const std::string& id, Route route);
  // Leg b alone on the least-loaded node, offering (b2bua_originate.cpp).
  void AnchorOriginated(const std::string& id);
  void Located(const std::string& id, Result<std::vector<Target>> targets);
  void Anchored(const std::string& id, Status status);
  // Our INVITE to callee leg `index` of the call (again, with credentials, after a challenge);
  // false (the leg done with 503) when it could not be sent.
  bool SendLegInvite(const std::string& id, size_t index,
                     std::vector<std::pair<std::string, std::string>> headers);
  // True when the carrier's challenge was answered with the trunk's credentials.
  bool AnswerChallenge(const std::string& id, size_t index, const sip::Message& challenge);
  // The Authorization / Proxy-Authorization answering a carrier's 401/407 to `leg`'s INVITE
  // (carrying `sdp`) with `trunk`'s credentials, the leg's CSeq raised for the retry; none
  // when there is no trunk, no credentials, no usable challenge or the leg was challenged before.
  std::optional<std::pair<std::string, std::string>> ChallengeAnswer(
      CalleeLeg& leg, const std::optional<TrunkGateway>& trunk, const std::string& sdp,
      const sip::Message& challenge);
  // The leg's kept challenge answered with its next nonce count; none when it has none.
  std::optional<std::pair<std::string, std::string>> LegCredentials(
      CalleeLeg& leg, const std::optional<TrunkGateway>& trunk, const std::string& sdp);
  // The From (name-addr without tag) an INVITE to the callee presents: `from_uri`, or for a
  // carrier the caller id its trunk's policy says, or anonymous with Privacy added to `headers`.
  static std::string PresentedFrom(const std::optional<TrunkGateway>& trunk,
                                   const std::string& from_uri, const std::string& domain,
                                   std::vector<std::pair<std::string, std::string>>& headers);
  void OnCalleeResponse(const std::string& id, size_t leg, const ClientResponse& response);
  // Starts `leg`'s silence timer (Settings::silent_contact_timeout) unless it has been heard.
  void WatchSilence(CalleeLeg& leg, std::function<void()> on_silent);
  // Any response of `leg`'s peer, 100 included: it is alive (a timeout is no response).
  void Heard(CalleeLeg& leg, const ClientResponse& response);
  // Whether `leg` is still silent when its timer fires: then it is given up (a 408, its CANCEL
  // sent if it ever rings; a late 2xx is hung up or answers as any other would).
  bool GiveUpSilent(CalleeLeg& leg);
  // RFC 3263 §4.3: `leg`'s INVITE again, as a new transaction, to its gateway's next
  // destination (through `send`: SendLegInvite or SendTargetInvite for that leg), and to the one
  // after while it cannot be sent; false when none is left. A response to an earlier attempt is
  // then told by its transaction key (a 2xx is hung up).
  bool NextDestination(CalleeLeg& leg, const std::function<bool()>& send);
  // Whether `response` is to an attempt at a destination `leg` has left: then a 2xx is hung up.
  bool LeftBehind(const CalleeLeg& leg, const ClientResponse& response);
  // A timeout or a 503: what sends a gateway's INVITE to its next destination.
  static bool FailsOver(const ClientResponse& response);
  // Leg `leg` of a ringing call heard nothing in time: given up (or tried at its next
  // destination), and the call failed when no other leg is left.
  void OnSilentContact(const std::string& id, size_t leg);
  // Once every leg of a ringing call has its final response: the caller's failure.
  void FailIfNoLegLeft(const std::string& id);
  // The same for the legs ringing a transfer's target (b2bua_transfer.cpp).
  void OnSilentTarget(const std::string& id, const std::string& transfer_leg, size_t leg);
  void FailTransferIfNoLegLeft(const std::string& id);
  // A 18x to the caller (with the node's leg a SDP for early media); "ringing" once.
  void Ringing(Call& call, int code, std::string_view sdp);
  void StartEarlyMedia(const std::string& id, int code, std::string sdp);
  void Answer(const std::string& id, size_t leg, const sip::DialogId& dialog, std::string sdp);
  // The answering callee's SDP to the node (unless early media already carried it), then 200.
  void ConnectMedia(const std::string& id);
  // `saved`: the call's record went to the store with the node's answer (ConnectMedia's job).
  void Connected(const std::string& id, Status status, bool saved);
  // The call is answered from now on: saved (unless `saved`) with its answered event.
  void AnsweredNow(Call& call, bool saved);
  void NoAnswer(const std::string& id);
  // Before an answer: the caller gets `code` (unless it is 0: already answered, e.g. 487);
  // every callee leg still ringing is cancelled; the media legs go; "ended" is published.
  void Fail(const std::string& id, int code, std::string_view reason, std::string_view cause);
  // After an answer: BYE the side(s) named, destroy media, remove from the store, "ended".
  void Finish(const std::string& id, bool bye_caller, bool bye_callee, std::string_view cause);
  // On a worker (it blocks): `stored` leaves the store with the ended event of `ended` kept in
  // the same step (CallEvents::PrepareEnded), which is then sent.
  void EndStored(const StoredCall& stored, const CallSummary& ended);
  // What a store step that kept `event` (may be empty) calls back with its outcome: the event
  // sent, as kept when the step succeeded.
  CallStore::Done SendOnceStored(std::optional<PreparedEvent> event);
  // BYE in `dialog`, which the endpoint forgets once it is answered (or timed out).
  void HangUp(const sip::DialogId& dialog);
  // The legs go without anyone waiting for the node (MediaAnchor::ReleaseLegs); none when no node.
  void DestroyMedia(const std::string& media_node, std::vector<std::string> legs);
  // An ended call's legs released; then `then`, on the loop, with `ended` carrying their final
  // statistics (as far as the node said within its timeout).
  void ReleaseThenEnd(const std::string& media_node, std::vector<std::string> legs,
                      CallSummary ended, std::function<void(CallSummary)> then);
  void Save(const Call& call);
  // A call ringing past Settings::store_ringing_after: its record, with the caller's INVITE and
  // ours to the contacts still ringing, saved (again after a contact's INVITE is sent anew).
  void StoreRinging(const std::string& id);
  StoredCall RingingRecord(const Call& call);
  // What names a call's record for its removal (no dialogs: a ringing record has none).
  StoredCall RecordKey(const Call& call) const;
  // RecordKey with the call's media legs and what its "ended" event needs (from, to, times).
  StoredCall BaseRecord(const Call& call) const;
  // Saves a record as it is (no answered event), from the loop when the store can.
  void SaveStored(StoredCall stored);
  StoredCall Stored(const Call& call) const;
  // The record of a call being answered: the caller's dialog as our 200 will create it.
  StoredCall Answering(const Call& call) const;
  StoredDialog Snapshot(const sip::DialogId& id) const;
  // Behind the balancer, the party `answered` names stands where its Path says, not at the
  // balancer: its dialog's entry (SipEndpoint::SetDialogEntry), which its leg's events show.
  void NoteEntry(const sip::DialogId& dialog, const Target& answered);
  // Where the caller's INVITE entered the deployment (its source without a trusted proxy), as
  // the endpoint records it for the caller's dialog once our 200 creates that.
  sip::Destination CallerEntry(const Call& call) const;

  void OnInDialog(const IncomingRequest& request, Call& call, bool from_caller);
  void RelayRequest(const IncomingRequest& request, Call& call, bool from_caller);
  void ReOffer(const IncomingRequest& request, Call& call, bool from_caller,
               sip::UasTimerAnswer timer);
  // A request in a dialog of a call only the store knows: `then` runs on the loop with the
  // stored call and the side it came from; 481 when the store has no such dialog.
  void WithStoredDialog(const IncomingRequest& request,
                        std::function<void(const StoredCall&, bool from_caller)> then);
  void EndFromStore(const IncomingRequest& request);
  // The ACK answering the description a stored call's party got in our 200 to its re-INVITE
  // without an offer (AnswerFromStore): a changed one goes to the node and the record.
  void AckAnswerFromStore(const IncomingRequest& request);
  void AnswerFromStore(const IncomingRequest& request);
  // A session change (hold, unhold, a new codec) from one party of a stored call, as ReOffer
  // makes it for a live one: the node answers the offer on that party's leg, the other party
  // is re-offered its node description with the offerer's direction, and once it accepts, the
  // offerer gets the node's answer and the record the new descriptions.
  void ReOfferStored(const std::string& key, StoredCall call, bool from_caller,
                     const std::string& method, const std::string& offer,
                     const sip::UasTimerAnswer& timer);

  // Session timers (b2bua_session_timer.cpp).
  LegSession& Session(Call& call, char side) {
    return side == 'a' ? call.a_session : call.b_session;
  }
  // The session of `side` runs under `terms` from now (none: no timer on that leg).
  void StartSession(Call& call, char side, std::optional<sip::SessionTerms> terms);
  // A 2xx to a refresh of `side` in either direction.
  void SessionRefreshed(Call& call, char side, sip::SessionTerms terms);
  void ArmSession(Call& call, char side);
  void OnSessionTimer(const std::string& id, char side);
  // Our refresh as the refresher: UPDATE without a body, or a re-INVITE with the node's SDP.
  void SendRefresh(Call& call, char side);
  // Every re-INVITE or UPDATE we send `side`'s peer (a refresh, a hold passed on, a move to
  // another node) refreshes that dialog's session (RFC 4028 §9): it carries these headers (none
  // when no timer runs there), and its 2xx gives SessionAnswered the terms from then on.
  sip::HeaderLines SessionHeaders(Call& call, char side);
  void SessionAnswered(Call& call, char side, const sip::Message& response);
  // The same for a stored call's dialog, from its record.
  sip::HeaderLines StoredSessionHeaders(const StoredDialog& dialog) const;
  void StopSessions(Call& call);
  // A re-INVITE / UPDATE whose description is the one this side sent before (or none): answered
  // here with Session-Expires, without the node or the other side.
  void AnswerRefresh(const IncomingRequest& request, Call& call, bool from_caller,
                     const sip::UasTimerAnswer& timer);
  // A refresh of `side` refused with 491 or 5xx: sent again after a pause, at most
  // kMaxRefreshRetries times in a row (the session still expires if none succeeds).
  static constexpr int kMaxRefreshRetries = 3;
  void RetryRefresh(Call& call, char side);
  // The answer `side`'s peer gave to our refresh offer; a changed one goes to the node.
  void PeerAnswered(Call& call, char side, std::string answer);
  // The answer in the ACK to our offer in the 200 to a re-INVITE without one: PeerAnswered, and
  // a hold (or its end) given in it passes to the other side as a re-offer's does (ReOffer).
  void AckAnswered(Call& call, bool from_caller, std::string answer);
  // The late-offer caller's ACK: its answer to its leg, which the node then bridges to leg b
  // (none when the answer command made the caller the one party); an ACK without one ends the
  // call (RFC 3264 §5: the offer in our 200 must be answered).
  void CallerAnswered(Call& call, const sip::Message& ack);
  // The party `from_caller` does not name is re-offered its node description with `wanted` (a
  // hold passes through), as a new version; `then` (may be empty) gets the final response and
  // the call (null once gone), after which that party's answer is kept and the call saved.
  Status OfferDirection(Call& call, bool from_caller, sdp::Direction wanted,
                        const std::string& method,
                        std::function<void(const ClientResponse&, Call*)> then);
  // The same for a stored call (`record`, saved once the party answered, its CSeq moved).
  Status OfferDirectionStored(std::shared_ptr<StoredCall> record, bool from_caller,
                              sdp::Direction wanted, const std::string& method,
                              std::function<void(const ClientResponse&)> then);
  // After a 422 from a callee: its INVITE again, once, with the larger interval.
  bool RetryWithMinSe(const std::string& id, size_t index, const sip::Message& response);
  // RFC 4028 §7.3 for `leg`, whose INVITE (carrying `sdp`) got the 422 `response`: the interval
  // and the CSeq raised, and the retry's extra headers (the carrier's credentials again when it
  // challenged); none when the leg had its one retry or the 422 names nothing larger.
  std::optional<std::vector<std::pair<std::string, std::string>>> MinSeRetry(
      CalleeLeg& leg, const std::optional<TrunkGateway>& trunk, const std::string& sdp,
      const sip::Message& response);

  // A call only the store knows, carried here again (b2bua_revival.cpp): its dialogs held by the
  // endpoint, its parties and media legs from the record. The call already carried here when it
  // is; FAILED_PRECONDITION for a ringing call or a record that cannot carry it.
  Result<Call*> Revive(const StoredCall& record);
  // A revived call with nothing under way goes back to the store, no longer carried here (its
  // record saved as it is now, unless `saved` says the caller just did).
  void PutBackIfIdle(const std::string& id, bool saved = false);
  // A REFER in a dialog of `record` (its message held by `request.shared`): the call revived,
  // the transfer made as on a live call; 503 when the record cannot carry it.
  void ReferStored(const IncomingRequest& request, const StoredCall& record, bool from_caller);
  // The answered call of `tenant` (FindAnswered), or one only the store knows, revived; `then`
  // on the loop.
  void WithAnswered(const TenantId& tenant, std::string_view call_id,
                    std::function<void(Result<Call*>)> then);
  // The record of an answered call of `tenant` this node does not carry, read off the loop;
  // `then` on the loop, NOT_FOUND for none, another tenant's, or a ringing record (another
  // replica's call).
  void FindStoredAnswered(const TenantId& tenant, const std::string& id,
                          std::function<void(Result<StoredCall>)> then);

  // Blind transfer (b2bua_transfer.cpp).
  void OnRefer(const IncomingRequest& request, Call& call, bool from_caller);
  // Looks the target up, then rings it (TransferLocated, TransferAnchored); `started` (a command)
  // hears OK once it rings, or why it cannot.
  void StartTransfer(Call& call, char replaced, std::string_view dialed, bool refer,
                     std::string referred_by, std::function<void(Status)> started);
  // Who the router resolves a transfer target for: the party that stays (side `stays`), or,
  // when that is a carrier, the extension on the other side.
  static Caller Dialer(const Call& call, char stays);
  // The URI of the party on `side` (what a transfer target is shown, or the Referred-By).
  static const std::string& SideUri(const Call& call, char side);
  void TransferRouted(const std::string& id, Route route, Result<std::vector<Target>> targets);
  void TransferLocated(const std::string& id, Result<std::vector<Target>> targets);
  // Our INVITE to target leg `index` (again, with credentials, after a carrier's challenge).
  bool SendTargetInvite(const std::string& id, size_t index,
                        std::vector<std::pair<std::string, std::string>> headers);
  void TransferAnchored(const std::string& id, const std::string& leg_id,
                        Result<MediaAnchor::Leg> leg);
  void OnTargetResponse(const std::string& id, const std::string& transfer_leg, size_t index,
                        const ClientResponse& response);
  void TargetAnswered(const std::string& id, const sip::DialogId& dialog, Status media);
  // The transfer failed with `code`: the call goes on as before (or ends when the transferor
  // already left); the REFER's subscription hears the failure.
  void TransferFailed(const std::string& id, int code, std::string_view reason);
  // Cancels the target's legs and releases its media leg (the call ends or the transfer failed).
  void AbandonTransfer(Call& call);
  // A BYE from the transferor while its transfer runs: answered, the call stays for the target.
  void TransferorLeft(const IncomingRequest& request, Call& call);
  // NOTIFY in the transferor's dialog for the REFER's implicit subscription (RFC 3515 §2.4.4-5)
  // carrying `status_line` as message/sipfrag; `answered` (may be empty) once it has its final
  // response, timed out, or could not be sent.
  void NotifyTransferor(const sip::DialogId& dialog, std::string_view status_line, bool final,
                        std::function<void()> answered = nullptr);
  // Our INVITE to one contact (the callee's or a transfer target's) with the node's offer; `from`
  // is the From name-addr without its tag. False (the leg done with 503) when it could not be sent.
  bool SendInvite(CalleeLeg& leg, const std::string& from, const std::string& to_uri,
                  const std::string& sdp,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  ResponseCallback on_response);
  // A request in a dialog only the store knows, with CSeq `cseq`.
  Result<std::string> SendStored(std::string_view method, const StoredDialog& dialog, uint32_t cseq,
                                 ResponseCallback on_response, std::string_view body = {},
                                 std::string_view content_type = {},
                                 const sip::HeaderLines& headers = {});
  // The adopter's probe of `dialog`: the session refresh this node owes the peer when it is the
  // refresher (StoredDialog::refresh_interval), so that the session outlives the node that
  // negotiated it; an OPTIONS otherwise. `answered` gets the final code once (0: none came).
  Result<std::string> ProbeDialog(const StoredCall& call, const StoredDialog& dialog,
                                  std::function<void(int code)> answered);
  // Passes a request of one party of a stored call (its transaction `key`) to `other`, and the
  // final answer back.
  void RelayStored(const std::string& key, const StoredCall& call, const StoredDialog& other,
                   std::string_view method, std::string_view body, std::string_view content_type);
  // The CSeq of the next request this node sends in `dialog` of `call`, a dialog only the store
  // knows. Any replica may send in it (the adopter's probes, the BYE of the replica a party's
  // BYE reached), so the number grows with the time since the call was answered, one per
  // millisecond, from the stored one (which leaves room for what the dead node sent after its
  // save), and past this node's own last one. Replicas whose clocks differ by more than the time
  // between two of their requests in one dialog can still send a lower one (answered 500).
  uint32_t StoredCSeq(const StoredCall& call, const StoredDialog& dialog);
  static std::string StoredDialogKey(const StoredDialog& dialog);  // of stored_cseqs_
  void ByeStored(const StoredCall& call, const StoredDialog& dialog);
  // A call another replica left in the store: its media legs, its record and its final event
  // (`cause`), in one job off the loop.
  void ReleaseStored(StoredCall call, std::string cause, int sip_code = 200);
  // A stored call that was ringing when its node died: every contact's INVITE cancelled, the
  // caller answered 500 (the transaction made again here), then ReleaseStored.
  void EndRingingStored(StoredCall call);

  SipEndpoint& endpoint_;
  Offloader& offloader_;
  Ports ports_;
  Settings settings_;
  std::mt19937_64 rng_;
  std::map<std::string, Call> calls_;
  std::map<std::string, std::string, std::less<>> by_invite_key_;
  // StoredCSeq's last number per stored dialog (StoredDialogKey), until its call is
  // released here; past kMaxStoredCSeqs it starts again (the time alone still grows).
  std::map<std::string, uint32_t, std::less<>> stored_cseqs_;
  static constexpr size_t kMaxStoredCSeqs = 100'000;
  // A call's dialogs stay here until its ended event is out (ReleaseThenEnd), its call gone
  // from calls_: a request crossing our BYE meets 481, not the record still in the store.
  std::map<sip::DialogId, std::string> by_dialog_;
  size_t ending_ = 0;  // calls waiting in ReleaseThenEnd
  // A 2xx to our re-INVITE still owed its ACK is the endpoint's job; nothing kept here.
};

}  // namespace sb::signaling::b2bua
