// The transaction layer of one SIP endpoint: it parses what the transport received, matches it
// to a transaction (§17.1.3, §17.2.3, RFC 2543 fallback, CANCEL per §9.2), runs the four state
// machines of transaction.h, keeps their timers against an injected Clock, and returns what to
// send and what to tell the Transaction User. No sockets, no threads: the signaling service's
// event loop feeds it and carries out its output.
//
//   sb::sip::TransactionManager tm(clock, sb::sip::TimerConfig{});
//   auto out = tm.OnReceived(datagram, {"127.0.0.1", 40112, sb::sip::Transport::kUdp});
//   for (auto& send : out.sends) transport.Send(send.destination, send.bytes);
//   for (auto& event : out.events) tu.Handle(event);   // kRequest: answer with SendResponse
//   ...
//   auto key = tm.SendRequest(std::move(invite), {"127.0.0.1", 5070, Transport::kUdp}, out);
//   loop.WakeAt(tm.NextDeadline());  then  out = tm.OnTimers();
//
// RFC 3581: a request whose top Via has ";rport" gets "received" and "rport" filled from the
// source address before the TU sees it, and its responses go back to that address and port.
// Thread-safety: none; one manager per event loop.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/core/string_map.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip {

struct TuEvent {
  enum class Kind {
    kRequest,   // a new request (or an ACK for a 2xx, key empty: it has no transaction)
    kResponse,  // a response to one of our client transactions
    kTimeout,   // B/F: no final response; H: no ACK for our 3xx-6xx
    kStray2xx,  // a 2xx to an INVITE whose transaction is gone: the TU re-sends its ACK
  };
  Kind kind = Kind::kRequest;
  std::string key;  // the transaction
  // On the heap: a Message is about 2 kB, and an event is moved several times on its way.
  std::unique_ptr<Message> message;
  Destination peer;  // where a request came from / where a client transaction sent
  TimerId timer = TimerId::kB;
  // kTimeout because the TU reported that a send of this transaction failed (§17.1.4, §17.2.4):
  // the transaction has ended; a client TU acts as for a 503 (§8.1.3.1).
  bool transport_error = false;
  // For a CANCEL that matched an INVITE server transaction (§9.2): that transaction's key.
  std::string cancels;
};

struct TransactionOutput {
  std::vector<action::Send> sends;
  std::vector<TuEvent> events;
  // Transactions that ended here, however they ended (final state, timeout, transport error):
  // the TU drops what it kept for them without scanning its own tables.
  std::vector<std::string> ended;
  // A new request was answered 503 because max_transactions were live.
  bool refused_full = false;
};

// Transaction keys. Server: RFC 3261 branch + sent-by + method (ACK counts as INVITE) or, for a
// branch without the magic cookie, the RFC 2543 §17.2.3 fields. Client: branch + CSeq method.
std::optional<std::string> ServerTransactionKey(const Message& request);
std::optional<std::string> ClientTransactionKey(const Message& message);

// RFC 3581 §4 and RFC 3261 §18.2.1: the request with received (and rport when asked for) set on
// its top Via from the address it came from; the request unchanged when nothing applies.
Result<Message> StampTopVia(Message&& request, const Destination& source);
// RFC 3261 §18.2.2 with RFC 3581 §4: where responses to this (stamped) request go.
Destination ResponseDestination(const Message& request, const Destination& source);
// Where a request entered the deployment from, for what is decided or told per client (bans,
// trunks known by their source, the source in registration events): `source`, or, while
// `trusted` says its host is a proxy of ours that adds its own Via (the balancer in front of the
// replicas), where that proxy received it from, as its stamp on the Via below its own says:
// `received` and `rport`, which it adds whenever the sent-by differs from what it saw (§18.2.1,
// RFC 3581 §4), else the sent-by (5060 without a port), over that Via's transport. The walk
// stops at the last proxy when the Vias end or one does not parse.
Destination EntrySource(const Message& request, const Destination& source,
                        const std::function<bool(std::string_view host)>& trusted);
// §18.2.2 for a stream whose connection closed before the response went: a new connection to
// the top Via's received address (its sent-by host without one) and sent-by port (5060 when
// none), where the client listens. Read from the response, which carries the request's stamped
// Via; nullopt without a Via.
std::optional<Destination> ReconnectDestination(const Message& response, Transport transport);

// A CANCEL for `invite` (§9.1): same Request-URI, top Via (so the same branch), From, To,
// Call-ID, Route and CSeq number.
std::string BuildCancel(const Message& invite);

class TransactionManager {
 public:
  // Beyond `max_transactions` live transactions a new request is answered 503 without one, and
  // SendRequest fails with ResourceExhausted: a flood costs bounded memory. With more than a
  // quarter of them live, a non-INVITE server transaction that has answered is held T4 rather
  // than 64*T1 (Timer J), so that a sustained load of answered requests does not fill the table.
  TransactionManager(const core::Clock& clock, TimerConfig timers,
                     size_t max_transactions = 200000);

  // Bytes of one message from `source`. Unparseable requests are answered per ParseError.
  TransactionOutput OnReceived(std::string_view bytes, const Destination& source);

