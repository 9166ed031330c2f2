// The four RFC 3261 §17 transaction state machines (INVITE/non-INVITE, client/server), with the
// RFC 6026 "Accepted" state for 2xx to INVITE. They own no socket and no timer: each takes an
// event (start, message received, timer fired, TU sends a response) and returns the actions to
// carry out (send bytes, pass a message to the TU, start/stop a timer, report a timeout, done).
// TransactionManager (transaction_manager.h) runs them, keyed by branch, with a Clock.
//
//   InviteClientTransaction tx(std::move(invite), {"127.0.0.1", 5070, Transport::kUdp}, timers);
//   for (auto& action : tx.Start()) Carry(action);            // Send + StartTimer A and B
//   for (auto& action : tx.OnTimer(TimerId::kA)) Carry(action);  // retransmission, A doubled
//   for (auto& action : tx.OnResponse(std::move(ringing))) Carry(action);  // PassToTu
//
// Timers (§17, Table 4 of RFC 3261 §A, RFC 6026 §8.11-8.12): A, B, D, E, F, G, H, I, J, K, L, M,
// and, as an option of the INVITE client (TimerConfig::timer_c), timer C of §16.6 item 11 /
// §16.7 item 2 / §16.8: a B2BUA's outgoing INVITE that gets provisionals but no final response
// for longer than timer C is reported (TimedOut{kC}) so the TU can CANCEL it; without any
// provisional the transaction ends as if a 408 had come. Over a reliable transport there is no
// retransmission and the waiting timers D, I, J, K are zero (the machine terminates at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchboard/sip/message.h"

namespace sb::sip {

enum class Transport : uint8_t { kUdp, kTcp, kTls, kWs, kWss };
bool IsReliable(Transport transport);
// "UDP", "TCP", "TLS", "WS", "WSS" (as in a Via's sent-protocol).
std::string_view TransportName(Transport transport);
// The transport a Via's sent-protocol names (any case); nullopt for one not listed above.
std::optional<Transport> TransportFromName(std::string_view name);

// Where bytes go (or came from). For a stream transport the host/port name the connection.
struct Destination {
  std::string host;
  uint16_t port = 0;
  Transport transport = Transport::kUdp;
  friend bool operator==(const Destination&, const Destination&) = default;
};

struct TimerConfig {
  std::chrono::milliseconds t1{500};   // RTT estimate
  std::chrono::milliseconds t2{4000};  // maximum retransmit interval for non-INVITE
  std::chrono::milliseconds t4{5000};  // maximum time a message stays in the network
  // Timer C of the INVITE client (§16.6 item 11: "MUST be greater than 3 minutes"); zero = off.
  // Started with the INVITE, restarted by each 101-199, stopped by the final response.
  std::chrono::milliseconds timer_c{0};
};
inline constexpr std::chrono::milliseconds kMinTimerC{180001};  // > 3 min (§16.6 item 11)

enum class TimerId : uint8_t { kA, kB, kD, kE, kF, kG, kH, kI, kJ, kK, kL, kM, kC };
inline constexpr size_t kTimerCount = 13;
std::string_view TimerName(TimerId id);  // "A" ... "M", "C"

namespace action {
struct Send {
  std::string bytes;
  Destination destination;
};
struct StartTimer {  // (re)arms the timer; an armed timer of the same id is replaced
  TimerId id;
  std::chrono::milliseconds after;
};
struct StopTimer {
  TimerId id;
};
struct PassToTu {  // a response (client side) or the request / an ACK (server side)
  // On the heap: a Message is about 2 KB, and every Action of a vector would be as large.
  std::unique_ptr<Message> message;
};
// B or F: no final response (the TU acts as for a 408); H: no ACK came; C: an INVITE client
// without a final response for timer C — in Proceeding the transaction lives on and the TU sends
// CANCEL (§16.8), in Calling it has ended and the TU acts as for a 408.
struct TimedOut {
  TimerId timer;
};
struct Terminated {};
}  // namespace action
using Action = std::variant<action::Send, action::StartTimer, action::StopTimer, action::PassToTu,
                            action::TimedOut, action::Terminated>;
using Actions = std::vector<Action>;

enum class TransactionState : uint8_t {
  kCalling,     // INVITE client
  kTrying,      // non-INVITE client and server
  kProceeding,  // all four
  kCompleted,   // all four
  kConfirmed,   // INVITE server
  kAccepted,    // INVITE client and server after a 2xx (RFC 6026)
  kTerminated,
};
std::string_view StateName(TransactionState state);

// §17.1.1. Start() sends the INVITE; a 3xx-6xx gets the ACK of §17.1.1.3 sent by the machine.
class InviteClientTransaction {
 public:
  InviteClientTransaction(Message request, Destination destination, TimerConfig timers);
  Actions Start();
  Actions OnResponse(Message&& response);
  Actions OnTimer(TimerId id);
  TransactionState state() const { return state_; }
  const Destination& destination() const { return destination_; }

