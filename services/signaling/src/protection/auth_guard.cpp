#include "protection/auth_guard.h"

namespace sb::signaling {
namespace {

AuthRefusal Unavailable() { return {503, "Service Unavailable", {{"Retry-After", "5"}}}; }

}  // namespace

std::optional<redis::Command> AuthGuard::SourceCommand(std::string_view source_ip) const {
  if (ban_ == nullptr) return std::nullopt;
  return AuthFailureBan::IsBannedCommand(source_ip);
}

std::optional<AuthRefusal> AuthGuard::SourceRefusal(std::string_view source_ip,
                                                    const Result<redis::Reply>& reply) const {
  auto banned = AuthFailureBan::IsBannedReply(reply);
  if (!banned.ok()) return Unavailable();
  if (*banned) {
    if (clear_ != nullptr) clear_->Forget(source_ip);
    return AuthRefusal{403, "Forbidden (banned)", {}};
  }
  if (clear_ != nullptr) clear_->MarkClear(source_ip);
  return std::nullopt;
}

std::vector<redis::Command> AuthGuard::AccountCommands(std::string_view realm,
                                                       std::string_view user,
                                                       std::string_view source_ip) const {
  if (account_limit_ == nullptr) return {};
  const bool conditional = ban_ != nullptr && !KnownClear(source_ip);
  return account_limit_->AllowCommands(
      realm, user, conditional ? AuthFailureBan::BanKey(source_ip) : std::string());
}

std::optional<AuthRefusal> AuthGuard::AccountRefusal(const Result<redis::Reply>& reply) const {
  if (account_limit_ == nullptr) return std::nullopt;
  auto allowed = account_limit_->AllowReply(reply);
  if (!allowed.ok()) return Unavailable();
  if (!*allowed) {
    return AuthRefusal{
        503, "Service Unavailable (too many requests for this account)", {{"Retry-After", "60"}}};
  }
  return std::nullopt;
}

std::optional<AuthRefusal> AuthGuard::KeptRefusal(const Result<redis::Reply>& reply) const {
  if (!AccountRateLimit::KeptReply(reply).ok()) return Unavailable();
  return std::nullopt;
}

bool AuthGuard::KnownClear(std::string_view source_ip) const {
  return clear_ != nullptr && clear_->IsKnownClear(source_ip);
}

void AuthGuard::Record(std::string_view source_ip, bool failure) const {
  if (!failure) return;
  if (clear_ != nullptr) clear_->Forget(source_ip);
  if (ban_ == nullptr) return;
  auto banned = ban_->RecordFailure(source_ip);
  if (!banned.ok()) {
    log_.Warn("authentication failure not counted",
              {{"source", std::string(source_ip)}, {"error", banned.status().message()}});
  } else if (*banned) {
    log_.Warn("source banned after authentication failures", {{"source", std::string(source_ip)}});
  }
}

}  // namespace sb::signaling