  // Starts a client transaction for the request (its top Via must carry an RFC 3261 branch) and
  // returns its key. An ACK is sent without a transaction and gives an empty key.
  Result<std::string> SendRequest(Message request, Destination destination, TransactionOutput& out);
  // The TU's response for server transaction `key`.
  Status SendResponse(std::string_view key, const Message& response, TransactionOutput& out);
  // The same from the response's status code and bytes, for a TU that built them and needs no
  // parsed copy.
  Status SendResponse(std::string_view key, int status_code, std::string bytes,
                      TransactionOutput& out);
  // A final response to non-INVITE server transaction `key`, sent once, after which the
  // transaction is forgotten (reported in `ended`): RFC 3261 §26.3.2.4 has requests challenged
  // statelessly, so a retransmission is challenged anew and unauthenticated requests hold no
  // state for Timer J. FailedPrecondition for an INVITE (its ACK must be absorbed) or a 1xx.
  Status SendStatelessResponse(std::string_view key, const Message& response,
                               TransactionOutput& out);
  Status SendStatelessResponse(std::string_view key, int status_code, std::string bytes,
                               TransactionOutput& out);

  // The service could not send bytes of transaction `key` (connection refused or reset, ICMP
  // unreachable): the transaction ends at once and the TU gets a kTimeout with transport_error
  // (§17.1.4 client, §17.2.4 server). Unknown keys give nothing.
  TransactionOutput OnTransportError(std::string_view key);

  // Fires every timer due at clock.Now().
  TransactionOutput OnTimers();
  std::optional<core::Clock::TimePoint> NextDeadline() const;

  size_t size() const { return entries_.size(); }
  // Those still without a final response (Calling, Trying, Proceeding): the ones a node that
  // stops must wait for. The rest only absorb retransmissions or wait for an ACK. O(size()).
  size_t Unsettled() const;
  std::optional<TransactionState> State(std::string_view key) const;

 private:
  using Machine = std::variant<InviteClientTransaction, NonInviteClientTransaction,
                               InviteServerTransaction, NonInviteServerTransaction>;
  // A timer slot that is not armed. Slots are plain time points, not optionals: every held
  // transaction carries its slots, and a registration storm holds hundreds of thousands.
  static constexpr core::Clock::TimePoint kUnarmed = core::Clock::TimePoint::max();
  // Nor is there a slot for each of the 13 timers: a machine runs at most five, and no two of
  // its own share a slot (client INVITE A B D M C, client non-INVITE E F K, server INVITE
  // G H I L, server non-INVITE J).
  static constexpr size_t kTimerSlots = 5;
  static constexpr size_t Slot(TimerId id) {
    switch (id) {
      case TimerId::kA:
      case TimerId::kE:
      case TimerId::kG:
      case TimerId::kJ:
        return 0;
      case TimerId::kB:
      case TimerId::kF:
      case TimerId::kH:
        return 1;
      case TimerId::kD:
      case TimerId::kK:
      case TimerId::kI:
        return 2;
      case TimerId::kM:
      case TimerId::kL:
        return 3;
      case TimerId::kC:
        return 4;
    }
    return 4;
  }
  static constexpr std::array<core::Clock::TimePoint, kTimerSlots> NoDeadlines() {
    std::array<core::Clock::TimePoint, kTimerSlots> none;
    none.fill(kUnarmed);
    return none;
  }
  struct Entry {
    Machine machine;  // in the table's node: one allocation less per transaction
    Destination peer;
    std::array<core::Clock::TimePoint, kTimerSlots> deadlines = NoDeadlines();
  };
  struct Due {
    core::Clock::TimePoint at;
    uint64_t seq;
    std::string key;
    TimerId id;
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void OnRequest(Message&& request, const Destination& source, TransactionOutput& out);
  void OnResponse(Message&& response, TransactionOutput& out);
  void Apply(const std::string& key, Actions actions, TransactionOutput& out);
  void Answer(const Message& request, const Destination& to, int code, TransactionOutput& out);
  // How long a timer the machine starts runs: as asked, but for Timer J under pressure.
  std::chrono::milliseconds HoldFor(const action::StartTimer& start) const;
  // Whether a queued timer still stands: its transaction is there and the timer is armed for
  // that moment (not stopped or re-armed since).
  static bool Armed(const Entry& entry, const Due& due) {
    return entry.deadlines[Slot(due.id)] == due.at;
  }
  bool IsLive(const Due& due) const;
  // The machine for `message`: Invite's for an INVITE, NonInvite's for any other method.
  template <typename Invite, typename NonInvite>
  Machine MachineFor(Message&& message, const Destination& to) const;
  // A new transaction (its key is not in the table) and its machine, not started yet.
  Entry& Add(const std::string& key, Machine machine, Destination peer);

  const core::Clock& clock_;
  TimerConfig timers_;
  size_t max_transactions_;
  core::StringMap<Entry> entries_;
  // Stopped or re-armed timers stay queued until they reach the top, where they are dropped.
  mutable std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  uint64_t seq_ = 0;
};

}  // namespace sb::sip
