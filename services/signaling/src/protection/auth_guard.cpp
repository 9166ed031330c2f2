#include "protection/auth_guard.h"

namespace sb::signaling {
namespace {

AuthRefusal Unavailable() { return {503, "Service Unavailable", {{"Retry-After", "5"}}}; }

}  // namespace

std::optional<AuthRefusal> AuthGuard::CheckSource(std::string_view source_ip) const {
  if (ban_ == nullptr) return std::nullopt;
  auto banned = ban_->IsBanned(source_ip);
  if (!banned.ok()) return Unavailable();
  if (*banned) {
    if (clear_ != nullptr) clear_->Forget(source_ip);
    return AuthRefusal{403, "Forbidden (banned)", {}};
  }
  if (clear_ != nullptr) clear_->MarkClear(source_ip);
  return std::nullopt;
}

std::optional<AuthRefusal> AuthGuard::CheckAccount(std::string_view realm,
                                                   std::string_view user) const {
  if (account_limit_ == nullptr) return std::nullopt;
  auto allowed = account_limit_->Allow(realm, user);
  if (!allowed.ok()) return Unavailable();
  if (!*allowed) {
    return AuthRefusal{
        503, "Service Unavailable (too many requests for this account)", {{"Retry-After", "60"}}};
  }
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
