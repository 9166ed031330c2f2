#include "switchboard/sip/invite_2xx.h"

namespace sb::sip {

Result<std::vector<action::Send>> Invite2xxRetransmitter::Start(const Message& response,
                                                                Destination destination) {
  if (response.status_code() < 200 || response.status_code() >= 300) {
    return Status::InvalidArgument("only a 2xx is retransmitted by the UAS core", "response");
  }
  // The response is one we send: its To tag is ours, its From tag the peer's.
  auto id = DialogIdOfReceivedRequest(response);
  auto cseq = response.GetCSeq();
  if (!id || !cseq.ok() || (*cseq)->method != "INVITE") {
    return Status::InvalidArgument("a 2xx to an INVITE with a To tag is needed", "response");
  }
  auto now = clock_.Now();
  Pending p{response.Serialize(), destination, timers_.t1, now + timers_.t1, now + 64 * timers_.t1};
  if (IsReliable(destination.transport)) p.next = p.give_up;
  std::vector<action::Send> out{action::Send{p.bytes, destination}};
  pending_.insert_or_assign(Key{std::move(*id), (*cseq)->number}, std::move(p));
  return out;
}

bool Invite2xxRetransmitter::OnAck(const Message& ack) {
  auto id = DialogIdOfReceivedRequest(ack);
  auto cseq = ack.GetCSeq();
  if (!id || !cseq.ok()) return false;
  return pending_.erase(Key{std::move(*id), (*cseq)->number}) > 0;
}

Invite2xxRetransmitter::Output Invite2xxRetransmitter::OnTimers() {
  Output out;
  auto now = clock_.Now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (p.give_up <= now) {
      out.gave_up.push_back(it->first.first);
      it = pending_.erase(it);
      continue;
    }
    if (p.next <= now && !IsReliable(p.destination.transport)) {
      out.sends.push_back(action::Send{p.bytes, p.destination});
      p.interval = std::min(2 * p.interval, timers_.t2);
      p.next = now + p.interval;
    }
    ++it;
  }
  return out;
}

std::optional<core::Clock::TimePoint> Invite2xxRetransmitter::NextDeadline() const {
  std::optional<core::Clock::TimePoint> next;
  for (const auto& [key, p] : pending_) {
    auto at = std::min(p.next, p.give_up);
    if (!next || at < *next) next = at;
  }
  return next;
}

}  // namespace sb::sip
