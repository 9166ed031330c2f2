#include "store/redis_binding_lapses.h"

#include "store/redis_binding_store.h"
#include "store/unix_millis.h"

namespace sb::signaling {
namespace {

// KEYS[1] due set; ARGV[1] now (unix ms), ARGV[2] limit, ARGV[3] lease (ms).
const redis::Script kClaim(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken_until = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], taken_until, member) end
return due
)lua");

// KEYS[1] due set, KEYS[2] the AOR hash, KEYS[3] and KEYS[4] the outbox's parked hash and due
// set; ARGV[1] the AOR's member in the due set, ARGV[2] when what is parked is due (unix ms),
// ARGV[3] how many messages to park when something is removed, then that many pairs of msg id and
// parked value, then pairs of contact and stored value to remove. The earliest expiry is the
// second '|' field of a value.
const redis::Script kRemove(R"lua(
local parked = tonumber(ARGV[3])
local first_binding = 4 + 2 * parked
local removed = 0
for i = first_binding, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
if removed > 0 then
  for i = 4, first_binding - 1, 2 do
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    redis.call('ZADD', KEYS[4], ARGV[2], ARGV[i])
  end
end
local earliest = nil
for _, value in ipairs(redis.call('HVALS', KEYS[2])) do
  local expires = tonumber(string.match(value, '^[^|]*|([^|]*)|'))
  if expires and (earliest == nil or expires < earliest) then earliest = expires end
end
if earliest == nil then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], earliest, ARGV[1])
end
return removed
)lua");

}  // namespace

std::optional<AddressOfRecordKey> ParseBindingKey(std::string_view key) {
  constexpr std::string_view kPrefix = "reg:";
  if (!key.starts_with(kPrefix)) return std::nullopt;
  key.remove_prefix(kPrefix.size());
  size_t colon = key.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == key.size()) {
    return std::nullopt;
  }
  return AddressOfRecordKey{TenantId(std::string(key.substr(0, colon))),
                            std::string(key.substr(colon + 1))};
}

Result<std::vector<AddressOfRecordKey>> RedisBindingLapses::Claim(WallTime now, size_t limit,
                                                                  std::chrono::milliseconds lease) {
  auto reply = client_.Eval(
      kClaim, {std::string(RedisBindingStore::kDueKey)},
      {std::to_string(UnixMillis(now)), std::to_string(limit), std::to_string(lease.count())});
  if (!reply.ok()) return reply.status();
  std::vector<AddressOfRecordKey> out;
  const redis::Reply::Array* members = reply->array();
  if (members == nullptr) return Status::Internal("lapse claim answered a non-array");
  for (const redis::Reply& member : *members) {
    const std::string* text = member.str();
    if (text == nullptr) continue;
    // A member this code cannot read stays claimed (and retried after the lease) rather than
    // being dropped: it was written by a newer replica.
    if (auto key = ParseBindingKey(*text)) out.push_back(std::move(*key));
  }
  return out;
}

Result<size_t> RedisBindingLapses::RemoveIfUnchanged(const TenantId& tenant, std::string_view aor,
                                                     const std::vector<Binding>& bindings,
                                                     const RedisEventOutbox::Parking* report) {
  const std::string key = RedisBindingStore::Key(tenant, aor);
  const size_t parked = report != nullptr ? report->entries.size() : 0;
  std::vector<std::string> args = {key, report != nullptr ? report->due_ms : "0",
                                   std::to_string(parked)};
  if (report != nullptr) {
    for (const auto& [id, value] : report->entries) {
      args.push_back(id);
      args.push_back(value);
    }
  }
  for (const Binding& b : bindings) {
    args.push_back(b.contact);
    args.push_back(EncodeBinding(b));
  }
  auto reply = client_.Eval(
      kRemove,
      {std::string(RedisBindingStore::kDueKey), key, std::string(RedisEventOutbox::kParkedKey),
       std::string(RedisEventOutbox::kDueKey)},
      args);
  if (!reply.ok()) return reply.status();
  auto removed = reply->integer();
  if (!removed) return Status::Internal("binding removal answered a non-integer");
  return static_cast<size_t>(*removed);
}

}  // namespace sb::signaling
