#include "protection/admission.h"

#include <utility>

namespace sb::signaling {

Admission::Admission(redis::Client& redis, const AuthGuard& guard, std::string source_ip)
    : redis_(redis), guard_(guard), source_ip_(std::move(source_ip)) {
  if (auto command = guard_.SourceCommand(source_ip_)) Enqueue(std::move(*command), Kind::kSource);
}

void Admission::CountAccount(std::string_view realm, std::string_view user) {
  std::vector<redis::Command> commands = guard_.AccountCommands(realm, user, source_ip_);
  for (size_t i = 0; i < commands.size(); ++i) {
    Enqueue(std::move(commands[i]), i == 0 ? Kind::kAccount : Kind::kAccountKept);
  }
}

size_t Admission::Queue(redis::Command command) {
  Enqueue(std::move(command), Kind::kOwn);
  return replies_.size() + queued_.size() - 1;
}

void Admission::Enqueue(redis::Command command, Kind kind) {
  queued_.push_back(std::move(command));
  kinds_.push_back(kind);
}

std::optional<AuthRefusal> Admission::Send() {
  if (queued_.empty()) return std::nullopt;
  auto sent = redis_.Pipeline(queued_);
  queued_.clear();
  const std::vector<Kind> kinds = std::move(kinds_);
  kinds_.clear();
  return Received(kinds, std::move(sent));
}

void Admission::SendAsync(const SendPipeline& send,
                          std::function<void(std::optional<AuthRefusal>)> then) {
  if (queued_.empty()) return then(std::nullopt);
  std::vector<redis::Command> commands = std::move(queued_);
  queued_.clear();
  std::vector<Kind> kinds = std::move(kinds_);
  kinds_.clear();
  send(std::move(commands),
       [this, kinds = std::move(kinds), then = std::move(then)](
           Result<std::vector<redis::Reply>> sent) { then(Received(kinds, std::move(sent))); });
}

std::optional<AuthRefusal> Admission::Received(const std::vector<Kind>& kinds,
                                               Result<std::vector<redis::Reply>> sent) {
  const size_t first = replies_.size();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (sent.ok()) {
      replies_.emplace_back(std::move((*sent)[i]));
    } else {
      replies_.emplace_back(sent.status());
    }
  }
  // Every guard reply is read (the ban's marks the source clear or forgets it); the first
  // refusal wins.
  std::optional<AuthRefusal> refusal;
  for (size_t i = 0; i < kinds.size(); ++i) {
    std::optional<AuthRefusal> r;
    if (kinds[i] == Kind::kSource) r = guard_.SourceRefusal(source_ip_, replies_[first + i]);
    if (kinds[i] == Kind::kAccount) r = guard_.AccountRefusal(replies_[first + i]);
    if (kinds[i] == Kind::kAccountKept) r = guard_.KeptRefusal(replies_[first + i]);
    if (r && !refusal) refusal = std::move(r);
  }
  return refusal;
}

}  // namespace sb::signaling
