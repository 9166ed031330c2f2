// RedisCallStore against the real redis-server of the test run: what one replica saves another
// finds by either dialog or by call id, removal takes every key, and keys expire with the TTL.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "shared_redis.h"
#include "store/redis_call_store.h"
#include "switchboard/testing/servers.h"

namespace {

using sb::signaling::RedisCallStore;
using sb::signaling::b2bua::StoredCall;

using sb::signaling::test::SharedRedis;

StoredCall Call() {
  StoredCall call;
  call.call_id = sb::testing::UniqueName("call");
  call.tenant = sb::TenantId(sb::testing::UniqueName("tenant"));
  call.node_id = "sig-1";
  call.media_node_id = "media-1";
  call.media_legs = {call.call_id + "-a", call.call_id + "-b"};
  call.caller.id = {"a-call@10.1.1.1", "ours-a", "caller"};
  call.caller.local_uri = "<sip:1002@acme.sb.test>";
  call.caller.remote_uri = "\"Alice\" <sip:1001@acme.sb.test>";
  call.caller.remote_target = "sip:1001@10.1.1.1:5060";
  call.caller.next_local_cseq = 1001;
  call.caller.peer = {"10.1.1.1", 5060, sb::sip::Transport::kUdp};
  // The caller came through the balancer (10.1.1.1) from its own address.
  call.caller.entry = {"198.51.100.9", 40123, sb::sip::Transport::kTcp};
  call.callee.id = {"b-call@sig-1", "ours-b", "desk"};
  call.callee.local_uri = "<sip:1001@acme.sb.test>";
  call.callee.remote_uri = "<sip:1002@acme.sb.test>";
  call.callee.remote_target = "sip:1002@192.168.1.20:5062;transport=tcp";
  call.callee.route_set = {"<sip:edge.sb.test;lr>", "<sip:core.sb.test;lr>"};
  call.callee.next_local_cseq = 1002;
  call.callee.peer = {"10.2.2.2", 5062, sb::sip::Transport::kTcp};
  call.caller.local_sdp = "v=0\r\no=node 7 2 IN IP4 127.0.0.9\r\ns=-\r\na=recvonly\r\n";
  call.caller.peer_sdp = "v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\na=sendonly\r\n";
  call.callee.local_sdp = "v=0\r\no=node 8 1 IN IP4 127.0.0.9\r\ns=-\r\n";
  call.callee.peer_sdp = "v=0\r\no=desk 5 5 IN IP4 10.2.2.2\r\ns=-\r\n";
  call.callee.refresh_interval = 1800;
  call.callee.refresh_by_update = true;
  call.caller.refresh_interval = 90;
  // We called the callee with our offer; the caller called us with its own.
  call.callee.outbound = call.callee.we_offered = true;
  call.from_uri = "sip:1001@acme.sb.test";
  call.to_uri = "sip:1002@acme.sb.test";
  call.answered_leg = call.call_id + "-b";
  call.start_time = sb::core::Clock::WallTime(std::chrono::milliseconds(1'790'000'000'123));
  call.answer_time = *call.start_time + std::chrono::milliseconds(4'250);
  call.caller_party = {call.tenant, "acme.sb.test", "1001", ""};
  call.callee_trunk_id = "trunk-carrier-1";
  call.b_party_uri = "sip:1005@acme.sb.test";
  return call;
}

void RequireSame(const StoredCall& a, const StoredCall& b) {
  CHECK(a.call_id == b.call_id);
  CHECK(a.tenant == b.tenant);
  CHECK(a.media_legs == b.media_legs);
  CHECK(a.caller.id == b.caller.id);
  CHECK(a.caller.remote_uri == b.caller.remote_uri);
  CHECK(a.callee.route_set == b.callee.route_set);
  CHECK(a.callee.peer == b.callee.peer);
  CHECK(a.caller.entry == b.caller.entry);
  CHECK(a.callee.entry == b.callee.entry);
  CHECK(a.callee.next_local_cseq == b.callee.next_local_cseq);
  CHECK(a.callee.remote_target == b.callee.remote_target);
  CHECK(a.from_uri == b.from_uri);
  CHECK(a.to_uri == b.to_uri);
  CHECK(a.answered_leg == b.answered_leg);
  CHECK(a.start_time == b.start_time);
  CHECK(a.answer_time == b.answer_time);
  CHECK(a.caller.local_sdp == b.caller.local_sdp);
  CHECK(a.caller.peer_sdp == b.caller.peer_sdp);
  CHECK(a.callee.local_sdp == b.callee.local_sdp);
  CHECK(a.callee.peer_sdp == b.callee.peer_sdp);
  CHECK(a.caller.refresh_interval == b.caller.refresh_interval);
  CHECK(a.caller.refresh_by_update == b.caller.refresh_by_update);
  CHECK(a.callee.refresh_interval == b.callee.refresh_interval);
  CHECK(a.callee.refresh_by_update == b.callee.refresh_by_update);
  CHECK(a.caller.outbound == b.caller.outbound);
  CHECK(a.callee.outbound == b.callee.outbound);
  CHECK(a.caller.we_offered == b.caller.we_offered);
  CHECK(a.callee.we_offered == b.callee.we_offered);
  CHECK(a.caller_party.tenant == b.caller_party.tenant);
  CHECK(a.caller_party.domain == b.caller_party.domain);
  CHECK(a.caller_party.extension == b.caller_party.extension);
  CHECK(a.caller_party.trunk_id == b.caller_party.trunk_id);
  CHECK(a.callee_trunk_id == b.callee_trunk_id);
  CHECK(a.b_party_uri == b.b_party_uri);
  CHECK(a.ringing_invite == b.ringing_invite);
  CHECK(a.ringing_source == b.ringing_source);
  REQUIRE(a.ringing_forks.size() == b.ringing_forks.size());
  for (size_t i = 0; i < a.ringing_forks.size(); ++i) {
    CHECK(a.ringing_forks[i].invite == b.ringing_forks[i].invite);
    CHECK(a.ringing_forks[i].peer == b.ringing_forks[i].peer);
  }
}

// A call still ringing (B2bua::RingingRecord): no dialogs yet, the INVITEs instead.
StoredCall RingingCall() {
  StoredCall call = Call();
  call.caller = {};
  call.callee = {};
  call.answered_leg.clear();
  call.answer_time.reset();
  call.ringing_invite =
      "INVITE sip:1002@acme.sb.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKa1\r\n"
      "From: \"A \\\"1\\\"\" <sip:1001@acme.sb.test>;tag=caller\r\nContent-Length: 0\r\n\r\n";
  call.ringing_source = {"10.1.1.1", 5060, sb::sip::Transport::kUdp};
  call.ringing_forks = {
      {"INVITE sip:1002@192.168.1.20:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.5:5060\r\n\r\n",
       {"192.168.1.20", 5062, sb::sip::Transport::kUdp}},
      {"INVITE sip:1002@192.168.1.30:5064;transport=tcp SIP/2.0\r\n\r\n",
       {"192.168.1.30", 5064, sb::sip::Transport::kTcp}}};
  return call;
}

// One replica's store on its own key prefix, parking events due by a clock the test moves.
struct Node {
  explicit Node(std::chrono::seconds ttl) : store(redis, ttl, parking, clock) {}
  std::string prefix = sb::testing::UniqueName("signaling") + ":";
  sb::redis::Client redis{SharedRedis(prefix)};
  sb::core::FakeClock clock;
  sb::signaling::RedisEventOutbox parking{redis, std::chrono::seconds(30)};
  RedisCallStore store;
};

}  // namespace

TEST_CASE("a call saved by one replica is found by another by either dialog or its id", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("signaling") + ":";
  sb::redis::Client node_a(SharedRedis(prefix));
  sb::redis::Client node_b(SharedRedis(prefix));
  sb::core::FakeClock clock;
  sb::signaling::RedisEventOutbox parking(node_a, std::chrono::seconds(30));
  RedisCallStore saver(node_a, std::chrono::hours(1), parking, clock);
  RedisCallStore finder(node_b, std::chrono::hours(1), parking, clock);
  StoredCall call = Call();
  REQUIRE(saver.Save(call, nullptr).ok());

  auto by_caller = finder.FindByDialog("a-call@10.1.1.1", "ours-a");
  REQUIRE(by_caller.ok());
  RequireSame(*by_caller, call);
  auto by_callee = finder.FindByDialog("b-call@sig-1", "ours-b");
  REQUIRE(by_callee.ok());
  RequireSame(*by_callee, call);
  REQUIRE(finder.Find(call.call_id).ok());
  CHECK(finder.FindByDialog("b-call@sig-1", "someone-else").status().code() ==
        sb::StatusCode::kNotFound);

  // Removal with only the id known (a hangup command) takes the dialog keys too.
  StoredCall id_only;
  id_only.call_id = call.call_id;
  REQUIRE(finder.Remove(id_only, nullptr).ok());
  CHECK(finder.Find(call.call_id).status().code() == sb::StatusCode::kNotFound);
  CHECK(finder.FindByDialog("a-call@10.1.1.1", "ours-a").status().code() ==
        sb::StatusCode::kNotFound);
  auto left = node_a.Run(sb::redis::Command("EXISTS").Key("dialog:b-call@sig-1:ours-b"));
  REQUIRE(left.ok());
  CHECK(left->integer() == 0);

  // A node ending its own call names the dialogs: exactly their keys go, and the stored copy is
  // not read (a callee dialog only the stored copy names stays).
  StoredCall elsewhere = call;
  elsewhere.callee.id = {"c-call@sig-2", "ours-c", "other"};
  REQUIRE(saver.Save(call, nullptr).ok());
  REQUIRE(saver.Save(elsewhere, nullptr).ok());
  StoredCall named;
  named.call_id = call.call_id;
  named.caller.id = call.caller.id;
  named.callee.id = call.callee.id;
  REQUIRE(saver.Remove(named, nullptr).ok());
  CHECK(finder.Find(call.call_id).status().code() == sb::StatusCode::kNotFound);
  CHECK(finder.FindByDialog("a-call@10.1.1.1", "ours-a").status().code() ==
        sb::StatusCode::kNotFound);
  CHECK(finder.FindByDialog("b-call@sig-1", "ours-b").status().code() == sb::StatusCode::kNotFound);
  auto unnamed = node_a.Run(sb::redis::Command("EXISTS").Key("dialog:c-call@sig-2:ours-c"));
  REQUIRE(unnamed.ok());
  CHECK(unnamed->integer() == 1);
}

TEST_CASE(
    "a call leaves the store in the step that parks its ended event - what the node never sent is "
    "claimed after the lease",
    "[redis]") {
  Node node(std::chrono::hours(1));
  auto& [prefix, redis, clock, parking, store] = node;
  StoredCall call = Call();
  REQUIRE(store.Save(call, nullptr).ok());
  sb::signaling::b2bua::PreparedEvent ended{
      .call = {},
      .message = {.message = {.subject = "sb.evt.call.ended.t1", .data = "charge"},
                  .msg_id = call.call_id + ".ended"}};

  StoredCall named;
  named.call_id = call.call_id;
  named.caller.id = call.caller.id;
  named.callee.id = call.callee.id;
  REQUIRE(store.Remove(named, &ended).ok());
  CHECK(store.Find(call.call_id).status().code() == sb::StatusCode::kNotFound);
  // Not before its lease: the node that parked it is sending it.
  auto early = parking.Claim(clock.WallNow() + std::chrono::seconds(29), 10);
  REQUIRE(early.ok());
  CHECK(early->empty());
  // The node died before the stream had it: a sweep after the lease sends it.
  auto due = parking.Claim(clock.WallNow() + std::chrono::seconds(31), 10);
  REQUIRE(due.ok());
  REQUIRE(due->size() == 1);
  CHECK((*due)[0].msg_id == call.call_id + ".ended");
  CHECK((*due)[0].message.subject == "sb.evt.call.ended.t1");
  CHECK((*due)[0].message.data == "charge");
  REQUIRE(parking.Done({call.call_id + ".ended"}).ok());
}

TEST_CASE(
    "a record read from the store is saved back only over one still there - a call another "
    "replica ended meanwhile is not made again",
    "[redis]") {
  Node node(std::chrono::hours(1));
  const StoredCall call = Call();
  REQUIRE(node.store.Save(call, nullptr).ok());
  auto read = node.store.Find(call.call_id);
  REQUIRE(read.ok());
  CHECK(read->existing_only);
  read->callee.peer_sdp = "v=0\r\no=desk 5 6 IN IP4 10.2.2.2\r\ns=-\r\n";
  REQUIRE(node.store.Save(*read, nullptr).ok());
  CHECK(node.store.Find(call.call_id)->callee.peer_sdp == read->callee.peer_sdp);

  REQUIRE(node.store.Remove(*read, nullptr).ok());
  REQUIRE(node.store.Save(*read, nullptr).ok());
  CHECK(node.store.Find(call.call_id).status().code() == sb::StatusCode::kNotFound);
}

TEST_CASE("stored calls expire with the TTL", "[redis]") {
  Node node(std::chrono::seconds(120));
  auto& [prefix, redis, clock, parking, store] = node;
  StoredCall call = Call();
  REQUIRE(store.Save(call, nullptr).ok());
  auto ttl = redis.Run(sb::redis::Command("TTL").Key("dialog:a-call@10.1.1.1:ours-a"));
  REQUIRE(ttl.ok());
  REQUIRE(ttl->integer().has_value());
  CHECK(*ttl->integer() > 100);
  CHECK(*ttl->integer() <= 120);
}

TEST_CASE("a stored value in an unknown form is an error - never a half call", "[unit]") {
  CHECK_FALSE(RedisCallStore::Decode("2\x1fwhatever").ok());
  const StoredCall call = Call();
  auto round = RedisCallStore::Decode(RedisCallStore::Encode(call));
  REQUIRE(round.ok());
  CHECK(round->callee.route_set.size() == 2);
  RequireSame(*round, call);
}

TEST_CASE(
    "who started each dialog and whose offer came first are kept - a transfer target on the "
    "caller's side was called by us, a caller bridged in on the callee's side called us, a "
    "caller without an offer answered ours",
    "[unit]") {
  StoredCall turned = Call();
  turned.caller.outbound = true;
  turned.callee.outbound = false;
  turned.callee.we_offered = false;
  auto round = RedisCallStore::Decode(RedisCallStore::Encode(turned));
  REQUIRE(round.ok());
  CHECK(round->caller.outbound);
  CHECK_FALSE(round->callee.outbound);
  CHECK_FALSE(round->callee.we_offered);
  StoredCall late = Call();
  late.caller.we_offered = true;
  auto answered = RedisCallStore::Decode(RedisCallStore::Encode(late));
  REQUIRE(answered.ok());
  CHECK_FALSE(answered->caller.outbound);
  CHECK(answered->caller.we_offered);
}

TEST_CASE("a call never answered is stored without an answer time", "[unit]") {
  StoredCall ringing = Call();
  ringing.answer_time.reset();
  ringing.answered_leg.clear();
  auto round = RedisCallStore::Decode(RedisCallStore::Encode(ringing));
  REQUIRE(round.ok());
  CHECK_FALSE(round->answer_time.has_value());
  CHECK(round->start_time == ringing.start_time);
}

namespace {

// `record` without its last `fields` fields, under `version`.
std::string Older(const std::string& record, char version, int fields) {
  std::string older = version + record.substr(1);
  for (int i = 0; i < fields; ++i) older.erase(older.rfind('\x1f', older.size() - 2) + 1);
  return older;
}

}  // namespace

TEST_CASE(
    "a call stored by a replica of a version before still ends - the caller taken to have called "
    "us, without refreshes, without descriptions before that, and without times before that",
    "[unit]") {
  StoredCall call = Call();
  // Version 8 ended with side b's own URI: the same text without where the parties entered.
  const std::string v8 = Older(RedisCallStore::Encode(call), '8', 6);
  auto without_entries = RedisCallStore::Decode(v8);
  REQUIRE(without_entries.ok());
  CHECK_FALSE(without_entries->caller.entry.has_value());
  call.caller.entry.reset();
  RequireSame(*without_entries, call);
  // Version 7 ended with who the parties are: the same text without side b's own URI.
  const std::string v7 = Older(v8, '7', 1);
  auto without_side_b = RedisCallStore::Decode(v7);
  REQUIRE(without_side_b.ok());
  CHECK(without_side_b->b_party_uri.empty());
  call.b_party_uri.clear();
  RequireSame(*without_side_b, call);
  // Version 6 ended with the dialogs' roles: the same text without who the parties are.
  const std::string v6 = Older(v7, '6', 4);
  auto without_parties = RedisCallStore::Decode(v6);
  REQUIRE(without_parties.ok());
  CHECK(without_parties->caller_party.domain.empty());
  CHECK(without_parties->callee_trunk_id.empty());
  call.caller_party = {};
  call.callee_trunk_id.clear();
  RequireSame(*without_parties, call);
  StoredCall turned = call;
  turned.caller.outbound = turned.caller.we_offered = true;
  turned.callee.outbound = turned.callee.we_offered = false;
  // Version 5 ended with the ringing fields: the same text without the dialogs' roles.
  const std::string v5 =
      Older(Older(Older(Older(RedisCallStore::Encode(turned), '8', 6), '7', 1), '6', 4), '5', 4);
  auto without_roles = RedisCallStore::Decode(v5);
  REQUIRE(without_roles.ok());
  RequireSame(*without_roles, call);
  // Version 4 ended with the refreshes: the same text without the five ringing fields.
  const std::string v4 = Older(v5, '4', 5);
  auto without_ringing = RedisCallStore::Decode(v4);
  REQUIRE(without_ringing.ok());
  RequireSame(*without_ringing, call);
  // Version 3 ended with the descriptions: the same text without the four refresh fields.
  const std::string v3 = Older(v4, '3', 4);
  auto without_refreshes = RedisCallStore::Decode(v3);
  REQUIRE(without_refreshes.ok());
  CHECK(without_refreshes->callee.local_sdp == Call().callee.local_sdp);
  CHECK(without_refreshes->callee.refresh_interval == 0);
  CHECK_FALSE(without_refreshes->callee.refresh_by_update);
  // Version 2 ended with the summary: without the four descriptions either.
  auto v2 = RedisCallStore::Decode(Older(v3, '2', 4));
  REQUIRE(v2.ok());
  CHECK(v2->answer_time == Call().answer_time);
  CHECK(v2->caller.local_sdp.empty());
  CHECK(v2->callee.peer_sdp.empty());
  // Version 1 ended with the callee's dialog: without the five summary fields either.
  const std::string v1 = Older(v3, '1', 9);
  auto old = RedisCallStore::Decode(v1);
  REQUIRE(old.ok());
  CHECK(old->callee.peer == Call().callee.peer);
  CHECK(old->callee.outbound);
  CHECK_FALSE(old->caller.outbound);
  CHECK(old->from_uri.empty());
  CHECK_FALSE(old->start_time.has_value());
  CHECK_FALSE(old->answer_time.has_value());
  // A record cut short is not taken for an older one.
  CHECK_FALSE(RedisCallStore::Decode("2" + v1.substr(1)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v3, '3', 4)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v4, '4', 2)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v5, '5', 2)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v6, '6', 2)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v7, '7', 2)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v8, '8', 1)).ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(RedisCallStore::Encode(Call()), '9', 1)).ok());
}

