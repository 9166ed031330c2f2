// The server transactions of RFC 3261 §17.2 (and the Accepted state of RFC 6026 §7.1).
#include "switchboard/sip/builder.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip {

// --- INVITE server, §17.2.1 --------------------------------------------------------------

InviteServerTransaction::InviteServerTransaction(Message&& request, Destination destination,
                                                 TimerConfig timers)
    : request_(std::make_unique<Message>(std::move(request))),
      destination_(std::move(destination)),
      timers_(timers) {}

Actions InviteServerTransaction::Start() {
  Actions out;
  last_response_ = MakeResponse(*request_, 100).Build();
  out.push_back(action::Send{last_response_, destination_});
  out.push_back(action::PassToTu{std::move(request_)});
  return out;
}

Actions InviteServerTransaction::OnRequest(Message&& request) {
  Actions out;
  bool is_ack = request.method() == Method::kAck;
  switch (state_) {
    case TransactionState::kProceeding:
    case TransactionState::kCompleted:
      // A retransmitted INVITE gets the last response again (§17.2.1).
      if (!is_ack) {
        out.push_back(action::Send{last_response_, destination_});
        return out;
      }
      if (state_ != TransactionState::kCompleted) return out;
      state_ = TransactionState::kConfirmed;
      out.push_back(action::StopTimer{TimerId::kG});
      out.push_back(action::StopTimer{TimerId::kH});
      if (IsReliable(destination_.transport)) {
        state_ = TransactionState::kTerminated;
        out.push_back(action::Terminated{});
        return out;
      }
      out.push_back(action::StartTimer{TimerId::kI, timers_.t4});
      return out;
    case TransactionState::kAccepted:
      // RFC 6026 §7.1: retransmitted INVITEs are absorbed (the TU retransmits the 2xx), an ACK
      // that matches goes to the TU.
      if (is_ack) out.push_back(action::PassToTu{std::make_unique<Message>(std::move(request))});
      return out;
    default:
      return out;  // Confirmed absorbs ACKs
  }
}

Actions InviteServerTransaction::OnTuResponse(int status_code, std::string bytes) {
  Actions out;
  if (state_ == TransactionState::kAccepted && status_code >= 200 && status_code < 300) {
    out.push_back(action::Send{std::move(bytes), destination_});  // TU's 2xx retransmission
    return out;
  }
  if (state_ != TransactionState::kProceeding) return out;
  last_response_ = std::move(bytes);
  out.push_back(action::Send{last_response_, destination_});
  if (status_code < 200) return out;
  if (status_code < 300) {
    // Accepted answers nothing itself (the TU retransmits its 2xx): the response is not kept.
    state_ = TransactionState::kAccepted;
    std::string().swap(last_response_);
    out.push_back(action::StartTimer{TimerId::kL, 64 * timers_.t1});
    return out;
  }
  state_ = TransactionState::kCompleted;
  if (!IsReliable(destination_.transport)) {
    timer_g_ = timers_.t1;
    out.push_back(action::StartTimer{TimerId::kG, timer_g_});
  }
  out.push_back(action::StartTimer{TimerId::kH, 64 * timers_.t1});
  return out;
}

Actions InviteServerTransaction::OnTimer(TimerId id) {
  Actions out;
  if (id == TimerId::kG && state_ == TransactionState::kCompleted) {
    out.push_back(action::Send{last_response_, destination_});
    timer_g_ = std::min(2 * timer_g_, timers_.t2);
    out.push_back(action::StartTimer{TimerId::kG, timer_g_});
  } else if (id == TimerId::kH && state_ == TransactionState::kCompleted) {
    out.push_back(action::StopTimer{TimerId::kG});
    out.push_back(action::TimedOut{TimerId::kH});
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
  } else if ((id == TimerId::kI && state_ == TransactionState::kConfirmed) ||
             (id == TimerId::kL && state_ == TransactionState::kAccepted)) {
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
  }
  return out;
}

// --- non-INVITE server, §17.2.2 ----------------------------------------------------------

NonInviteServerTransaction::NonInviteServerTransaction(Message&& request, Destination destination,
                                                       TimerConfig timers)
    : request_(std::make_unique<Message>(std::move(request))),
      destination_(std::move(destination)),
      timers_(timers) {}

Actions NonInviteServerTransaction::Start() {
  Actions out;
  out.push_back(action::PassToTu{std::move(request_)});
  return out;
}

Actions NonInviteServerTransaction::OnRequest(Message&&) {
  Actions out;
  // Trying absorbs retransmissions; later states answer them with the last response.
  if (state_ == TransactionState::kProceeding || state_ == TransactionState::kCompleted) {
    out.push_back(action::Send{last_response_, destination_});
  }
  return out;
}

Actions NonInviteServerTransaction::OnTuResponse(int status_code, std::string bytes) {
  Actions out;
  if (state_ != TransactionState::kTrying && state_ != TransactionState::kProceeding) return out;
  last_response_ = std::move(bytes);
  out.push_back(action::Send{last_response_, destination_});
  if (status_code < 200) {
    state_ = TransactionState::kProceeding;
    return out;
  }
  state_ = TransactionState::kCompleted;
  if (IsReliable(destination_.transport)) {
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
    return out;
  }
  out.push_back(action::StartTimer{TimerId::kJ, 64 * timers_.t1});
  return out;
}

Actions NonInviteServerTransaction::OnTimer(TimerId id) {
  Actions out;
  if (id == TimerId::kJ && state_ == TransactionState::kCompleted) {
    state_ = TransactionState::kTerminated;
    out.push_back(action::Terminated{});
  }
  return out;
}

}  // namespace sb::sip
