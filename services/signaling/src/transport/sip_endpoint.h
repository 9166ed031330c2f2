// SipEndpoint: the front of the signaling service's SIP stack, between the transports (sockets)
// and the method handlers (registrar, B2BUA). Pure: no sockets, no threads, time from the
// injected Clock. It runs the transaction layer (libs/sip/transaction) and applies the checks
// every request passes before a handler sees it:
//   - a per-source rate limit (drop), size limit (513), malformed messages (400 built by the
//   message layer, or dropped when
//     they cannot be answered) -- the endpoint always goes on;
//   - Max-Forwards 0 on a request this service would have to forward (483, RFC 3261 §16.3 item 3);
//   - loop detection (482, §16.3 item 4): a Via this node wrote whose loop hash still matches;
//   - Require with an extension we do not support (420, §8.2.2.3; 100rel on INVITE is supported);
//   - OPTIONS answered 200, or 503 while draining so a balancer stops sending new work;
//   - methods nobody handles: 501 with Allow (§8.2.1).
//
//   sb::signaling::SipEndpoint endpoint(clock, metrics, {.advertised_host = "10.0.0.5",
//                                                        .advertised_port = 5060});
//   endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
//   endpoint.OnReceived(datagram, {"192.0.2.7", 40112, sb::sip::Transport::kUdp});
//   for (auto& send : endpoint.TakeSends()) transport.Send(send.destination, send.bytes);
//   loop.WakeAt(endpoint.NextDeadline());   then   endpoint.OnTimers();
//
// It is also the user agent core of both sides of a B2BUA (RFC 3261 §8.1, §12-§15):
//   - UAS: a 101-299 to an INVITE creates the dialog (our Contact added), a 2xx is resent until
//     its ACK (§13.3.1.4); requests with a To tag go to the dialog handler after the §12.2.2
//     CSeq check, and a CANCEL that ended an INVITE is reported to the INVITE's handler;
//     RFC 3262: to an INVITE with "Require: 100rel" every 101-199 is sent reliably (RSeq,
//     resent until its PRACK, which the endpoint answers), a 1xx or 2xx the RFC says must wait
//     for a PRACK is held and sent once it comes, and no PRACK within 64*T1 answers the INVITE
//     500 (reported to its handler like a CANCEL);
//   - UAC: SendRequest starts a client transaction (our Via and branch added) whose responses go
//     to a callback; INVITE responses create one dialog per fork (§12.1.2, §13.2.2.4), every 2xx
//     is ACKed at once (and again on its retransmissions), a reliable 1xx is PRACKed (RFC 3262
//     §4: in RSeq order, retransmissions not reported again), Cancel sends a CANCEL as soon as a
//     provisional response allows it (§9.1); SendInDialog sends BYE, re-INVITE, UPDATE, INFO...
//   Dialog requests go to the address the dialog was set up with (the phone's source address
//   behind NAT, or the binding's flow), not to a DNS lookup of the remote target.
//
//   auto key = endpoint.SendRequest(invite_builder, {"198.51.100.4", 41000, kUdp},
//       [](const ClientResponse& r, SipEndpoint& ep) { if (r.dialog) ...; });
//   endpoint.Cancel(*key);
//   endpoint.SendInDialog(*r.dialog, "BYE", nullptr);
//
// Thread-safety: none, one endpoint per event loop; SetDraining may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protection/source_rate_limiter.h"
#include "switchboard/core/cidr.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/string_map.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/dialog_set.h"
#include "switchboard/sip/invite_2xx.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/reliable_provisional.h"
#include "switchboard/sip/transaction_manager.h"