TEST_CASE("a record of a later version is read for the fields this one knows", "[unit]") {
  const StoredCall call = Call();
  const std::string v9 = RedisCallStore::Encode(call);
  auto later = RedisCallStore::Decode("10" + v9.substr(1) + "something new\x1f");
  REQUIRE(later.ok());
  RequireSame(*later, call);
  // Versions 3 to 9 have exactly their fields.
  CHECK_FALSE(RedisCallStore::Decode(Older(v9, '3', 24) + "something new\x1f").ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v9, '4', 20) + "something new\x1f").ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v9, '5', 15) + "something new\x1f").ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v9, '6', 11) + "something new\x1f").ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v9, '7', 7) + "something new\x1f").ok());
  CHECK_FALSE(RedisCallStore::Decode(Older(v9, '8', 6) + "something new\x1f").ok());
  CHECK_FALSE(RedisCallStore::Decode(v9 + "something new\x1f").ok());
}

TEST_CASE(
    "a ringing call is stored with the caller's INVITE and where it came from, and ours to each "
    "contact - one holding a separator (a quoted-pair may) leaves the call without them",
    "[unit]") {
  const StoredCall ringing = RingingCall();
  auto round = RedisCallStore::Decode(RedisCallStore::Encode(ringing));
  REQUIRE(round.ok());
  RequireSame(*round, ringing);
  CHECK(round->caller.id.call_id.empty());

  StoredCall originated = RingingCall();  // no caller's INVITE: only the contacts
  originated.ringing_invite.clear();
  originated.ringing_source = {};
  auto contacts_only = RedisCallStore::Decode(RedisCallStore::Encode(originated));
  REQUIRE(contacts_only.ok());
  RequireSame(*contacts_only, originated);

  StoredCall odd = RingingCall();
  odd.ringing_forks[1].invite.insert(10, "\x1e");
  auto without = RedisCallStore::Decode(RedisCallStore::Encode(odd));
  REQUIRE(without.ok());
  CHECK(without->ringing_invite.empty());
  CHECK(without->ringing_forks.empty());
  CHECK(without->start_time == odd.start_time);
}

TEST_CASE(
    "a description or a caller's identity holding the field separator is not kept - the call is",
    "[unit]") {
  StoredCall call = Call();
  call.callee.peer_sdp = "v=0\r\ns=\x1f\r\n";
  call.caller_party.extension =
      "10\x1f"
      "01";
  auto round = RedisCallStore::Decode(RedisCallStore::Encode(call));
  REQUIRE(round.ok());
  CHECK(round->caller_party.extension.empty());
  CHECK(round->caller_party.domain == "acme.sb.test");
  CHECK(round->callee.peer_sdp.empty());
  CHECK(round->callee.local_sdp == call.callee.local_sdp);
  CHECK(round->answer_time == call.answer_time);
}
