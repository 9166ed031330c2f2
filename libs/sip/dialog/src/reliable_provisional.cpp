#include "switchboard/sip/reliable_provisional.h"

#include <memory>
#include <random>
#include <string>

namespace sb::sip {

Rel100 Rel100Of(const Message& request) {
  if (request.HasToken(HeaderId::kRequire, kOption100rel)) return Rel100::kRequired;
  if (request.HasToken(HeaderId::kSupported, kOption100rel)) return Rel100::kSupported;
  return Rel100::kNone;
}

bool IsReliableProvisional(const Message& response) {
  int code = response.status_code();
  if (code <= 100 || code >= 200) return false;
  if (!response.HasToken(HeaderId::kRequire, kOption100rel)) return false;
  auto rseq = response.RSeq();
  return rseq.ok() && rseq->has_value();
}

ReliableProvisionalSender::ReliableProvisionalSender(const core::Clock& clock, TimerConfig timers,
                                                     std::function<uint32_t()> random)
    : clock_(clock), timers_(timers), random_(std::move(random)) {
  if (!random_) {
    auto engine = std::make_shared<std::mt19937>(std::random_device{}());
    random_ = [engine] { return static_cast<uint32_t>((*engine)()); };
  }
}

Result<Message> ReliableProvisionalSender::Prepare(MessageBuilder response,
                                                   Destination destination) {
  auto draft = response.BuildMessage();
  if (!draft.ok()) return Status::InvalidArgument(draft.error().reason, "response");
  int code = draft->status_code();
  if (code <= 100 || code >= 200) {
    // §3: a 100 Trying is hop by hop and never reliable.
    return Status::InvalidArgument("only a 101-199 response is sent reliably", "response");
  }
  auto id = DialogIdOfReceivedRequest(*draft);  // a response we send: the To tag is ours
  auto cseq = draft->GetCSeq();
  if (!id || !cseq.ok() || (*cseq)->method != "INVITE") {
    return Status::InvalidArgument("a 1xx to an INVITE with a To tag is needed", "response");
  }
  Key key{std::move(*id), (*cseq)->number};
  auto found = transactions_.find(key);
  if (found != transactions_.end() && found->second.pending) {
    return Status::FailedPrecondition(
        "RSeq " + std::to_string(found->second.pending->rseq) +
        " is not acknowledged yet: RFC 3262 §3 allows one unacknowledged reliable 1xx");
  }
  uint32_t rseq = found != transactions_.end() ? found->second.next_rseq
                                               : 1 + random_() % 0x7FFFFFFFu;  // 1..2**31-1
  if (rseq == 0) return Status::ResourceExhausted("RSeq space of the transaction exhausted");
  response.ReplaceHeader("RSeq", std::to_string(rseq));
  if (!draft->HasToken(HeaderId::kRequire, kOption100rel)) {
    response.AddHeader("Require", kOption100rel);
  }
  auto reliable = response.BuildMessage();
  if (!reliable.ok()) return Status::InvalidArgument(reliable.error().reason, "response");

  auto now = clock_.Now();
  Pending p;
  p.bytes = reliable->Serialize();
  p.destination = std::move(destination);
  p.rseq = rseq;
  p.has_body = !reliable->body().empty();
  p.interval = timers_.t1;
  p.next = now + timers_.t1;
  p.give_up = now + 64 * timers_.t1;
  Transaction& tx = transactions_[key];
  tx.next_rseq = rseq + 1;  // wraps to 0 after 2**32-1: refused above
  tx.pending = std::move(p);
  return std::move(*reliable);
}

ReliableProvisionalSender::PrackAnswer ReliableProvisionalSender::OnPrack(const Message& prack) {
  PrackAnswer answer;
  auto rack = prack.RAck();
  if (!rack.ok() || !rack->has_value()) {
    answer.status_code = 400;
    answer.reason = rack.ok() ? "Missing RAck" : "Bad RAck";
    return answer;
  }
  answer.status_code = 481;
  answer.reason = "No Matching Reliable Provisional Response";
  auto id = DialogIdOfReceivedRequest(prack);
  if (!id || (*rack)->method != "INVITE") return answer;
  auto it = transactions_.find(Key{*id, (*rack)->cseq});
  if (it == transactions_.end() || !it->second.pending ||
      it->second.pending->rseq != (*rack)->rseq) {
    return answer;
  }
  answer.status_code = 200;
  answer.reason = "OK";
  answer.dialog = std::move(*id);
  answer.rseq = it->second.pending->rseq;
  answer.had_body = it->second.pending->has_body;
  it->second.pending.reset();
  return answer;
}

bool ReliableProvisionalSender::Blocks2xx(const DialogId& dialog, uint32_t invite_cseq) const {
  auto it = transactions_.find(Key{dialog, invite_cseq});
  return it != transactions_.end() && it->second.pending && it->second.pending->has_body;
}

void ReliableProvisionalSender::Finish(const DialogId& dialog, uint32_t invite_cseq) {
  transactions_.erase(Key{dialog, invite_cseq});
}

ReliableProvisionalSender::Output ReliableProvisionalSender::OnTimers() {
  Output out;
  auto now = clock_.Now();
  for (auto& [key, tx] : transactions_) {
    if (!tx.pending) continue;
    Pending& p = *tx.pending;
    // Every retransmission due by now, in order (a late call still gives the same schedule).
    for (int i = 0; i < 64 && p.next <= now && p.next < p.give_up; ++i) {
      out.sends.push_back(action::Send{p.bytes, p.destination});
      p.interval *= 2;  // §3: doubles, with no T2 cap (unlike §17.1.2.2)
      p.next += p.interval;
    }
    if (p.give_up <= now) {
      out.gave_up.push_back(GaveUp{key.first, key.second, p.rseq});
      tx.pending.reset();
    }
  }
  return out;
}

std::optional<core::Clock::TimePoint> ReliableProvisionalSender::NextDeadline() const {
  std::optional<core::Clock::TimePoint> next;
  for (const auto& [key, tx] : transactions_) {
    if (!tx.pending) continue;
    auto at = std::min(tx.pending->next, tx.pending->give_up);
    if (!next || at < *next) next = at;
  }
  return next;
}

size_t ReliableProvisionalSender::unacknowledged() const {
  size_t n = 0;
  for (const auto& [key, tx] : transactions_) n += tx.pending ? 1 : 0;
  return n;
}

PrackTracker::Verdict PrackTracker::OnProvisional(const Message& response) {
  int code = response.status_code();
  if (code <= 100 || code >= 200) return Verdict::kNotReliable;
  if (!response.HasToken(HeaderId::kRequire, kOption100rel)) return Verdict::kNotReliable;
  auto rseq = response.RSeq();
  auto id = DialogIdOfReceivedResponse(response);
  auto cseq = response.GetCSeq();
  if (!rseq.ok() || !rseq->has_value() || !id || !cseq.ok()) return Verdict::kMalformed;
  auto key = std::make_pair(std::move(*id), (*cseq)->number);
  auto it = last_rseq_.find(key);
  if (it == last_rseq_.end()) {
    last_rseq_.emplace(std::move(key), **rseq);
    return Verdict::kPrack;
  }
  if (it->second != UINT32_MAX && **rseq == it->second + 1) {
    it->second = **rseq;
    return Verdict::kPrack;
  }
  return Verdict::kDiscard;
}

void PrackTracker::Finish(std::string_view call_id, uint32_t invite_cseq) {
  for (auto it = last_rseq_.begin(); it != last_rseq_.end();) {
    if (it->first.first.call_id == call_id && it->first.second == invite_cseq) {
      it = last_rseq_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sb::sip