namespace sb::signaling {

struct EndpointConfig {
  // Where peers reach this node (sent-by of our Vias, Contact); also how our own Vias are
  // recognised in loop detection.
  std::string advertised_host;
  uint16_t advertised_port = 5060;
  sip::ParseLimits limits;
  sip::TimerConfig timers;
  size_t max_transactions = 200000;
  // Per source IP; over it messages are dropped before parsing. Off by default: behind the
  // balancer every message comes from its address.
  SourceLimits source_limits;
  // Proxies of ours that add their own Via (the balancer): a request from one entered where its
  // Via stamp says (EntrySource), which is what bans and trunk matching go by.
  std::vector<core::Cidr> trusted_proxies;
  // 0 seeds the tag generator from std::random_device; tests pass a fixed seed.
  uint64_t seed = 0;
};

// A new request of a server transaction, as a handler sees it.
struct IncomingRequest {
  std::string key;  // the server transaction; empty for an ACK to a 2xx (no transaction)
  const sip::Message* message = nullptr;  // valid for the duration of OnRequest
  sip::Destination source;
  // The To tag this endpoint answers with (empty for an ACK): with the Call-ID and From tag it
  // names the UAS dialog a 101-299 to this request creates.
  std::string local_tag;
  // A request with a To tag whose dialog this endpoint holds (after the §12.2.2 checks); nullopt
  // for one it does not know, which the dialog handler may find in a shared store.
  std::optional<sip::DialogId> dialog;
  // The same message, for a handler that answers later: kept alive by holding this, not copied.
  // A Message parses its fields lazily, so another thread may read it only while the loop does
  // not: until the request is answered, unless a CANCEL can answer it meanwhile (an INVITE).
  std::shared_ptr<const sip::Message> shared;
};

// What a client transaction reports to whoever sent its request.
struct ClientResponse {
  std::string key;                         // the client transaction
  const sip::Message* response = nullptr;  // nullptr when timed_out
  bool timed_out = false;                  // Timer B/F: act as on a 408 (§8.1.3.1)
  // An INVITE response with a To tag: the dialog of that fork (early or confirmed).
  std::optional<sip::DialogId> dialog;
};

class SipEndpoint;

// A method's Transaction User (registrar, B2BUA). It answers through SipEndpoint::Respond, at
// once or later from the same event loop (e.g. after an asynchronous lookup).
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void OnRequest(const IncomingRequest& request, SipEndpoint& endpoint) = 0;
  // The INVITE of server transaction `invite_key` was ended without its handler by a CANCEL
  // (answered 487).
  virtual void OnCancelled(std::string_view /*invite_key*/, SipEndpoint& /*endpoint*/) {}
  // ... or because a reliable provisional to it was never PRACKed (RFC 3262 §3: answered 500).
  virtual void OnPrackTimeout(std::string_view /*invite_key*/, SipEndpoint& /*endpoint*/) {}
};

// Requests with a To tag (ACKs for 2xx included) and dialogs whose 2xx never got an ACK.
class DialogHandler {
 public:
  virtual ~DialogHandler() = default;
  virtual void OnDialogRequest(const IncomingRequest& request, SipEndpoint& endpoint) = 0;
  // §13.3.1.4: no ACK within 64*T1 for our 2xx; the dialog should be ended with a BYE.
  virtual void OnAckTimeout(const sip::DialogId& /*dialog*/, SipEndpoint& /*endpoint*/) {}
};

// Called on the loop thread for every response (1xx included) and for a timeout.
using ResponseCallback = std::function<void(const ClientResponse&, SipEndpoint&)>;

class SipEndpoint {
 public:
  // Clock and metrics are borrowed and must outlive the endpoint.
  SipEndpoint(const core::Clock& clock, core::MetricsRegistry& metrics, EndpointConfig config);

  // The handler (borrowed) for new requests of `method`; nullptr removes it.
  void SetHandler(sip::Method method, RequestHandler* handler);
  // The handler (borrowed) for requests with a To tag; without one they get 481 (§12.2.2).
  void SetDialogHandler(DialogHandler* handler) { dialog_handler_ = handler; }

  // One datagram, or one message cut from a stream by sip::StreamFramer.
  void OnReceived(std::string_view bytes, const sip::Destination& source);
  void OnTimers();
  std::optional<core::Clock::TimePoint> NextDeadline() const;

  // A TU timer (the B2BUA's no-answer timeout): `fire` runs from OnTimers on the loop thread
  // once `after` has passed on the endpoint's clock. Returns an id for StopTimer (never 0).
  uint64_t StartTimer(std::chrono::milliseconds after, std::function<void()> fire);
  void StopTimer(uint64_t id);

  // Answers server transaction `key` with `code`; the To tag is the endpoint's for that request.
  // Extra header lines are added as given. NotFound when the transaction has had its final answer.
  // A 101-299 to an initial INVITE gets our Contact unless given and creates (or confirms) the
  // UAS dialog; a 2xx is then retransmitted until its ACK.
  Status Respond(std::string_view key, int code, std::string_view reason = {},
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 std::string_view body = {}, std::string_view content_type = {});

  // A final response to a non-INVITE request sent statelessly, as RFC 3261 §26.3.2.4 has
  // challenges sent: once, without the transaction's Timer J, so a retransmitted request is
  // handled (challenged) anew and unauthenticated requests hold no state.
  // FailedPrecondition for an INVITE, whose ACK the transaction must absorb, or a 1xx.
  Status RespondStatelessly(std::string_view key, int code, std::string_view reason = {},
                            const std::vector<std::pair<std::string, std::string>>& headers = {});

