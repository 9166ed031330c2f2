#include "switchboard/sip/transaction_manager.h"

#include "switchboard/sip/builder.h"

namespace sb::sip {

TransactionManager::TransactionManager(const core::Clock& clock, TimerConfig timers,
                                       size_t max_transactions)
    : clock_(clock), timers_(timers), max_transactions_(max_transactions) {}

template <typename Invite, typename NonInvite>
TransactionManager::Machine TransactionManager::MachineFor(Message&& message,
                                                           const Destination& to) const {
  if (message.method() == Method::kInvite) {
    return Machine(std::in_place_type<Invite>, std::move(message), to, timers_);
  }
  return Machine(std::in_place_type<NonInvite>, std::move(message), to, timers_);
}

TransactionManager::Entry& TransactionManager::Add(const std::string& key, Machine machine,
                                                   Destination peer) {
  return entries_.emplace(key, Entry{std::move(machine), std::move(peer)}).first->second;
}

bool TransactionManager::IsLive(const Due& due) const {
  auto it = entries_.find(due.key);
  return it != entries_.end() && Armed(it->second, due);
}

std::optional<TransactionState> TransactionManager::State(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return std::visit([](const auto& m) { return m.state(); }, it->second.machine);
}

size_t TransactionManager::Unsettled() const {
  size_t unsettled = 0;
  for (const auto& [key, entry] : entries_) {
    const TransactionState state =
        std::visit([](const auto& m) { return m.state(); }, entry.machine);
    if (state == TransactionState::kCalling || state == TransactionState::kTrying ||
        state == TransactionState::kProceeding) {
      ++unsettled;
    }
  }
  return unsettled;
}

std::optional<core::Clock::TimePoint> TransactionManager::NextDeadline() const {
  // Each stale timer is popped once, so this is amortised O(log n).
  while (!due_.empty() && !IsLive(due_.top())) due_.pop();
  if (due_.empty()) return std::nullopt;
  return due_.top().at;
}

void TransactionManager::Apply(const std::string& key, Actions actions, TransactionOutput& out) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  bool terminated = false;
  for (auto& a : actions) {
    if (auto* send = std::get_if<action::Send>(&a)) {
      out.sends.push_back(std::move(*send));
    } else if (auto* start = std::get_if<action::StartTimer>(&a)) {
      auto at = clock_.Now() + HoldFor(*start);
      entry.deadlines[Slot(start->id)] = at;
      due_.push(Due{at, seq_++, key, start->id});
    } else if (auto* stop = std::get_if<action::StopTimer>(&a)) {
      entry.deadlines[Slot(stop->id)] = kUnarmed;
    } else if (auto* pass = std::get_if<action::PassToTu>(&a)) {
      TuEvent e;
      e.kind = pass->message->is_request() ? TuEvent::Kind::kRequest : TuEvent::Kind::kResponse;
      e.key = key;
      e.peer = entry.peer;
      e.message = std::move(pass->message);
      out.events.push_back(std::move(e));
    } else if (auto* timeout = std::get_if<action::TimedOut>(&a)) {
      TuEvent e;
      e.kind = TuEvent::Kind::kTimeout;
      e.key = key;
      e.peer = entry.peer;
      e.timer = timeout->timer;
      out.events.push_back(std::move(e));
    } else if (std::holds_alternative<action::Terminated>(a)) {
      terminated = true;
    }
  }
  if (terminated) {
    out.ended.push_back(key);
    entries_.erase(it);
  }
}

TransactionOutput TransactionManager::OnTransportError(std::string_view key) {
  TransactionOutput out;
  auto it = entries_.find(key);
  if (it == entries_.end()) return out;
  TuEvent e;
  e.kind = TuEvent::Kind::kTimeout;
  e.key = it->first;
  e.peer = it->second.peer;
  e.transport_error = true;
  out.events.push_back(std::move(e));
  out.ended.push_back(it->first);
  // Its queued timers find no entry any more and are dropped (IsLive).
  entries_.erase(it);
  return out;
}

void TransactionManager::Answer(const Message& request, const Destination& to, int code,
                                TransactionOutput& out) {
  out.sends.push_back(action::Send{MakeResponse(request, code).Build(), to});
}

