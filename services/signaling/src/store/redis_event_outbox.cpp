#include "store/redis_event_outbox.h"

#include "store/unix_millis.h"

namespace sb::signaling {
namespace {

// KEYS[1] the parked hash, KEYS[2] its due set; ARGV[1] now (unix ms), ARGV[2] limit, ARGV[3]
// lease (ms). Returns the parked values taken; an id whose value is gone (unparked meanwhile) is
// dropped from the due set.
const redis::Script kClaim(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken_until = tonumber(ARGV[1]) + tonumber(ARGV[3])
local out = {}
for _, id in ipairs(due) do
  local value = redis.call('HGET', KEYS[1], id)
  if value then
    redis.call('ZADD', KEYS[2], taken_until, id)
    out[#out + 1] = value
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return out
)lua");

}  // namespace

std::string EncodeParked(const bus::JsOutbound& message) {
  // Subjects and msg ids hold no newline (subjects are tokens, ids UUIDs or lapse keys).
  return message.message.subject + "\n" + message.msg_id + "\n" + message.message.data;
}

std::optional<bus::JsOutbound> DecodeParked(std::string_view value) {
  const size_t first = value.find('\n');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const size_t second = value.find('\n', first + 1);
  if (second == std::string_view::npos || second == first + 1) return std::nullopt;
  bus::JsOutbound out;
  out.message.subject = std::string(value.substr(0, first));
  out.msg_id = std::string(value.substr(first + 1, second - first - 1));
  out.message.data = std::string(value.substr(second + 1));
  return out;
}

RedisEventOutbox::Parking RedisEventOutbox::ParkingOf(const std::vector<bus::JsOutbound>& messages,
                                                      WallTime now) const {
  Parking parking{.due_ms = std::to_string(UnixMillis(now + lease_)), .entries = {}};
  for (const bus::JsOutbound& m : messages) parking.entries.emplace_back(m.msg_id, EncodeParked(m));
  return parking;
}

std::vector<redis::Command> RedisEventOutbox::ParkCommands(
    const std::vector<bus::JsOutbound>& messages, WallTime now) const {
  if (messages.empty()) return {};
  return ParkCommands(ParkingOf(messages, now));
}

std::vector<redis::Command> RedisEventOutbox::ParkCommands(const Parking& parking) {
  if (parking.entries.empty()) return {};
  redis::Command hset("HSET");
  hset.Key(kParkedKey);
  redis::Command zadd("ZADD");
  zadd.Key(kDueKey);
  for (const auto& [id, value] : parking.entries) {
    hset.Arg(id).Arg(value);
    zadd.Arg(parking.due_ms).Arg(id);
  }
  std::vector<redis::Command> commands;
  commands.push_back(std::move(hset));
  commands.push_back(std::move(zadd));
  return commands;
}

Status RedisEventOutbox::Park(const std::vector<bus::JsOutbound>& messages, WallTime now) {
  if (messages.empty()) return Status::Ok();
  return Transact(ParkCommands(messages, now), "parked");
}

Status RedisEventOutbox::Done(const std::vector<std::string>& msg_ids) {
  if (msg_ids.empty()) return Status::Ok();
  redis::Command hdel("HDEL");
  hdel.Key(kParkedKey);
  redis::Command zrem("ZREM");
  zrem.Key(kDueKey);
  for (const std::string& id : msg_ids) {
    hdel.Arg(id);
    zrem.Arg(id);
  }
  return Transact({std::move(hdel), std::move(zrem)}, "unparked");
}

Status RedisEventOutbox::Transact(std::vector<redis::Command> commands, std::string_view what) {
  commands.insert(commands.begin(), redis::Command("MULTI"));
  commands.emplace_back("EXEC");
  auto replies = client_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  const redis::Reply& exec = replies->back();
  if (exec.is_error() || exec.array() == nullptr) {
    return Status::Unavailable("events not " + std::string(what) + ": " +
                               (exec.error() ? *exec.error() : std::string("EXEC aborted")));
  }
  return Status::Ok();
}

Result<std::vector<bus::JsOutbound>> RedisEventOutbox::Claim(WallTime now, size_t limit) {
  auto reply = client_.Eval(
      kClaim, {std::string(kParkedKey), std::string(kDueKey)},
      {std::to_string(UnixMillis(now)), std::to_string(limit), std::to_string(lease_.count())});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  const redis::Reply::Array* values = reply->array();
  if (values == nullptr) return Status::Internal("parked event claim answered a non-array");
  std::vector<bus::JsOutbound> out;
  for (const redis::Reply& value : *values) {
    const std::string* text = value.str();
    // A value this code cannot read stays parked (and claimed again after the lease) rather
    // than being dropped: a newer replica wrote it.
    if (text == nullptr) continue;
    if (auto message = DecodeParked(*text)) out.push_back(std::move(*message));
  }
  return out;
}

}  // namespace sb::signaling
