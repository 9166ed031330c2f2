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

// KEYS[1] counter, KEYS[2] a key whose existence skips the count; ARGV window ms. The count in
// this window (0 when skipped).
const redis::Script kCount(R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
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
  return IsBannedReply(client_.Run(IsBannedCommand(source_ip)));
}

redis::Command AuthFailureBan::IsBannedCommand(std::string_view source_ip) {
  redis::Command exists("EXISTS");
  exists.Key(BanKey(source_ip));
  return exists;
}

Result<bool> AuthFailureBan::IsBannedReply(const Result<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
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
  const std::vector<redis::Command> commands = AllowCommands(realm, user);
  if (commands.empty()) return true;
  auto replies = client_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (size_t i = 1; i < replies->size(); ++i) SB_RETURN_IF_ERROR(KeptReply((*replies)[i]));
  return AllowReply(replies->front());
}

std::vector<redis::Command> AccountRateLimit::AllowCommands(std::string_view realm,
                                                            std::string_view user,
                                                            std::string_view unless_exists) const {
  std::vector<redis::Command> commands;
  if (policy_.max_requests <= 0) return commands;
  std::string counter = policy_.counter + ":" + std::string(realm) + ":" + std::string(user);
  const std::string window = std::to_string(policy_.window.count());
  if (!unless_exists.empty()) {
    commands.push_back(
        redis::Command::Eval(kCount, {std::move(counter), std::string(unless_exists)}, {window}));
    return commands;
  }
  // NX: the window starts at the count that created the key (or one left without an expiry).
  commands.push_back(std::move(redis::Command("INCR").Key(counter)));
  commands.push_back(std::move(redis::Command("PEXPIRE").Key(counter).Arg(window).Arg("NX")));
  return commands;
}

Status AccountRateLimit::KeptReply(const Result<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  return Status::Ok();
}

Result<bool> AccountRateLimit::AllowReply(const Result<redis::Reply>& reply) const {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  return reply->integer().value_or(0) <= policy_.max_requests;
}

}  // namespace sb::signaling
