#include "store/redis_binding_store.h"

#include <algorithm>
#include <charconv>

#include "store/unix_millis.h"

namespace sb::signaling {
namespace {

// Path values are URIs, which cannot hold '|' or a line break unescaped (RFC 3261 §25.1); they
// are joined by '\n'.
std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) {
    if (!out.empty()) out += '\n';
    for (char c : p) {
      if (c != '|' && c != '\n') out += c;
    }
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

// After the Call-ID, which may hold '|' but no control character: "\x1f<instance>\x1f<reg-id>"
// when the phone gave an instance (a record without it is one written before RFC 5626 support,
// and a replica that predates it reads the suffix as part of the Call-ID: harmless, as that only
// weakens its out-of-order check for the binding).
constexpr char kInstanceSeparator = '\x1f';

std::string EncodeBinding(const Binding& b) {
  // Call-ID goes last: it is the only field that may contain the separator.
  std::string out = std::to_string(b.q_milli) + "|" + std::to_string(UnixMillis(b.expires_at)) +
                    "|" + std::to_string(b.cseq) + "|" + b.source + "|" + JoinPath(b.path) + "|" +
                    b.call_id;
  if (!b.instance.empty()) {
    out += kInstanceSeparator + b.instance + kInstanceSeparator + std::to_string(b.reg_id);
  }
  return out;
}

namespace {

template <typename T>
bool Number(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::optional<Binding> DecodeBinding(std::string contact, std::string_view value) {
  Binding b;
  b.contact = std::move(contact);
  std::string_view fields[5];
  for (auto& field : fields) {
    size_t bar = value.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    field = value.substr(0, bar);
    value.remove_prefix(bar + 1);
  }
  int64_t expires_ms = 0;
  if (!Number(fields[0], b.q_milli) || !Number(fields[1], expires_ms) ||
      !Number(fields[2], b.cseq)) {
    return std::nullopt;
  }
  b.expires_at = FromUnixMillis(expires_ms);
  b.source = std::string(fields[3]);
  b.path = SplitPath(fields[4]);
  const size_t instance_at = value.find(kInstanceSeparator);
  b.call_id = std::string(value.substr(0, instance_at));
  if (instance_at != std::string_view::npos) {
    value.remove_prefix(instance_at + 1);
    const size_t reg_id_at = value.find(kInstanceSeparator);
    if (reg_id_at == std::string_view::npos || !Number(value.substr(reg_id_at + 1), b.reg_id)) {
      return std::nullopt;
    }
    b.instance = std::string(value.substr(0, reg_id_at));
  }
  return b;
}

std::string RedisBindingStore::Key(const TenantId& tenant, std::string_view aor) {
  return "reg:" + tenant.str() + ":" + std::string(aor);
}

Result<std::vector<Binding>> RedisBindingStore::Load(const TenantId& tenant, std::string_view aor) {
  return LoadReply(client_.Run(LoadCommand(tenant, aor)));
}

redis::Command RedisBindingStore::LoadCommand(const TenantId& tenant, std::string_view aor) {
  redis::Command hgetall("HGETALL");
  hgetall.Key(Key(tenant, aor));
  return hgetall;
}

Result<std::vector<Binding>> RedisBindingStore::LoadReply(const Result<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  std::vector<Binding> out;
  const redis::Reply::Array* items = reply->array();
  if (items == nullptr) return out;
  for (size_t i = 0; i + 1 < items->size(); i += 2) {
    const std::string* field = (*items)[i].str();
    const std::string* value = (*items)[i + 1].str();
    if (field == nullptr || value == nullptr) continue;
    // A value this code cannot read is skipped rather than failing the phone's REGISTER; the
    // next Save rewrites the hash without it.
    if (auto b = DecodeBinding(*field, *value)) out.push_back(std::move(*b));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Binding& a, const Binding& b) { return a.q_milli > b.q_milli; });
  return out;
}

Status RedisBindingStore::Save(const TenantId& tenant, std::string_view aor,
                               const std::vector<Binding>& before,
                               const std::vector<Binding>& after, const SaveTerms& terms) {
  return SaveReply(client_.Pipeline(SaveCommands(tenant, aor, before, after, terms)));
}

namespace {

// A save that adds a contact, checked against the AOR's limit where no other request can come
// between the count and the write. KEYS[1] the AOR's hash, KEYS[2] the due set, KEYS[3] and
// KEYS[4] the outbox's parked hash and due set; ARGV[1] now (unix ms), ARGV[2] the limit,
// ARGV[3] the hash's expiry, ARGV[4] the AOR's due time and ARGV[5] its member in the due set,
// ARGV[6] when what is parked is due, ARGV[7..9] how many contacts are gone, bindings written
// and messages parked, then the contacts gone, pairs of contact and value written, pairs of msg
// id and parked value. A binding's expiry is the second '|' field of its value.
const redis::Script kCheckedSave(R"lua(
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local gone_at = 10
local written_at = gone_at + tonumber(ARGV[7])
local parked_at = written_at + 2 * tonumber(ARGV[8])
local mine = {}
for i = gone_at, written_at - 1 do mine[ARGV[i]] = true end
for i = written_at, parked_at - 1, 2 do mine[ARGV[i]] = true end
local live = tonumber(ARGV[8])
local stored = redis.call('HGETALL', KEYS[1])
for i = 1, #stored, 2 do
  if not mine[stored[i]] then
    local expires = tonumber(string.match(stored[i + 1], '^[^|]*|([^|]*)|'))
    if expires and expires > now then live = live + 1 end
  end
end
if live > limit then return redis.error_reply('FULL more than ' .. limit .. ' bindings') end
if written_at > gone_at then redis.call('HDEL', KEYS[1], unpack(ARGV, gone_at, written_at - 1)) end
redis.call('HSET', KEYS[1], unpack(ARGV, written_at, parked_at - 1))
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'NX')
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'GT')
redis.call('ZADD', KEYS[2], 'LT', ARGV[4], ARGV[5])
for i = parked_at, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[i])
end
return 1
)lua");

constexpr std::string_view kFull = "FULL";

}  // namespace