  // UAC (§8.1): sends a new request out of a dialog to `destination`. The builder holds the
  // request without Via (ours, with a loop-hash branch and rport, is put on top) and gets
  // Max-Forwards 70 if it has none. Returns the client transaction's key. An INVITE's 2xx are
  // ACKed by the endpoint; the callback sees each response once per fork.
  Result<std::string> SendRequest(const sip::MessageBuilder& request,
                                  const sip::Destination& destination, ResponseCallback callback);
  // §9.1: CANCEL of our INVITE `key`, sent once a provisional response came (at once if one
  // did). NotFound when the INVITE had its final response.
  Status Cancel(std::string_view key);
  // Our request of client transaction `key` as it was sent (empty once that transaction is
  // gone): what another replica needs to cancel our INVITE should this node die.
  std::string SentRequest(std::string_view key);
  // §9.1 for an INVITE another node sent (`invite`, as sent, to `destination`) and died with:
  // the CANCEL goes from here, its response comes back here (our Vias carry rport), and the
  // INVITE's 487 goes to the node that sent it.
  Status CancelSent(std::string_view invite, const sip::Destination& destination);
  // A final `code` (300-699) to an INVITE another node received (`invite`, as it came from
  // `source`) and died before answering: its server transaction is made again here without a
  // handler, so the response is retransmitted until the ACK (§17.2.1). FailedPrecondition when
  // this node holds that transaction already (the INVITE reached it too: a call of its own).
  Status AnswerReceived(std::string_view invite, const sip::Destination& source, int code,
                        std::string_view reason = {});
  // A request inside dialog `id` (BYE, INVITE, UPDATE, INFO, OPTIONS, REFER...), sent to the
  // dialog's peer address. Extra headers and the body are added as given.
  Result<std::string> SendInDialog(
      const sip::DialogId& id, std::string_view method, ResponseCallback callback,
      std::string_view body = {}, std::string_view content_type = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {});
  // A dialog this endpoint holds (borrowed, valid until the next call into the endpoint).
  const sip::Dialog* FindDialog(const sip::DialogId& id);
  std::optional<sip::Destination> DialogPeer(const sip::DialogId& id) const;
  // Where the party of a dialog it started entered the deployment (EntrySource of its INVITE),
  // when that is not its peer (behind the balancer); nullopt otherwise.
  std::optional<sip::Destination> DialogEntry(const sip::DialogId& id) const;
  // The same for a dialog it started towards a party behind a trusted proxy: where that proxy
  // saw the party (a contact's Path), given by the TU. Ignored unless `via` is a trusted proxy
  // and the dialog is held.
  void SetDialogEntry(const sip::DialogId& id, const sip::Destination& via,
                      const sip::Destination& entry);
  // Forgets a dialog (after its BYE, or when the TU gives up on it).
  void ForgetDialog(const sip::DialogId& id);
  // Holds a dialog another node set up (its record, after a failover) as if made here: requests
  // in it are matched and sent as in any other, to `peer`; `entry` as DialogEntry. AlreadyExists
  // when held already.
  Status RestoreDialog(sip::Dialog::Description description, const sip::Destination& peer,
                       const std::optional<sip::Destination>& entry = std::nullopt);
  size_t dialogs() const { return dialogs_.size(); }
  // The Contact URI of this node for a transport ("sip:203.0.113.5:5060;transport=tcp").
  std::string ContactUri(sip::Transport transport) const;

  // What to put on the wire, in order; the caller takes and sends it after every call.
  std::vector<sip::action::Send> TakeSends();

  // While draining, OPTIONS and new INVITEs get 503 (in-dialog requests still flow).
  void SetDraining(bool draining) { draining_.store(draining); }
  bool draining() const { return draining_.load(); }

  // Live transactions (a drain waits for them).
  size_t transactions() const { return tm_.size(); }
  // Transactions still without their final response (what a drain waits for).
  size_t unsettled_transactions() const { return tm_.Unsettled(); }
  const EndpointConfig& config() const { return config_; }
  // Where `request` entered the deployment from (sip::EntrySource over the trusted proxies): its
  // source, or behind the balancer the phone's or carrier's address and port.
  sip::Destination EntrySource(const IncomingRequest& request) const {
    return EntrySource(*request.message, request.source);
  }
  sip::Destination EntrySource(const sip::Message& request, const sip::Destination& source) const;
  // The clock its timers run on, for the TU's own state machines (RFC 4028 session timers).
  const core::Clock& clock() const { return clock_; }

  // The branch for a request this node sends: RFC 3261 magic cookie, a random part and the loop
  // hash of the request's Request-URI, Call-ID, From tag and CSeq number (§16.6 item 8), which
  // lets a request that comes back unchanged be recognised as a loop.
  std::string NewBranch(std::string_view request_uri, std::string_view call_id,
                        std::string_view from_tag, uint32_t cseq);
  std::string NewTag();

