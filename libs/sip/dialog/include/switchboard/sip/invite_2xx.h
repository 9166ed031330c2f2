// The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4): a 2xx to an INVITE is not retransmitted
// by the transaction layer (its server transaction is in Accepted, RFC 6026), so the UAS core
// resends it at T1, 2*T1, ... capped at T2 until the ACK arrives, and gives up after 64*T1 (the
// TU then ends the session with a BYE). Keyed by dialog and CSeq number, driven by a Clock.
//
//   sb::sip::Invite2xxRetransmitter retransmit(clock, timers);
//   for (auto& s : retransmit.Start(ok_response, destination)) transport.Send(s);
//   // An ACK without a transaction (TuEvent with an empty key):
//   if (retransmit.OnAck(ack)) ...;              // stops the retransmissions
//   auto out = retransmit.OnTimers();            // sends, and dialogs that never got an ACK
//
// Not thread-safe; one per event loop, like TransactionManager.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/sip/dialog.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip {

class Invite2xxRetransmitter {
 public:
  Invite2xxRetransmitter(const core::Clock& clock, TimerConfig timers)
      : clock_(clock), timers_(timers) {}

  // Sends the 2xx now and keeps resending it until its ACK. Nothing to retransmit over a
  // reliable transport (§13.3.1.4), but the ACK is still awaited for 64*T1.
  Result<std::vector<action::Send>> Start(const Message& response, Destination destination);
  // True when the ACK (Call-ID, tags and CSeq number) matched a 2xx still awaiting it.
  bool OnAck(const Message& ack);

  struct Output {
    std::vector<action::Send> sends;
    std::vector<DialogId> gave_up;  // no ACK within 64*T1: send BYE
  };
  Output OnTimers();
  std::optional<core::Clock::TimePoint> NextDeadline() const;
  size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    std::string bytes;
    Destination destination;
    std::chrono::milliseconds interval;
    core::Clock::TimePoint next;
    core::Clock::TimePoint give_up;
  };
  using Key = std::pair<DialogId, uint32_t>;

  const core::Clock& clock_;
  TimerConfig timers_;
  std::map<Key, Pending> pending_;
};

}  // namespace sb::sip
