#include "cache/lookup_cache.h"

#include "switchboard/core/ascii.h"

namespace sb::admin {
namespace {

constexpr std::string_view kSourcesSet = "lk:srcs";
constexpr std::string_view kOutboundPrefix = "lk:out:";

std::string TenantSet(const TenantId& t) { return "lk:t:" + t.str(); }
std::string OutboundSet(const TenantId& t) { return "lk:tout:" + t.str(); }

}  // namespace

// SIP domains compare case-insensitively (RFC 3261 §19.1.4); users do not.
std::string LookupCache::DomainKey(std::string_view d) { return "lk:dom:" + core::AsciiLowered(d); }
std::string LookupCache::CredentialsKey(std::string_view d, std::string_view user) {
  return "lk:cred:" + core::AsciiLowered(d) + ":" + std::string(user);
}
std::string LookupCache::NumberKey(std::string_view e164) { return "lk:num:" + std::string(e164); }
std::string LookupCache::SourceKey(std::string_view ip) { return "lk:src:" + std::string(ip); }
std::string LookupCache::ExtensionKey(std::string_view d, std::string_view user) {
  return "lk:ext:" + core::AsciiLowered(d) + ":" + std::string(user);
}
std::string LookupCache::TenantKey(const TenantId& tenant) { return "lk:tid:" + tenant.str(); }
// The trunk id and the dialled number hold no ':', so the caller id after them cannot make two
// keys collide.
std::string LookupCache::OutboundKey(const TenantId& tenant, std::string_view trunk_id,
                                     std::string_view dialed, std::string_view caller_id) {
  return std::string(kOutboundPrefix) + tenant.str() + ":" + std::string(trunk_id) + ":" +
         std::string(dialed) + ":" + std::string(caller_id);
}

bool LookupCache::HoldsSecret(std::string_view key) { return key.rfind(kOutboundPrefix, 0) == 0; }

Result<std::optional<std::string>> LookupCache::Get(const std::string& key, uint64_t* generation,
                                                    bool* local_hit) {
  uint64_t gen = 0;
  if (local_) {
    gen = local_->Generation();
    if (generation) *generation = gen;
    if (auto hit = local_->Get(key)) {
      if (local_hit) *local_hit = true;
      return hit;
    }
  }
  auto reply = redis_.Run(redis::Command("GET").Key(key));
  if (!reply.ok()) return reply.status();
  const std::string* stored = reply->str();
  if (!stored) return std::optional<std::string>();
  std::string bytes = *stored;
  if (HoldsSecret(key)) {
    auto opened = box_.Open(*stored, key);
    // Sealed under another secret key (it was rotated): the fill overwrites it.
    if (!opened.ok()) return std::optional<std::string>();
    bytes = std::move(*opened);
  }
  if (local_) local_->Put(key, bytes, gen);
  return std::optional<std::string>(std::move(bytes));
}

Status LookupCache::Put(const std::string& key, std::string_view bytes,
                        const std::optional<TenantId>& tenant, std::optional<uint64_t> generation) {
  if (local_ && generation) local_->Put(key, bytes, *generation);
  std::string sealed;
  if (HoldsSecret(key)) {
    auto s = box_.Seal(bytes, key);
    if (!s.ok()) return s.status();
    sealed = std::move(*s);
  }
  std::vector<redis::Command> commands;
  commands.push_back(redis::Command("SET")
                         .Key(key)
                         .Arg(HoldsSecret(key) ? std::string_view(sealed) : bytes)
                         .Arg("PX")
                         .Arg(ttl_.count()));
  if (tenant) commands.push_back(redis::Command("SADD").Key(TenantSet(*tenant)).Arg(key));
  if (key.rfind("lk:src:", 0) == 0) {
    commands.push_back(redis::Command("SADD").Key(std::string(kSourcesSet)).Arg(key));
  }
  if (tenant && key.rfind(kOutboundPrefix, 0) == 0) {
    commands.push_back(redis::Command("SADD").Key(OutboundSet(*tenant)).Arg(key));
  }
  // One transaction, so that a ForgetSet never sees the entry without its set membership (it
  // would delete the set and leave the entry behind, unforgettable until the TTL).
  commands.insert(commands.begin(), redis::Command("MULTI"));
  commands.push_back(redis::Command("EXEC"));
  auto replies = redis_.Pipeline(commands);
  return replies.status();
}

Status LookupCache::Forget(const std::string& key) {
  if (local_) local_->Forget(key);
  return redis_.Run(redis::Command("DEL").Key(key)).status();
}

Status LookupCache::ForgetSet(const std::string& set_key) {
  // In one script: read apart, the set could gain a member (a concurrent Put) between the read
  // and its deletion, and that entry would be in no set any more. Members are stored without the
  // client's key prefix (they were arguments, not keys): ARGV[1] puts it back.
  static const redis::Script kForgetSet(R"(
    local members = redis.call('SMEMBERS', KEYS[1])
    for _, m in ipairs(members) do redis.call('DEL', ARGV[1] .. m) end
    redis.call('DEL', KEYS[1])
    return #members
  )");
  auto reply = redis_.Eval(kForgetSet, {set_key}, {redis_.key_prefix()});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  return Status::Ok();
}

// Locally a tenant's entries are not indexed (a Redis hit does not say whose it is), and tenant
// changes are rare: all of it goes.
Status LookupCache::ForgetTenant(const TenantId& tenant) {
  if (local_) local_->ForgetAll();
  return ForgetSet(TenantSet(tenant));
}

Status LookupCache::ForgetSources() {
  if (local_) local_->ForgetPrefix("lk:src:");
  return ForgetSet(std::string(kSourcesSet));
}

Status LookupCache::ForgetOutbound(const TenantId& tenant) {
  if (local_) local_->ForgetPrefix(std::string(kOutboundPrefix) + tenant.str() + ":");
  return ForgetSet(OutboundSet(tenant));
}

}  // namespace sb::admin
