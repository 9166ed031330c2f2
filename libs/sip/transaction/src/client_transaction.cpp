// The client transactions of RFC 3261 §17.1 (and the Accepted state of RFC 6026 §7.2).
#include "switchboard/core/ascii.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip {
namespace {

using std::chrono::milliseconds;

action::Send SendTo(std::string bytes, const Destination& d) {
  return action::Send{std::move(bytes), d};
}

}  // namespace

bool IsReliable(Transport transport) { return transport != Transport::kUdp; }

std::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kUdp:
      return "UDP";
    case Transport::kTcp:
      return "TCP";
    case Transport::kTls:
      return "TLS";
    case Transport::kWs:
      return "WS";
    case Transport::kWss:
      return "WSS";
  }
  return "UDP";
}

std::optional<Transport> TransportFromName(std::string_view name) {
  for (Transport t :
       {Transport::kUdp, Transport::kTcp, Transport::kTls, Transport::kWs, Transport::kWss}) {
    if (core::EqualsIgnoreCase(name, TransportName(t))) return t;
  }
  return std::nullopt;
}

std::string_view TimerName(TimerId id) {
  static constexpr std::string_view kNames[kTimerCount] = {"A", "B", "D", "E", "F", "G", "H",
                                                           "I", "J", "K", "L", "M", "C"};
  return kNames[static_cast<size_t>(id)];
}

std::string_view StateName(TransactionState state) {
  switch (state) {
    case TransactionState::kCalling:
      return "Calling";
    case TransactionState::kTrying:
      return "Trying";
    case TransactionState::kProceeding:
      return "Proceeding";
    case TransactionState::kCompleted:
      return "Completed";
    case TransactionState::kConfirmed:
      return "Confirmed";
    case TransactionState::kAccepted:
      return "Accepted";
    case TransactionState::kTerminated:
      return "Terminated";
  }
  return "Terminated";
}

std::string BuildNon2xxAck(const Message& invite, const Message& response) {
  MessageBuilder ack = MessageBuilder::Request("ACK", invite.request_uri_text());
  auto vias = invite.Values(HeaderId::kVia);
  if (vias.begin() != vias.end()) ack.AddHeader("Via", *vias.begin());
  ack.AddHeader("Max-Forwards", "70");
  for (std::string_view route : invite.Values(HeaderId::kRoute)) ack.AddHeader("Route", route);
  if (auto from = invite.Header(HeaderId::kFrom)) ack.AddHeader("From", *from);
  if (auto to = response.Header(HeaderId::kTo)) ack.AddHeader("To", *to);
  if (auto call_id = invite.Header(HeaderId::kCallId)) ack.AddHeader("Call-ID", *call_id);
  auto cseq = invite.GetCSeq();
  if (cseq.ok()) ack.AddHeader("CSeq", std::to_string((*cseq)->number) + " ACK");
  return ack.Build();
}

// --- INVITE client, §17.1.1 --------------------------------------------------------------

InviteClientTransaction::InviteClientTransaction(Message request, Destination destination,
                                                 TimerConfig timers)
    : request_(request.raw()), destination_(std::move(destination)), timers_(timers) {}

Actions InviteClientTransaction::Start() {
  Actions out;
  out.push_back(SendTo(request_, destination_));
  if (!IsReliable(destination_.transport)) {
    timer_a_ = timers_.t1;
    out.push_back(action::StartTimer{TimerId::kA, timer_a_});
  }
  out.push_back(action::StartTimer{TimerId::kB, 64 * timers_.t1});
  if (timers_.timer_c.count() > 0) out.push_back(action::StartTimer{TimerId::kC, timers_.timer_c});
  return out;
}

Actions InviteClientTransaction::Terminate(Actions actions) {
  state_ = TransactionState::kTerminated;
  actions.push_back(action::Terminated{});
  return actions;
}

Actions InviteClientTransaction::OnResponse(Message&& response) {
  Actions out;
  int code = response.status_code();
  switch (state_) {
    case TransactionState::kCalling:
    case TransactionState::kProceeding:
      if (state_ == TransactionState::kCalling) {
        out.push_back(action::StopTimer{TimerId::kA});
        out.push_back(action::StopTimer{TimerId::kB});
      }
      if (timers_.timer_c.count() > 0) {
        // §16.7 item 2: a provisional other than 100 restarts timer C; a final one ends it.
        if (code >= 200) {
          out.push_back(action::StopTimer{TimerId::kC});
        } else if (code > 100) {
          out.push_back(action::StartTimer{TimerId::kC, timers_.timer_c});
        }
      }
      if (code < 200) {
        state_ = TransactionState::kProceeding;
        out.push_back(action::PassToTu{std::make_unique<Message>(std::move(response))});
      } else if (code < 300) {
        // RFC 6026 §7.2: stay to pass 2xx retransmissions (and forks' 2xx) to the TU.
        state_ = TransactionState::kAccepted;
        std::string().swap(request_);
        out.push_back(action::PassToTu{std::make_unique<Message>(std::move(response))});
        out.push_back(action::StartTimer{TimerId::kM, 64 * timers_.t1});
      } else {
        state_ = TransactionState::kCompleted;
        ack_ = BuildNon2xxAck(Message::ParseAgain(request_), response);
        std::string().swap(request_);
        out.push_back(SendTo(ack_, destination_));
        out.push_back(action::PassToTu{std::make_unique<Message>(std::move(response))});
        if (IsReliable(destination_.transport)) return Terminate(std::move(out));
        out.push_back(action::StartTimer{TimerId::kD, std::chrono::seconds(32)});
      }
      return out;
    case TransactionState::kCompleted:
      // A retransmitted final response: our ACK was lost, send it again.
      if (code >= 300) out.push_back(SendTo(ack_, destination_));
      return out;
    case TransactionState::kAccepted:
      if (code >= 200 && code < 300) {
        out.push_back(action::PassToTu{std::make_unique<Message>(std::move(response))});
      }
      return out;
    default:
      return out;
  }
}

