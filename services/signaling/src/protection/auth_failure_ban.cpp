#include "protection/auth_failure_ban.h"

namespace sb::signaling {
namespace {

// KEYS[1] failures, KEYS[2] ban; ARGV window ms, max failures, ban ms. 1 when this call banned.
// One script so that two replicas counting the same source at once cannot both miss the limit.
const redis::Script kFail(R"lua(
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], n, 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua");

// KEYS[1] counter; ARGV window ms. The count in this window.
const redis::Script kCount(R"lua(
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
)lua");

}  // namespace

std::string AuthFailureBan::BanKey(std::string_view source_ip) {
  return "ban:" + std::string(source_ip);
}

std::string AuthFailureBan::FailuresKey(std::string_view source_ip) {
  return "authfail:" + std::string(source_ip);
}

Result<bool> AuthFailureBan::IsBanned(std::string_view source_ip) {
  auto reply = client_.Run(redis::Command("EXISTS").Key(BanKey(source_ip)));
  if (!reply.ok()) return reply.status();
  return reply->integer().value_or(0) == 1;
}

Result<bool> AuthFailureBan::RecordFailure(std::string_view source_ip) {
  auto reply =
      client_.Eval(kFail, {FailuresKey(source_ip), BanKey(source_ip)},
                   {std::to_string(policy_.window.count()), std::to_string(policy_.max_failures),
                    std::to_string(policy_.ban_for.count())});
  if (!reply.ok()) return reply.status();
  return reply->integer().value_or(0) == 1;
}

Status AuthFailureBan::Lift(std::string_view source_ip) {
  auto reply =
      client_.Run(redis::Command("DEL").Key(BanKey(source_ip)).Key(FailuresKey(source_ip)));
  return reply.ok() ? Status::Ok() : reply.status();
}

Result<bool> AccountRateLimit::Allow(std::string_view realm, std::string_view user) {
  if (policy_.max_requests <= 0) return true;
  auto reply =
      client_.Eval(kCount, {policy_.counter + ":" + std::string(realm) + ":" + std::string(user)},
                   {std::to_string(policy_.window.count())});
  if (!reply.ok()) return reply.status();
  return reply->integer().value_or(0) <= policy_.max_requests;
}

}  // namespace sb::signaling