// A non-INVITE server transaction that has answered (Timer J) only absorbs retransmissions of
// its request, which come at most T2 apart once the client has missed the answer; held T4 it
// still answers the first of them (Kamailio holds such transactions 5 s, its wt_timer). Held
// 64*T1, a node at 20000 REGISTERs a second would keep 640000 (~470 MB) and, past
// max_transactions, refuse every new request 503 while idle otherwise: that is what the
// signaling bench met after four rounds.
std::chrono::milliseconds TransactionManager::HoldFor(const action::StartTimer& start) const {
  if (start.id == TimerId::kJ && entries_.size() > max_transactions_ / 4) {
    return std::min(start.after, timers_.t4);
  }
  return start.after;
}

TransactionOutput TransactionManager::OnReceived(std::string_view bytes,
                                                 const Destination& source) {
  TransactionOutput out;
  ParseOptions options;
  options.framing = IsReliable(source.transport) ? Framing::kStream : Framing::kDatagram;
  auto parsed = Message::Parse(bytes, options);
  if (!parsed.ok()) {
    // The message layer built the error response from what it could read (§8.2, §16.3); it
    // goes back to where the request came from, since the Via may be what was broken.
    if (!parsed.error().response.empty()) {
      out.sends.push_back(action::Send{parsed.error().response, source});
    }
    return out;
  }
  if (parsed->is_request()) {
    OnRequest(std::move(*parsed), source, out);
  } else {
    OnResponse(std::move(*parsed), out);
  }
  return out;
}

void TransactionManager::OnRequest(Message&& request, const Destination& source,
                                   TransactionOutput& out) {
  auto stamped = StampTopVia(std::move(request), source);
  if (!stamped.ok()) return;
  Message& req = *stamped;
  auto key = ServerTransactionKey(req);
  if (!key) return;
  Destination reply_to = ResponseDestination(req, source);

  if (auto it = entries_.find(*key); it != entries_.end()) {
    Actions actions = std::visit(
        [&](auto& m) -> Actions {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, InviteServerTransaction> ||
                        std::is_same_v<T, NonInviteServerTransaction>) {
            return m.OnRequest(std::move(req));
          } else {
            return {};
          }
        },
        it->second.machine);
    Apply(*key, std::move(actions), out);
    return;
  }

  if (req.method() == Method::kAck) {
    // An ACK for a 2xx is a transaction of its own that the dialog layer handles (§17.1.1.3).
    TuEvent e;
    e.kind = TuEvent::Kind::kRequest;
    e.peer = source;
    e.message = std::make_unique<Message>(std::move(req));
    out.events.push_back(std::move(e));
    return;
  }

  std::string cancels;
  if (req.method() == Method::kCancel) {
    // §9.2: the INVITE this CANCEL is for has the same key but for the method.
    std::string invite_key = key->substr(0, key->size() - req.method_text().size()) + "INVITE";
    if (entries_.count(invite_key) == 0) {
      Answer(req, reply_to, 481, out);
      return;
    }
    cancels = std::move(invite_key);
  }

  if (entries_.size() >= max_transactions_) {
    Answer(req, reply_to, 503, out);
    out.refused_full = true;
    return;
  }
  Entry& entry =
      Add(*key,
          MachineFor<InviteServerTransaction, NonInviteServerTransaction>(std::move(req), reply_to),
          source);
  Actions actions = std::visit([](auto& m) { return m.Start(); }, entry.machine);
  size_t first_event = out.events.size();
  Apply(*key, std::move(actions), out);
  for (size_t i = first_event; i < out.events.size(); ++i) out.events[i].cancels = cancels;
}

void TransactionManager::OnResponse(Message&& response, TransactionOutput& out) {
  auto key = ClientTransactionKey(response);
  auto it = key ? entries_.find(*key) : entries_.end();
  if (it == entries_.end()) {
    // §17.1.1.2 / RFC 6026: a 2xx to an INVITE outliving its transaction still needs an ACK
    // from the TU; any other stray response is dropped (§18.1.2).
    auto cseq = response.GetCSeq();
    if (cseq.ok() && (*cseq)->method == "INVITE" && response.status_code() >= 200 &&
        response.status_code() < 300) {
      TuEvent e;
      e.kind = TuEvent::Kind::kStray2xx;
      e.message = std::make_unique<Message>(std::move(response));
      out.events.push_back(std::move(e));
    }
    return;
  }
  Actions actions = std::visit(
      [&](auto& m) -> Actions {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, InviteClientTransaction> ||
                      std::is_same_v<T, NonInviteClientTransaction>) {
          return m.OnResponse(std::move(response));
        } else {
          return {};
        }
      },
      it->second.machine);
  Apply(*key, std::move(actions), out);
}