Actions InviteClientTransaction::OnTimer(TimerId id) {
  Actions out;
  if (id == TimerId::kA && state_ == TransactionState::kCalling) {
    out.push_back(SendTo(request_, destination_));
    timer_a_ *= 2;  // no T2 cap for INVITE (§17.1.1.2)
    out.push_back(action::StartTimer{TimerId::kA, timer_a_});
  } else if (id == TimerId::kB && state_ == TransactionState::kCalling) {
    out.push_back(action::StopTimer{TimerId::kA});
    out.push_back(action::TimedOut{TimerId::kB});
    return Terminate(std::move(out));
  } else if (id == TimerId::kC && timers_.timer_c.count() == 0) {
    // Timer C is off: a stray firing means nothing.
  } else if (id == TimerId::kC && state_ == TransactionState::kCalling) {
    // §16.8: no provisional yet, so nothing to CANCEL: as if a 408 had come.
    out.push_back(action::StopTimer{TimerId::kA});
    out.push_back(action::StopTimer{TimerId::kB});
    out.push_back(action::TimedOut{TimerId::kC});
    return Terminate(std::move(out));
  } else if (id == TimerId::kC && state_ == TransactionState::kProceeding) {
    // §16.8: the TU CANCELs; the INVITE's 487 (or a late final) still ends this transaction.
    out.push_back(action::TimedOut{TimerId::kC});
  } else if ((id == TimerId::kD && state_ == TransactionState::kCompleted) ||
             (id == TimerId::kM && state_ == TransactionState::kAccepted)) {
    return Terminate(std::move(out));
  }
  return out;
}

// --- non-INVITE client, §17.1.2 ----------------------------------------------------------

NonInviteClientTransaction::NonInviteClientTransaction(Message request, Destination destination,
                                                       TimerConfig timers)
    : request_(request.raw()), destination_(std::move(destination)), timers_(timers) {}

Actions NonInviteClientTransaction::Start() {
  Actions out;
  out.push_back(SendTo(request_, destination_));
  if (!IsReliable(destination_.transport)) {
    timer_e_ = timers_.t1;
    out.push_back(action::StartTimer{TimerId::kE, timer_e_});
  }
  out.push_back(action::StartTimer{TimerId::kF, 64 * timers_.t1});
  return out;
}

Actions NonInviteClientTransaction::OnResponse(Message&& response) {
  Actions out;
  if (state_ != TransactionState::kTrying && state_ != TransactionState::kProceeding) {
    return out;  // Completed absorbs retransmitted finals (§17.1.2.2)
  }
  if (response.status_code() < 200) {
    state_ = TransactionState::kProceeding;
    out.push_back(action::PassToTu{std::make_unique<Message>(std::move(response))});
    return out;
  }
  state_ = TransactionState::kCompleted;
  std::string().swap(request_);
  out.push_back(action::StopTimer{TimerId::kE});
  out.push_back(action::StopTimer{TimerId::kF});
  out.push_back(action::PassToTu{std::make_unique<Message>(std::move(response))});
  if (IsReliable(destination_.transport)) {
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
    return out;
  }
  out.push_back(action::StartTimer{TimerId::kK, timers_.t4});
  return out;
}

Actions NonInviteClientTransaction::OnTimer(TimerId id) {
  Actions out;
  bool active = state_ == TransactionState::kTrying || state_ == TransactionState::kProceeding;
  if (id == TimerId::kE && active) {
    out.push_back(SendTo(request_, destination_));
    // Trying doubles up to T2; Proceeding retransmits every T2 (§17.1.2.2).
    timer_e_ =
        state_ == TransactionState::kTrying ? std::min(2 * timer_e_, timers_.t2) : timers_.t2;
    out.push_back(action::StartTimer{TimerId::kE, timer_e_});
  } else if (id == TimerId::kF && active) {
    out.push_back(action::StopTimer{TimerId::kE});
    out.push_back(action::TimedOut{TimerId::kF});
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
  } else if (id == TimerId::kK && state_ == TransactionState::kCompleted) {
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
  }
  return out;
}

}  // namespace sb::sip