 private:
  struct Pending {
    std::shared_ptr<sip::Message> request;  // shared with handlers that keep it (IncomingRequest)
    std::string to_tag;
    sip::Destination source;
  };
  // A client transaction of ours (INVITEs are kept until their transaction ends, for forks and
  // 2xx retransmissions).
  struct Client {
    // Parsed while responses are expected. An INVITE answered 2xx waits up to 32 s (Timer M) for
    // a fork's 2xx or a retransmission, which rarely come: it keeps only its bytes meanwhile (a
    // parsed message is about 2 KB more), and ParsedRequest parses them again if one does.
    std::unique_ptr<sip::Message> request;
    std::string bytes;
    bool invite = false;
    sip::Destination destination;
    ResponseCallback callback;
    bool provisional = false;  // a 1xx came: a CANCEL may be sent (§9.1)
    bool cancel_wanted = false;
    bool cancel_sent = false;
    bool final = false;
  };
  // A response Respond could not send yet (RFC 3262 §3: one unacknowledged reliable 1xx at a
  // time; no 2xx before the PRACK of a 1xx with a body).
  struct Held {
    int code;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body, content_type;
  };
  void Dispatch(sip::TuEvent event);
  void OnPrack(std::string key, std::shared_ptr<sip::Message> request,
               const sip::Destination& source);
  void ReleaseHeld(const sip::DialogId& dialog);
  void OnPrackTimeout(const sip::DialogId& dialog);
  void SendPrack(const sip::DialogId& id, const sip::Message& response);
  void OnNewRequest(std::string key, std::shared_ptr<sip::Message> request,
                    const sip::Destination& source);
  void OnDialogRequest(std::string key, std::shared_ptr<sip::Message> request,
                       const sip::Destination& source);
  void OnClientResponse(sip::TuEvent event);
  void OnStray2xx(const sip::Message& response);
  void SendAck(const sip::DialogId& id, uint32_t invite_cseq);
  void SendCancel(Client& client);
  // Starts the client transaction of a CANCEL built for `invite` (BuildCancel).
  void StartCancel(const sip::Message& invite, const sip::Destination& destination);
  // The client's request, parsed again from its bytes when it kept only those.
  static const sip::Message& ParsedRequest(Client& client);
  // A client holding its request parsed.
  static Client MakeClient(sip::Message request, const sip::Destination& destination,
                           ResponseCallback callback);
  void CreateUasDialog(const Pending& pending, int code);
  Result<std::string> Start(sip::MessageBuilder request, const sip::Destination& destination,
                            ResponseCallback callback);
  bool IsLoop(const sip::Message& request) const;
  std::string AllowHeader() const;
  void Append(sip::TransactionOutput out);

  const core::Clock& clock_;
  EndpointConfig config_;
  sip::TransactionManager tm_;
  std::mt19937_64 rng_;
  std::atomic<bool> draining_{false};
  SourceRateLimiter limiter_;
  std::map<sip::Method, RequestHandler*> handlers_;
  DialogHandler* dialog_handler_ = nullptr;
  core::StringMap<Pending> pending_;
  core::StringMap<Client> clients_;
  sip::DialogSet dialogs_;
  sip::Invite2xxRetransmitter retransmit_;
  sip::ReliableProvisionalSender reliable_;
  sip::PrackTracker pracks_;
  // RFC 3262 UAS side: the INVITE transaction of each early dialog with a reliable 1xx, and
  // the responses waiting for its PRACK.
  std::map<sip::DialogId, std::string> reliable_invites_;
  core::StringMap<std::vector<Held>> held_;
  std::map<sip::DialogId, sip::Destination> peers_;
  std::map<sip::DialogId, sip::Destination> entries_;  // DialogEntry's
  // By deadline for the loop's next wake-up, and by id for StopTimer: both O(log n).
  std::multimap<core::Clock::TimePoint, uint64_t> tu_deadlines_;
  struct TuTimer {
    std::multimap<core::Clock::TimePoint, uint64_t>::iterator deadline;
    std::function<void()> fire;
  };
  std::unordered_map<uint64_t, TuTimer> tu_timers_;
  uint64_t next_timer_id_ = 1;
  // The ACK sent for each 2xx to our INVITEs (by dialog and CSeq number: a re-INVITE's 2xx is
  // a new one), resent on every retransmission of that 2xx.
  std::map<std::pair<sip::DialogId, uint32_t>, sip::action::Send> acks_;
  std::vector<sip::action::Send> sends_;

  core::CounterMetric& received_;
  core::CounterMetric& rate_limited_;
  core::CounterMetric& keepalives_;
  core::CounterMetric& too_large_;
  core::CounterMetric& loops_;
  core::CounterMetric& unsupported_content_;
  core::CounterMetric& too_many_hops_;
  core::CounterMetric& not_implemented_;
  core::CounterMetric& transactions_full_;
};

// The loop hash written into this node's branches (hex), exposed for tests.
std::string LoopHash(std::string_view request_uri, std::string_view call_id,
                     std::string_view from_tag, uint32_t cseq);

}  // namespace sb::signaling