// Plain commands rather than one script where nothing needs checking: Redis runs a script's
// commands at about three times their own cost (6-9 against 2.5-4 us a save; bench/RESULTS.md,
// session 29), and most saves are refreshes. Only what changed is written, never the whole set:
// a REGISTER's view of the AOR is as old as its HGETALL, and another phone of the AOR may have
// registered since (through this node, in the same batch, or through another one); rewriting
// the set lost its binding (session 30).
//
// A save that adds a contact is the one that can take the AOR past its limit, together with
// another phone's doing the same meanwhile: with a limit it is one script that counts what is
// stored before it writes (kCheckedSave).
//
// Otherwise in MULTI .. EXEC when a part alone would leave something behind: parked events, which
// go with the save or not at all, and a hash this save may create (none seen, or every one seen
// removed), whose expiry and due entry must come with it. A phone's refresh of a hash it saw is
// neither: each of its commands keeps the hash's invariants by itself (the fields, an expiry
// only extended, a due time only lowered), and should the connection drop between them, the
// phone is answered 503 and sends its refresh again. That saves MULTI, EXEC and the NX expiry,
// half of a refresh's commands (session 32).
std::vector<redis::Command> RedisBindingStore::SaveCommands(const TenantId& tenant,
                                                            std::string_view aor,
                                                            const std::vector<Binding>& before,
                                                            const std::vector<Binding>& after,
                                                            const SaveTerms& terms) {
  const std::string key = Key(tenant, aor);
  auto holds = [](const std::vector<Binding>& bindings, const std::string& contact) {
    return std::any_of(bindings.begin(), bindings.end(),
                       [&](const Binding& b) { return b.contact == contact; });
  };
  std::vector<std::string_view> gone;
  for (const Binding& b : before) {
    if (!holds(after, b.contact)) gone.push_back(b.contact);
  }
  WallTime first = WallTime::max();
  WallTime last{};
  std::vector<const Binding*> written;
  bool adds = false;
  for (const Binding& b : after) {
    first = std::min(first, b.expires_at);
    last = std::max(last, b.expires_at);
    if (std::find(before.begin(), before.end(), b) != before.end()) continue;
    written.push_back(&b);
    adds = adds || !holds(before, b.contact);
  }
  // The hash lives until the latest binding anyone wrote into it has lapsed, plus the grace.
  const std::string expires = std::to_string(UnixMillis(last + kLapseGrace));
  // The sweep may come too early (it then files the AOR under its next expiry), never too late.
  const std::string due = std::to_string(UnixMillis(first));
  static const RedisEventOutbox::Parking kNothingParked;
  const RedisEventOutbox::Parking& parked = terms.parked ? *terms.parked : kNothingParked;

  if (adds && terms.max_contacts > 0) {
    std::vector<std::string> args = {std::to_string(UnixMillis(terms.now)),
                                     std::to_string(terms.max_contacts),
                                     expires,
                                     due,
                                     key,
                                     parked.due_ms.empty() ? "0" : parked.due_ms,
                                     std::to_string(gone.size()),
                                     std::to_string(written.size()),
                                     std::to_string(parked.entries.size())};
    for (std::string_view contact : gone) args.emplace_back(contact);
    for (const Binding* b : written) {
      args.push_back(b->contact);
      args.push_back(EncodeBinding(*b));
    }
    for (const auto& [id, value] : parked.entries) {
      args.push_back(id);
      args.push_back(value);
    }
    std::vector<redis::Command> commands;
    commands.push_back(
        redis::Command::Eval(kCheckedSave,
                             {key, std::string(kDueKey), std::string(RedisEventOutbox::kParkedKey),
                              std::string(RedisEventOutbox::kDueKey)},
                             args));
    return commands;
  }

  // Redis deletes the hash with its last field, so removing all this save saw may delete it.
  const bool may_create = gone.size() == before.size();
  std::vector<redis::Command> park = RedisEventOutbox::ParkCommands(parked);
  const bool atomic = may_create || !park.empty();
  std::vector<redis::Command> commands;
  commands.reserve(7 + park.size());
  if (atomic) commands.push_back(redis::Command("MULTI"));
  if (!gone.empty()) {
    redis::Command hdel("HDEL");
    hdel.Key(key);
    for (std::string_view contact : gone) hdel.Arg(contact);
    commands.push_back(std::move(hdel));
  }
  if (!after.empty()) {
    if (!written.empty()) {
      redis::Command hset("HSET");
      hset.Key(key);
      for (const Binding* b : written) hset.Arg(b->contact).Arg(EncodeBinding(*b));
      commands.push_back(std::move(hset));
      // NX gives a new hash its expiry, GT only ever extends one (a binding this request did not
      // see may outlive the ones it did). A hash this save saw and kept has its expiry already.
      if (may_create) {
        commands.push_back(std::move(redis::Command("PEXPIREAT").Key(key).Arg(expires).Arg("NX")));
      }
      commands.push_back(std::move(redis::Command("PEXPIREAT").Key(key).Arg(expires).Arg("GT")));
    }
    // LT: the due time is only ever lowered here, and the AOR never taken out of the due set:
    // the sweep does that once it finds the hash empty. The member names the hash without the
    // client's prefix, as the sweep reads it back through Key().
    commands.push_back(
        std::move(redis::Command("ZADD").Key(std::string(kDueKey)).Arg("LT").Arg(due).Arg(key)));
  }
  // What goes with the save (parked events) is written with it or not at all.
  for (redis::Command& c : park) commands.push_back(std::move(c));
  if (atomic) commands.push_back(redis::Command("EXEC"));
  return commands;
}

Status RedisBindingStore::SaveReply(const Result<std::vector<redis::Reply>>& replies) {
  // Whatever failed the pipeline (even Redis out of memory loading the script) is UNAVAILABLE:
  // RESOURCE_EXHAUSTED means the limit only.
  if (!replies.ok())
    return Status::Unavailable("bindings not saved: " + replies.status().message());
  // Plain commands and the checked save's script answer for themselves (the script's refusal is
  // a FULL error); in MULTI .. EXEC a command refused while queued makes EXEC refuse too, and
  // EXEC's array holds what the queued ones answered.
  for (const redis::Reply& r : *replies) {
    if (!r.is_error()) continue;
    if (r.error()->starts_with(kFull)) {
      return Status::ResourceExhausted("bindings not saved: " + *r.error());
    }
    return Status::Unavailable("bindings not saved: " + *r.error());
  }
  const redis::Reply& last = replies->back();
  if (last.is_nil()) return Status::Unavailable("bindings not saved: EXEC aborted");
  if (const redis::Reply::Array* executed = last.array()) {
    for (const redis::Reply& r : *executed) {
      if (r.is_error()) return Status::Internal("bindings not saved: " + *r.error());
    }
  }
  return Status::Ok();
}

}  // namespace sb::signaling
