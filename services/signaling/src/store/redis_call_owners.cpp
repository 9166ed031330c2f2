#include "store/redis_call_owners.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "store/unix_millis.h"

namespace sb::signaling {
namespace {

constexpr std::string_view kNodes = "nodes";
constexpr std::string_view kNodeSip = "node_sip";

// The strings of an array reply (SRANDMEMBER, ZRANGEBYSCORE).
Result<std::vector<std::string>> Strings(const Result<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  if (const redis::Reply::Array* items = reply->array()) {
    for (const auto& item : *items) {
      if (const std::string* s = item.str()) out.push_back(*s);
    }
  }
  return out;
}

}  // namespace

std::string RedisCallOwners::CallsKey(std::string_view instance) {
  return "node_calls:" + std::string(instance);
}

std::string RedisCallOwners::NewInstance(std::string_view node_id) {
  std::random_device random;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", random());
  std::string instance(node_id);
  instance += '.';
  instance += hex;
  return instance;
}

std::string_view RedisCallOwners::NodeOf(std::string_view instance) {
  return instance.substr(0, instance.rfind('.'));
}

Status RedisCallOwners::Heartbeat(std::string_view instance, core::Clock::WallTime now,
                                  std::string_view sip_uri) {
  std::vector<redis::Command> commands;
  commands.push_back(redis::Command("ZADD").Key(kNodes).Arg(UnixMillis(now)).Arg(instance));
  if (!sip_uri.empty()) {
    commands.push_back(redis::Command("HSET").Key(kNodeSip).Arg(instance).Arg(sip_uri));
  }
  auto replies = client_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const auto& reply : *replies) {
    if (reply.is_error()) return redis::ErrorStatus(*reply.error());
  }
  return Status::Ok();
}

Result<std::vector<std::string>> RedisCallOwners::LiveSipUris(core::Clock::WallTime since) {
  auto live = Strings(
      client_.Run(redis::Command("ZRANGEBYSCORE").Key(kNodes).Arg(UnixMillis(since)).Arg("+inf")));
  if (!live.ok()) return live.status();
  if (live->empty()) return std::vector<std::string>{};
  redis::Command hmget("HMGET");
  hmget.Key(kNodeSip);
  for (const auto& instance : *live) hmget.Arg(instance);
  auto uris = Strings(client_.Run(hmget));
  if (!uris.ok()) return uris.status();
  std::sort(uris->begin(), uris->end());
  uris->erase(std::unique(uris->begin(), uris->end()), uris->end());
  return uris;
}

Status RedisCallOwners::Retire(std::string_view instance) {
  return client_.Run(redis::Command("ZADD").Key(kNodes).Arg("XX").Arg(int64_t{0}).Arg(instance))
      .status();
}

Result<bool> RedisCallOwners::HeardFrom(std::string_view instance, core::Clock::WallTime since) {
  auto reply = client_.Run(redis::Command("ZSCORE").Key(kNodes).Arg(instance));
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  const std::string* score = reply->str();  // nil: not a member
  return score != nullptr && std::stoll(*score) >= UnixMillis(since);
}

Result<std::vector<std::string>> RedisCallOwners::Silent(core::Clock::WallTime since,
                                                         size_t limit) {
  // Appended, not `"(" + ...`: GCC 12 warns (-Wrestrict) on that inlined insert.
  std::string before = "(";
  before += std::to_string(UnixMillis(since));
  return Strings(client_.Run(redis::Command("ZRANGEBYSCORE")
                                 .Key(kNodes)
                                 .Arg("-inf")
                                 .Arg(before)
                                 .Arg("LIMIT")
                                 .Arg(0)
                                 .Arg(static_cast<int64_t>(limit))));
}

Result<std::vector<std::string>> RedisCallOwners::Adopt(std::string_view dead,
                                                        std::string_view self, size_t batch) {
  auto ids = Strings(client_.Run(
      redis::Command("SRANDMEMBER").Key(CallsKey(dead)).Arg(static_cast<int64_t>(batch))));
  if (!ids.ok()) return ids.status();
  if (ids->empty()) {
    // Nothing left to take over: the instance is gone for good (a replica restarted under its
    // node id heartbeats as another instance).
    SB_RETURN_IF_ERROR(client_.Run(redis::Command("ZREM").Key(kNodes).Arg(dead)).status());
    SB_RETURN_IF_ERROR(client_.Run(redis::Command("HDEL").Key(kNodeSip).Arg(dead)).status());
    return std::vector<std::string>{};
  }
  std::vector<redis::Command> moves;
  for (const auto& id : *ids) {
    moves.push_back(redis::Command("SMOVE").Key(CallsKey(dead)).Key(CallsKey(self)).Arg(id));
  }
  auto replies = client_.Pipeline(std::move(moves));
  if (!replies.ok()) return replies.status();
  std::vector<std::string> won;
  for (size_t i = 0; i < replies->size(); ++i) {
    const redis::Reply& reply = (*replies)[i];
    if (reply.is_error()) return redis::ErrorStatus(*reply.error());
    if (reply.integer() == 1) won.push_back((*ids)[i]);
  }
  return won;
}

Status RedisCallOwners::Disown(std::string_view self, std::string_view call_id) {
  return client_.Run(redis::Command("SREM").Key(CallsKey(self)).Arg(call_id)).status();
}

}  // namespace sb::signaling