 private:
  Actions Terminate(Actions actions);
  // What is retransmitted, only while it may be: a transaction outlives its request by up to
  // 32 s (timers D and M), and a parsed message is about 2 KB before its bytes.
  std::string request_;
  Destination destination_;
  TimerConfig timers_;
  TransactionState state_ = TransactionState::kCalling;
  std::chrono::milliseconds timer_a_{0};
  std::string ack_;  // the ACK for a non-2xx final response, resent on its retransmissions
};

// §17.1.2.
class NonInviteClientTransaction {
 public:
  NonInviteClientTransaction(Message request, Destination destination, TimerConfig timers);
  Actions Start();
  Actions OnResponse(Message&& response);
  Actions OnTimer(TimerId id);
  TransactionState state() const { return state_; }
  const Destination& destination() const { return destination_; }

 private:
  std::string request_;  // while it may be retransmitted, as InviteClientTransaction's
  Destination destination_;
  TimerConfig timers_;
  TransactionState state_ = TransactionState::kTrying;
  std::chrono::milliseconds timer_e_{0};
};

// §17.2.1. Start() passes the INVITE to the TU and sends 100 Trying at once (§17.2.1 allows
// skipping it only when the TU is known to answer within 200 ms, which a B2BUA cannot promise).
// `response_destination` is where responses go (§18.2.2 with RFC 3581, see ResponseDestination).
class InviteServerTransaction {
 public:
  InviteServerTransaction(Message&& request, Destination response_destination, TimerConfig timers);
  // Once: sends the 100 and hands the request itself to the TU (the machine keeps no copy).
  Actions Start();
  // A retransmitted INVITE or an ACK matched to this transaction.
  Actions OnRequest(Message&& request);
  // The TU's response; `bytes` is its serialization.
  Actions OnTuResponse(int status_code, std::string bytes);
  Actions OnTimer(TimerId id);
  TransactionState state() const { return state_; }

 private:
  // Until Start, on the heap: the transaction outlives it by up to 32 s (timers L and J), and a
  // parsed message is about 2 KB before its bytes.
  std::unique_ptr<Message> request_;
  Destination destination_;
  TimerConfig timers_;
  TransactionState state_ = TransactionState::kProceeding;
  std::string last_response_;
  std::chrono::milliseconds timer_g_{0};
};

// §17.2.2.
class NonInviteServerTransaction {
 public:
  NonInviteServerTransaction(Message&& request, Destination response_destination,
                             TimerConfig timers);
  // Once: hands the request itself to the TU (the machine keeps no copy).
  Actions Start();
  Actions OnRequest(Message&& request);
  Actions OnTuResponse(int status_code, std::string bytes);
  Actions OnTimer(TimerId id);
  TransactionState state() const { return state_; }

 private:
  std::unique_ptr<Message> request_;  // until Start, as InviteServerTransaction's
  Destination destination_;
  TimerConfig timers_;
  TransactionState state_ = TransactionState::kTrying;
  std::string last_response_;
};

// The ACK a client transaction sends for a 3xx-6xx response (§17.1.1.3): the INVITE's
// Request-URI, top Via, From, Call-ID, Route and CSeq number, the response's To.
std::string BuildNon2xxAck(const Message& invite, const Message& response);

}  // namespace sb::sip
