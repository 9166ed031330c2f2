#include "store/redis_call_store.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "store/redis_call_owners.h"
#include "store/unix_millis.h"

namespace sb::signaling {
namespace {

constexpr char kField = '\x1f';
constexpr char kItem = '\x1e';
constexpr char kGroup = '\x1d';  // between a ringing call's forks, whose parts are items
// Version 2 added the summary fields (from, to, answered leg, times), version 3 each dialog's
// descriptions, version 4 each dialog's refresh (interval, method). An older record, from a
// replica not yet upgraded, still ends its call: version 1 with no times, and neither answers a
// session refresh; before version 4 the adopter only probes (OPTIONS), refreshing nothing. Later
// versions only append fields, so that this one reads theirs for what it knows (a rolling
// upgrade's old replicas end the new ones' calls); version 2 replicas could not, and refuse
// version 3 records. Version 5 added a ringing call's INVITEs (an older replica adopting one ends
// it without answering the caller or cancelling the contacts), version 6 who started each dialog
// and whose offer came first (an older replica reports a transfer target or a bridged-in caller
// the wrong way round, and the codec of our offer for a party that answered it), version 7 who
// the parties are (an older replica cannot transfer the call: 503 to a REFER, as before),
// version 8 side b's own URI (an older replica shows the answer command's caller, transferred,
// as the extension it called), version 9 where each party stands behind the balancer (an older
// replica's events show the balancer as that leg's remote source).
constexpr uint64_t kCurrentVersion = 9;
constexpr std::string_view kVersion = "9";
constexpr std::string_view kVersionWithoutSdp = "2";
constexpr std::string_view kVersionWithoutSummary = "1";

std::string DialogKey(const sip::DialogId& id) {
  return "dialog:" + id.call_id + ":" + id.local_tag;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// host, port and transport, `sep` between them.
void PutDestination(std::string& out, const sip::Destination& d, char sep) {
  out += d.host;
  out += sep;
  out += std::to_string(d.port);
  out += sep;
  out += sip::TransportName(d.transport);
}

void Put(std::string& out, std::string_view value) {
  out += value;
  out += kField;
}

void PutDialog(std::string& out, const b2bua::StoredDialog& d) {
  Put(out, d.id.call_id);
  Put(out, d.id.local_tag);
  Put(out, d.id.remote_tag);
  Put(out, d.local_uri);
  Put(out, d.remote_uri);
  Put(out, d.remote_target);
  std::string routes;
  for (size_t i = 0; i < d.route_set.size(); ++i) {
    if (i != 0) routes += kItem;
    routes += d.route_set[i];
  }
  Put(out, routes);
  Put(out, std::to_string(d.next_local_cseq));
  PutDestination(out, d.peer, kField);
  out += kField;
}

constexpr size_t kDialogFields = 11;
constexpr size_t kCallFields = 6 + 2 * kDialogFields;  // version 1: these only
constexpr size_t kSummaryFields = 5;
constexpr size_t kSdpFields = 4;
constexpr size_t kRefreshFields = 4;
constexpr size_t kRingingFields = 5;
constexpr size_t kRoleFields = 4;
constexpr size_t kPartyFields = 4;
constexpr size_t kSideBFields = 1;
constexpr size_t kEntryFields = 2 * 3;
constexpr std::string_view kYes = "1";
constexpr std::string_view kRefreshByUpdate = "UPDATE";
constexpr std::string_view kRefreshByInvite = "INVITE";

// A value holding the separator is not kept. No valid SDP holds one (its dialog then answers no
// refresh, as one from an older record); a caller's identity only from a URI escaping it (its
// call then cannot be transferred from the record).
std::string_view Storable(std::string_view text) {
  return text.find(kField) == std::string_view::npos ? text : std::string_view();
}

// The SIP messages of a ringing call, or nothing when one holds a separator (no message does
// but by a quoted-pair): the call is then adopted as one whose parties cannot be told.
bool RingingStorable(const b2bua::StoredCall& call) {
  auto clean = [](std::string_view text) {
    return text.find_first_of(std::string_view("\x1d\x1e\x1f", 3)) == std::string_view::npos;
  };
  if (!clean(call.ringing_invite) || !clean(call.ringing_source.host)) return false;
  return std::all_of(
      call.ringing_forks.begin(), call.ringing_forks.end(),
      [&](const b2bua::StoredFork& f) { return clean(f.invite) && clean(f.peer.host); });
}

std::string TimeField(const std::optional<core::Clock::WallTime>& t) {
  return t ? std::to_string(UnixMillis(*t)) : std::string();
}

bool ParseNumber(std::string_view text, uint64_t max, uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

bool GetDestination(std::string_view host, std::string_view port, std::string_view transport,
                    sip::Destination& d) {
  uint64_t number = 0;
  if (!ParseNumber(port, 65535, number)) return false;
  d.host = host;
  d.port = static_cast<uint16_t>(number);
  d.transport = transport == "TCP" ? sip::Transport::kTcp : sip::Transport::kUdp;
  return true;
}

bool GetDialog(const std::vector<std::string_view>& f, size_t at, b2bua::StoredDialog& d) {
  d.id = {std::string(f[at]), std::string(f[at + 1]), std::string(f[at + 2])};
  d.local_uri = f[at + 3];
  d.remote_uri = f[at + 4];
  d.remote_target = f[at + 5];
  d.route_set.clear();
  if (!f[at + 6].empty()) {
    for (auto r : Split(f[at + 6], kItem)) d.route_set.emplace_back(r);
  }
  uint64_t cseq = 0;
  if (!ParseNumber(f[at + 7], UINT32_MAX, cseq)) return false;
  d.next_local_cseq = static_cast<uint32_t>(cseq);
  return GetDestination(f[at + 8], f[at + 9], f[at + 10], d.peer);
}

}  // namespace

std::string RedisCallStore::Encode(const b2bua::StoredCall& call) {
  std::string out;
  Put(out, kVersion);
  Put(out, call.call_id);
  Put(out, call.tenant.str());
  Put(out, call.node_id);
  Put(out, call.media_node_id);
  std::string legs;
  for (size_t i = 0; i < call.media_legs.size(); ++i) {
    if (i != 0) legs += kItem;
    legs += call.media_legs[i];
  }
  Put(out, legs);
  PutDialog(out, call.caller);
  PutDialog(out, call.callee);
  Put(out, call.from_uri);
  Put(out, call.to_uri);
  Put(out, call.answered_leg);
  Put(out, TimeField(call.start_time));
  Put(out, TimeField(call.answer_time));
  for (const auto* d : {&call.caller, &call.callee}) {
    Put(out, Storable(d->local_sdp));
    Put(out, Storable(d->peer_sdp));
  }
  for (const auto* d : {&call.caller, &call.callee}) {
    Put(out, std::to_string(d->refresh_interval));
    Put(out, d->refresh_by_update ? kRefreshByUpdate : kRefreshByInvite);
  }
  const bool ringing = RingingStorable(call);
  Put(out, ringing ? std::string_view(call.ringing_invite) : std::string_view());
  if (ringing && !call.ringing_invite.empty()) {
    PutDestination(out, call.ringing_source, kField);
    out += kField;
  } else {
    for (int i = 0; i < 3; ++i) Put(out, {});
  }
  std::string forks;
  for (size_t i = 0; ringing && i < call.ringing_forks.size(); ++i) {
    if (i != 0) forks += kGroup;
    forks += call.ringing_forks[i].invite;
    forks += kItem;
    PutDestination(forks, call.ringing_forks[i].peer, kItem);
  }
  Put(out, forks);
  for (const auto* d : {&call.caller, &call.callee}) {
    Put(out, d->outbound ? kYes : "0");
    Put(out, d->we_offered ? kYes : "0");
  }
  Put(out, Storable(call.caller_party.domain));
  Put(out, Storable(call.caller_party.extension));
  Put(out, Storable(call.caller_party.trunk_id));
  Put(out, Storable(call.callee_trunk_id));
  Put(out, Storable(call.b_party_uri));
  for (const auto* d : {&call.caller, &call.callee}) {
    if (d->entry && !d->entry->host.empty() && Storable(d->entry->host) == d->entry->host) {
      PutDestination(out, *d->entry, kField);
      out += kField;
    } else {
      for (int i = 0; i < 3; ++i) Put(out, {});
    }
  }
  return out;
}

Result<b2bua::StoredCall> RedisCallStore::Decode(std::string_view text) {
  std::vector<std::string_view> f = Split(text, kField);
  // Every field ends with a separator, so the split leaves one empty tail.
  uint64_t version = 0;
  const bool sdp = ParseNumber(f[0], 999, version) && version >= 3 &&
                   f.size() >= kCallFields + kSummaryFields + kSdpFields + 1 &&
                   (version > 3 || f.size() == kCallFields + kSummaryFields + kSdpFields + 1);
  const bool summary =
      sdp || (f.size() == kCallFields + kSummaryFields + 1 && f[0] == kVersionWithoutSdp);
  if (!summary && (f.size() != kCallFields + 1 || f[0] != kVersionWithoutSummary)) {
    return Status::Internal("stored call in an unknown form");
  }
  b2bua::StoredCall call;
  call.existing_only = true;
  // Before version 6: the caller called us with its offer, we called the callee with ours.
  call.callee.outbound = call.callee.we_offered = true;
  call.call_id = f[1];
  call.tenant = TenantId(std::string(f[2]));
  call.node_id = f[3];
  call.media_node_id = f[4];
  if (!f[5].empty()) {
    for (auto leg : Split(f[5], kItem)) call.media_legs.emplace_back(leg);
  }
  if (!GetDialog(f, 6, call.caller) || !GetDialog(f, 6 + kDialogFields, call.callee)) {
    return Status::Internal("stored call with a bad number");
  }
  if (!summary) return call;
  call.from_uri = f[kCallFields];
  call.to_uri = f[kCallFields + 1];
  call.answered_leg = f[kCallFields + 2];
  for (auto [text, time] : {std::pair{f[kCallFields + 3], &call.start_time},
                            std::pair{f[kCallFields + 4], &call.answer_time}}) {
    if (text.empty()) continue;
    uint64_t ms = 0;
    if (!ParseNumber(text, INT64_MAX, ms)) return Status::Internal("stored call with a bad time");
    *time = FromUnixMillis(static_cast<int64_t>(ms));
  }
  if (!sdp) return call;
  size_t at = kCallFields + kSummaryFields;
  for (auto* d : {&call.caller, &call.callee}) {
    d->local_sdp = f[at++];
    d->peer_sdp = f[at++];
  }
  if (version < 4) return call;
  const size_t known = at + kRefreshFields + (version == 4 ? 0 : kRingingFields) +
                       (version < 6 ? 0 : kRoleFields) + (version < 7 ? 0 : kPartyFields) +
                       (version < 8 ? 0 : kSideBFields) + (version < 9 ? 0 : kEntryFields) + 1;
  if (version <= kCurrentVersion ? f.size() != known : f.size() < known) {
    return Status::Internal("stored call in an unknown form");
  }
  for (auto* d : {&call.caller, &call.callee}) {
    uint64_t interval = 0;
    if (!ParseNumber(f[at++], UINT32_MAX, interval)) {
      return Status::Internal("stored call with a bad refresh interval");
    }
    d->refresh_interval = static_cast<uint32_t>(interval);
    d->refresh_by_update = f[at++] == kRefreshByUpdate;
  }
  if (version < 5) return call;
  call.ringing_invite = f[at];
  if (!call.ringing_invite.empty() &&
      !GetDestination(f[at + 1], f[at + 2], f[at + 3], call.ringing_source)) {
    return Status::Internal("stored call with a bad caller address");
  }
  at += 4;
  for (auto fork : f[at].empty() ? std::vector<std::string_view>() : Split(f[at], kGroup)) {
    std::vector<std::string_view> parts = Split(fork, kItem);
    b2bua::StoredFork stored;
    stored.invite = parts[0];
    if (parts.size() != 4 || !GetDestination(parts[1], parts[2], parts[3], stored.peer)) {
      return Status::Internal("stored call with a bad contact");
    }
    call.ringing_forks.push_back(std::move(stored));
  }
  ++at;
  if (version < 6) return call;
  for (auto* d : {&call.caller, &call.callee}) {
    d->outbound = f[at++] == kYes;
    d->we_offered = f[at++] == kYes;
  }
  if (version < 7) return call;
  call.caller_party.tenant = call.tenant;
  call.caller_party.domain = f[at++];
  call.caller_party.extension = f[at++];
  call.caller_party.trunk_id = f[at++];
  call.callee_trunk_id = f[at++];
  if (version < 8) return call;
  call.b_party_uri = f[at++];
  if (version < 9) return call;
  for (auto* d : {&call.caller, &call.callee}) {
    if (!f[at].empty()) {
      sip::Destination entry;
      if (!GetDestination(f[at], f[at + 1], f[at + 2], entry)) {
        return Status::Internal("stored call with a bad entry address");
      }
      d->entry = std::move(entry);
    }
    at += 3;
  }
  return call;
}

std::vector<redis::Command> RedisCallStore::SaveCommands(const b2bua::StoredCall& call,
                                                         const b2bua::PreparedEvent* event) const {
  const int64_t ttl = ttl_.count();
  std::vector<redis::Command> commands;
  commands.emplace_back("MULTI");
  redis::Command set =
      redis::Command("SET").Key("call:" + call.call_id).Arg(Encode(call)).Arg("EX").Arg(ttl);
  if (call.existing_only) set.Arg("XX");
  commands.push_back(std::move(set));
  for (const auto* d : {&call.caller, &call.callee}) {
    if (d->id.call_id.empty()) continue;
    commands.push_back(
        redis::Command("SET").Key(DialogKey(d->id)).Arg(call.call_id).Arg("EX").Arg(ttl));
  }
  if (!call.node_id.empty()) {
    const std::string owned = RedisCallOwners::CallsKey(call.node_id);
    commands.push_back(redis::Command("SADD").Key(owned).Arg(call.call_id));
    commands.push_back(redis::Command("EXPIRE").Key(owned).Arg(ttl));
  }
  Park(event, commands);
  commands.emplace_back("EXEC");
  return commands;
}

void RedisCallStore::Park(const b2bua::PreparedEvent* event,
                          std::vector<redis::Command>& commands) const {
  if (event == nullptr) return;
  for (auto& park : events_.ParkCommands({event->message}, clock_.WallNow())) {
    commands.push_back(std::move(park));
  }
}

namespace {

Status FirstError(const std::vector<redis::Reply>& replies) {
  for (const auto& reply : replies) {
    if (reply.is_error()) return redis::ErrorStatus(*reply.error());
  }
  return Status::Ok();
}

// A MULTI/EXEC pipeline's outcome: its commands' first error, or EXEC's.
Status TransactionError(const std::vector<redis::Reply>& replies) {
  SB_RETURN_IF_ERROR(FirstError(replies));
  const redis::Reply::Array* executed = replies.empty() ? nullptr : replies.back().array();
  if (executed == nullptr) return Status::Unavailable("the call's change was not executed");
  return FirstError(*executed);
}

// A loop MULTI/EXEC pipeline's outcome for a Done.
redis::LoopConnection::Callback Reporting(b2bua::CallStore::Done done) {
  return [done = std::move(done)](Result<std::vector<redis::Reply>> replies) {
    if (done) done(replies.ok() ? TransactionError(*replies) : replies.status());
  };
}

}  // namespace

Status RedisCallStore::Save(const b2bua::StoredCall& call, const b2bua::PreparedEvent* answered) {
  auto replies = client_.Pipeline(SaveCommands(call, answered));
  if (!replies.ok()) return replies.status();
  return TransactionError(*replies);
}

void RedisCallStore::SaveOnLoop(const b2bua::StoredCall& call, const b2bua::PreparedEvent* answered,
                                Done done) {
  loop_->Send(SaveCommands(call, answered), Reporting(std::move(done)));
}

Result<b2bua::StoredCall> RedisCallStore::Find(std::string_view call_id) {
  auto reply = client_.Run(redis::Command("GET").Key("call:" + std::string(call_id)));
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  const std::string* text = reply->str();
  if (text == nullptr) return Status::NotFound("no stored call " + std::string(call_id));
  return Decode(*text);
}

Result<b2bua::StoredCall> RedisCallStore::FindByDialog(std::string_view sip_call_id,
                                                       std::string_view local_tag) {
  auto reply = client_.Run(
      redis::Command("GET").Key(DialogKey({std::string(sip_call_id), std::string(local_tag), {}})));
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return redis::ErrorStatus(*reply->error());
  const std::string* id = reply->str();
  if (id == nullptr) return Status::NotFound("no stored dialog " + std::string(sip_call_id));
  return Find(*id);
}

std::vector<redis::Command> RedisCallStore::DeleteCommands(
    const b2bua::StoredCall& call, const b2bua::PreparedEvent* ended) const {
  std::vector<redis::Command> commands;
  commands.emplace_back("MULTI");
  redis::Command del("DEL");
  del.Key("call:" + call.call_id);
  for (const auto* d : {&call.caller, &call.callee}) {
    if (!d->id.call_id.empty()) del.Key(DialogKey(d->id));
  }
  commands.push_back(std::move(del));
  if (!call.node_id.empty()) {
    commands.push_back(
        redis::Command("SREM").Key(RedisCallOwners::CallsKey(call.node_id)).Arg(call.call_id));
  }
  Park(ended, commands);
  commands.emplace_back("EXEC");
  return commands;
}

Status RedisCallStore::Remove(const b2bua::StoredCall& call, const b2bua::PreparedEvent* ended) {
  // A caller that knows only the id (a hangup command) learns the dialogs' keys from the stored
  // copy; one that names a dialog spares that round trip.
  const bool names_dialogs = !call.caller.id.call_id.empty() || !call.callee.id.call_id.empty();
  Result<b2bua::StoredCall> stored =
      names_dialogs ? Result<b2bua::StoredCall>(Status::NotFound("not looked up"))
                    : Find(call.call_id);
  auto replies = client_.Pipeline(DeleteCommands(stored.ok() ? *stored : call, ended));
  if (!replies.ok()) return replies.status();
  return TransactionError(*replies);
}

void RedisCallStore::RemoveOnLoop(const b2bua::StoredCall& call, const b2bua::PreparedEvent* ended,
                                  Done done) {
  loop_->Send(DeleteCommands(call, ended), Reporting(std::move(done)));
}

void RedisCallStore::KeepOnLoop(const b2bua::PreparedEvent& event, Done done) {
  std::vector<redis::Command> commands;
  commands.emplace_back("MULTI");
  Park(&event, commands);
  commands.emplace_back("EXEC");
  loop_->Send(std::move(commands), Reporting(std::move(done)));
}

}  // namespace sb::signaling