Result<std::string> TransactionManager::SendRequest(Message request, Destination destination,
                                                    TransactionOutput& out) {
  if (!request.is_request()) return Status::InvalidArgument("not a request", "request");
  if (request.method() == Method::kAck) {
    out.sends.push_back(action::Send{request.Serialize(), std::move(destination)});
    return std::string();
  }
  auto via = request.TopVia();
  if (!via.ok() || !(*via)->HasRfc3261Branch()) {
    return Status::InvalidArgument("a client transaction needs a z9hG4bK branch", "Via");
  }
  auto key = ClientTransactionKey(request);
  if (!key) return Status::InvalidArgument("request without CSeq", "CSeq");
  if (entries_.count(*key) != 0) {
    return Status::AlreadyExists("a transaction with branch " + std::string((*via)->branch()) +
                                 " exists");
  }
  if (entries_.size() >= max_transactions_) {
    return Status::ResourceExhausted("too many transactions");
  }
  Entry& entry = Add(*key,
                     MachineFor<InviteClientTransaction, NonInviteClientTransaction>(
                         std::move(request), destination),
                     destination);
  Actions actions = std::visit([](auto& m) { return m.Start(); }, entry.machine);
  Apply(*key, std::move(actions), out);
  return *key;
}

Status TransactionManager::SendResponse(std::string_view key, const Message& response,
                                        TransactionOutput& out) {
  if (!response.is_response()) return Status::InvalidArgument("not a response", "response");
  return SendResponse(key, response.status_code(), response.Serialize(), out);
}

Status TransactionManager::SendResponse(std::string_view key, int status_code, std::string bytes,
                                        TransactionOutput& out) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return Status::NotFound("no transaction " + std::string(key));
  Actions actions = std::visit(
      [&](auto& m) -> Actions {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, InviteServerTransaction> ||
                      std::is_same_v<T, NonInviteServerTransaction>) {
          return m.OnTuResponse(status_code, std::move(bytes));
        } else {
          return {};
        }
      },
      it->second.machine);
  if (actions.empty()) {
    return Status::FailedPrecondition("transaction " + std::string(key) +
                                      " takes no response in its state");
  }
  Apply(std::string(key), std::move(actions), out);
  return Status::Ok();
}

Status TransactionManager::SendStatelessResponse(std::string_view key, const Message& response,
                                                 TransactionOutput& out) {
  if (!response.is_response()) return Status::InvalidArgument("not a response", "response");
  return SendStatelessResponse(key, response.status_code(), response.Serialize(), out);
}

Status TransactionManager::SendStatelessResponse(std::string_view key, int status_code,
                                                 std::string bytes, TransactionOutput& out) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return Status::NotFound("no transaction " + std::string(key));
  if (!std::holds_alternative<NonInviteServerTransaction>(it->second.machine) ||
      status_code < 200) {
    return Status::FailedPrecondition("only a non-INVITE request's final response is stateless");
  }
  Actions actions = std::get<NonInviteServerTransaction>(it->second.machine)
                        .OnTuResponse(status_code, std::move(bytes));
  if (actions.empty())
    return Status::FailedPrecondition("transaction " + std::string(key) +
                                      " has had its final response");
  // Only the send is carried out: Timer J is never armed, and a reliable transport's
  // termination is the one below.
  for (auto& a : actions) {
    if (auto* send = std::get_if<action::Send>(&a)) out.sends.push_back(std::move(*send));
  }
  out.ended.emplace_back(it->first);
  entries_.erase(it);
  return Status::Ok();
}

TransactionOutput TransactionManager::OnTimers() {
  TransactionOutput out;
  auto now = clock_.Now();
  // Re-armed timers are always in the future, so this visits each queued timer at most once.
  for (size_t budget = due_.size(); budget > 0 && !due_.empty() && due_.top().at <= now; --budget) {
    Due due = due_.top();
    due_.pop();
    auto it = entries_.find(due.key);
    if (it == entries_.end() || !Armed(it->second, due)) continue;  // stopped, re-armed, gone
    it->second.deadlines[Slot(due.id)] = kUnarmed;
    Actions actions = std::visit([&](auto& m) { return m.OnTimer(due.id); }, it->second.machine);
    Apply(due.key, std::move(actions), out);
  }
  return out;
}

}  // namespace sb::sip
