// Reliable provisional responses (RFC 3262, "100rel"): the UAS core's side (RSeq numbering,
// retransmission of an unacknowledged 1xx at T1 doubling, giving up after 64*T1, matching PRACKs
// by RAck) and the UAC core's side (which 1xx to PRACK, in RSeq order), plus the Supported /
// Require checks both need. Like Invite2xxRetransmitter it is pure: driven by a Clock, it returns
// the bytes to send and the events for the TU.
//
//   // UAS: the INVITE said "Supported: 100rel" (or Require).
//   sb::sip::ReliableProvisionalSender rel(clock, timers);
//   if (Rel100Of(invite) != Rel100::kNone) {
//     auto reliable = rel.Prepare(MakeResponse(invite, 183, {}, tag), destination);
//     tm.SendResponse(key, *reliable, out);        // the first copy goes through the transaction
//   }
//   auto answer = rel.OnPrack(prack);              // 200 for a match, 481 otherwise
//   auto r = rel.OnTimers();                       // retransmissions; r.gave_up: answer 5xx
//
//   // UAC: for each 1xx to the INVITE.
//   sb::sip::PrackTracker tracker;
//   if (tracker.OnProvisional(response) == PrackTracker::Verdict::kPrack) {
//     auto prack = dialog.MakePrack(response, via);   // RAck from the 1xx
//   }
//
// RFC 3262 §3 makes no exception for reliable transports, so a reliable 1xx is retransmitted
// over TCP too (a UA may have lost it above the transport, e.g. through a restarting proxy).
// Not thread-safe; one per event loop.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/dialog.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip {

inline constexpr std::string_view kOption100rel = "100rel";

// How a request asks for reliable provisional responses (RFC 3262 §3, §4).
enum class Rel100 {
  kNone,       // the UAS MUST NOT send a reliable provisional
  kSupported,  // Supported: 100rel — the UAS MAY
  kRequired,   // Require: 100rel — the UAS MUST (or reject with 420, see CheckRequire)
};
Rel100 Rel100Of(const Message& request);

// A received response that is a reliable provisional: 101-199 with Require: 100rel and an RSeq
// (RFC 3262 §4). A 100 is never reliable (§3).
bool IsReliableProvisional(const Message& response);

// UAS side.
class ReliableProvisionalSender {
 public:
  // `random` draws the first RSeq of a transaction (RFC 3262 §3: 1 to 2**31-1, uniform); by
  // default a std::mt19937 seeded from std::random_device.
  ReliableProvisionalSender(const core::Clock& clock, TimerConfig timers,
                            std::function<uint32_t()> random = {});

  // Makes `response` (a 101-199 to an INVITE with a To tag) reliable: Require: 100rel and the next
  // RSeq of its transaction, which is then retransmitted until its PRACK. FailedPrecondition
  // while an earlier reliable 1xx of the same transaction is unacknowledged (§3: "MUST NOT send a
  // second reliable provisional response until the first is acknowledged").
  Result<Message> Prepare(MessageBuilder response, Destination destination);

  struct PrackAnswer {
    int status_code = 481;  // 200: matched and acknowledged; 481: no match (§3); 400: no RAck
    std::string reason;
    std::optional<DialogId> dialog;
    uint32_t rseq = 0;
    bool had_body = false;  // the acknowledged 1xx carried a body (an offer or answer)
  };
  // A PRACK received: matched by dialog, RAck response number, CSeq number and method (§3).
  PrackAnswer OnPrack(const Message& prack);

  // RFC 3262 §3: a 2xx to the INVITE must wait while an unacknowledged reliable 1xx carried a
  // session description.
  bool Blocks2xx(const DialogId& dialog, uint32_t invite_cseq) const;
  // The INVITE got its final response: stop retransmitting and forget its RSeq space.
  void Finish(const DialogId& dialog, uint32_t invite_cseq);

  struct GaveUp {
    DialogId dialog;
    uint32_t invite_cseq = 0;
    uint32_t rseq = 0;
  };
  struct Output {
    std::vector<action::Send> sends;
    std::vector<GaveUp> gave_up;  // no PRACK in 64*T1: the TU SHOULD answer the INVITE 5xx
  };
  Output OnTimers();
  std::optional<core::Clock::TimePoint> NextDeadline() const;
  // Reliable 1xx awaiting their PRACK.
  size_t unacknowledged() const;

 private:
  struct Pending {
    std::string bytes;
    Destination destination;
    uint32_t rseq = 0;
    bool has_body = false;
    std::chrono::milliseconds interval{0};
    core::Clock::TimePoint next;
    core::Clock::TimePoint give_up;
  };
  struct Transaction {
    uint32_t next_rseq = 0;
    std::optional<Pending> pending;
  };
  using Key = std::pair<DialogId, uint32_t>;  // dialog, CSeq number of the INVITE

  const core::Clock& clock_;
  TimerConfig timers_;
  std::function<uint32_t()> random_;
  std::map<Key, Transaction> transactions_;
};

// UAC side (RFC 3262 §4): which received 1xx get a PRACK. The first reliable 1xx of an early
// dialog sets the expected RSeq; later ones are PRACKed only when exactly one higher, and
// retransmissions and out-of-order ones are discarded (their PRACK, if any, is already on its way
// in its own non-INVITE transaction).
class PrackTracker {
 public:
  enum class Verdict {
    kNotReliable,  // an ordinary 1xx: process, no PRACK
    kPrack,        // process it and send a PRACK (Dialog::MakePrack)
    kDiscard,      // a retransmission or out of order: neither PRACK nor process it
    kMalformed,    // Require: 100rel with a missing or bad RSeq: discard
  };
  Verdict OnProvisional(const Message& response);
  // The INVITE got its final response: the early dialogs' RSeq state goes.
  void Finish(std::string_view call_id, uint32_t invite_cseq);

 private:
  std::map<std::pair<DialogId, uint32_t>, uint32_t> last_rseq_;
};

}  // namespace sb::sip
