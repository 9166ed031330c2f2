// RedisBindingStore against the real redis-server of the test run: round trip, tenant isolation,
// deletion of an emptied AOR, the due set of earliest expiries the lapse sweep reads, and a key
// that expires kLapseGrace after its last binding.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "shared_redis.h"
#include "store/redis_binding_lapses.h"
#include "store/redis_binding_store.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::Binding;
using sb::signaling::RedisBindingStore;
using Parking = sb::signaling::RedisEventOutbox::Parking;

sb::redis::ClientOptions Options() {
  return sb::signaling::test::SharedRedis(sb::testing::UniqueName("signaling") + ":");
}

sb::signaling::WallTime Now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

TEST_CASE("bindings round-trip per tenant and AOR / highest q first", "[redis]") {
  sb::redis::Client redis(Options());
  RedisBindingStore store(redis);
  const sb::TenantId acme(sb::testing::UniqueName("tenant"));
  const sb::TenantId other(sb::testing::UniqueName("tenant"));
  const auto now = Now();
  std::vector<Binding> bindings = {
      {"sip:alice@192.0.2.7:5060",
       500,
       "call|with|bars",
       7,
       now + 300s,
       "udp:192.0.2.7:5060",
       {"<sip:lb-1.example;lr>", "<sip:edge|odd.example;lr>"}},
      {"sip:alice@198.51.100.9", 900, "c2", 1, now + 60s, "tcp:198.51.100.9:40000", {}},
  };
  REQUIRE(store.Save(acme, "sip:alice@acme.sb.test", {}, bindings).ok());

  auto loaded = store.Load(acme, "sip:alice@acme.sb.test");
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 2);
  CHECK((*loaded)[0] == bindings[1]);
  // Path values keep their order; a '|' (not valid unescaped in a URI) is dropped, not misparsed.
  bindings[0].path[1] = "<sip:edgeodd.example;lr>";
  CHECK((*loaded)[1] == bindings[0]);

  auto elsewhere = store.Load(other, "sip:alice@acme.sb.test");
  REQUIRE(elsewhere.ok());
  CHECK(elsewhere->empty());

  // The key lives as long as its longest binding (300 s) and the grace in which a lapse can
  // still be reported, not longer.
  const int64_t grace_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(RedisBindingStore::kLapseGrace).count();
  auto ttl = redis.Run(
      sb::redis::Command("PTTL").Key(RedisBindingStore::Key(acme, "sip:alice@acme.sb.test")));
  REQUIRE(ttl.ok());
  REQUIRE(ttl->integer().has_value());
  CHECK(*ttl->integer() > 290000 + grace_ms);
  CHECK(*ttl->integer() <= 300000 + grace_ms);
  // Filed for the lapse sweep under its earliest expiry (60 s).
  auto due = redis.Run(sb::redis::Command("ZSCORE")
                           .Key(RedisBindingStore::kDueKey)
                           .Arg(RedisBindingStore::Key(acme, "sip:alice@acme.sb.test")));
  REQUIRE(due.ok());
  REQUIRE(due->str() != nullptr);
  CHECK(std::stoll(*due->str()) ==
        std::chrono::duration_cast<std::chrono::milliseconds>((now + 60s).time_since_epoch())
            .count());
}

TEST_CASE(
    "a binding's instance and reg-id round-trip after a Call-ID with bars - a record written "
    "without them still reads",
    "[redis]") {
  sb::redis::Client redis(Options());
  RedisBindingStore store(redis);
  const sb::TenantId acme(sb::testing::UniqueName("tenant"));
  Binding phone{.contact = "sip:alice@192.0.2.7:5060",
                .q_milli = 1000,
                .call_id = "call|with|bars",
                .cseq = 3,
                .expires_at = Now() + 300s,
                .source = "udp:192.0.2.7:5060",
                .path = {},
                .instance = "\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"",
                .reg_id = 2};
  REQUIRE(store.Save(acme, "sip:alice@acme.sb.test", {}, {phone}).ok());
  auto loaded = store.Load(acme, "sip:alice@acme.sb.test");
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0] == phone);

  // As a replica without RFC 5626 support stored it: no instance.
  auto old = sb::signaling::DecodeBinding("sip:bob@192.0.2.8", "1000|1767225600000|1|udp:x:1||c1");
  REQUIRE(old);
  CHECK(old->call_id == "c1");
  CHECK(old->instance.empty());
  CHECK(old->reg_id == 0);
  CHECK_FALSE(sb::signaling::DecodeBinding("sip:bob@192.0.2.8",
                                           "1000|1767225600000|1|udp:x:1||c1\x1f<urn:x>"));
}

TEST_CASE(
    "a save writes only what changed - a binding another request stored meanwhile stays - the "
    "last binding gone deletes the AOR, whose due entry the sweep drops",
    "[redis]") {
  sb::redis::Client redis(Options());
  RedisBindingStore store(redis);
  sb::signaling::RedisBindingLapses lapses(redis);
  const sb::TenantId acme(sb::testing::UniqueName("tenant"));
  const std::string aor = "sip:bob@acme.sb.test";
  const auto now = Now();
  const Binding desk{"sip:bob@192.0.2.9", 1000, "c-desk", 1, now + 60s, "udp:192.0.2.9:5060", {}};
  const Binding soft{"sip:bob@192.0.2.10",  1000, "c-soft", 1, now + 120s,
                     "udp:192.0.2.10:5060", {}};
  // Both phones read the AOR empty; each saves its own binding without the other's.
  REQUIRE(store.Save(acme, aor, {}, {desk}).ok());
  REQUIRE(store.Save(acme, aor, {}, {soft}).ok());
  auto both = store.Load(acme, aor);
  REQUIRE(both.ok());
  CHECK(both->size() == 2);

  // The desk phone refreshes from a view without the soft phone, then un-registers: the soft
  // phone's binding stays through both.
  Binding refreshed = desk;
  refreshed.cseq = 2;
  refreshed.expires_at = now + 300s;
  REQUIRE(store.Save(acme, aor, {desk}, {refreshed}).ok());
  REQUIRE(store.Save(acme, aor, {refreshed}, {}).ok());
  auto left = store.Load(acme, aor);
  REQUIRE(left.ok());
  CHECK(*left == std::vector<Binding>{soft});
  // The hash lives past the latest binding written into it (300 s) and the grace, although the
  // last save saw only the desk phone.
  const int64_t grace_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(RedisBindingStore::kLapseGrace).count();
  auto ttl = redis.Run(sb::redis::Command("PTTL").Key(RedisBindingStore::Key(acme, aor)));
  REQUIRE(ttl.ok());
  CHECK(ttl->integer().value_or(0) > 290000 + grace_ms);
  // Due no later than the first expiry any save saw (60 s), never moved later by a save.
  auto due = [&] {
    return redis.Run(sb::redis::Command("ZSCORE")
                         .Key(RedisBindingStore::kDueKey)
                         .Arg(RedisBindingStore::Key(acme, aor)));
  };
  REQUIRE(due()->str() != nullptr);
  CHECK(std::stoll(*due()->str()) ==
        std::chrono::duration_cast<std::chrono::milliseconds>((now + 60s).time_since_epoch())
            .count());

  REQUIRE(store.Save(acme, aor, {soft}, {}).ok());
  CHECK(store.Load(acme, aor)->empty());
  auto exists = redis.Run(sb::redis::Command("EXISTS").Key(RedisBindingStore::Key(acme, aor)));
  REQUIRE(exists.ok());
  CHECK(exists->integer() == 0);
  // The sweep, finding nothing, takes the AOR out of the due set.
  REQUIRE(due()->str() != nullptr);
  REQUIRE(lapses.RemoveIfUnchanged(acme, aor, {}).ok());
  CHECK(due()->is_nil());
}

TEST_CASE(
    "a refresh of a hash the save saw is three plain commands - a save that may create the hash "
    "or parks events is one MULTI with the NX expiry - a phone replacing the only binding keeps "
    "the hash's expiry",
    "[redis]") {
  const sb::TenantId acme(sb::testing::UniqueName("tenant"));
  const std::string aor = "sip:dave@acme.sb.test";
  const auto now = Now();
  const Binding desk{"sip:dave@192.0.2.11", 1000, "c-desk", 1, now + 60s,
                     "udp:192.0.2.11:5060", {}};
  Binding refreshed = desk;
  refreshed.cseq = 2;
  refreshed.expires_at = now + 300s;
  Binding moved = refreshed;
  moved.contact = "sip:dave@192.0.2.12";
  // Each command as "NAME" or, for an expiry, "NAME CONDITION".
  auto shape = [](const std::vector<sb::redis::Command>& commands) {
    std::vector<std::string> out;
    for (const auto& c : commands) {
      const std::vector<std::string> args = c.Build("");
      out.push_back(args[0] == "PEXPIREAT" ? args[0] + " " + args.back() : args[0]);
    }
    return out;
  };
  using Shape = std::vector<std::string>;
  CHECK(shape(RedisBindingStore::SaveCommands(acme, aor, {desk}, {refreshed})) ==
        Shape{"HSET", "PEXPIREAT GT", "ZADD"});
  CHECK(shape(RedisBindingStore::SaveCommands(acme, aor, {}, {desk})) ==
        Shape{"MULTI", "HSET", "PEXPIREAT NX", "PEXPIREAT GT", "ZADD", "EXEC"});
  CHECK(shape(RedisBindingStore::SaveCommands(acme, aor, {desk}, {moved})) ==
        Shape{"MULTI", "HDEL", "HSET", "PEXPIREAT NX", "PEXPIREAT GT", "ZADD", "EXEC"});
  const sb::signaling::SaveTerms parked{
      .max_contacts = 0, .now = now, .parked = Parking{.due_ms = "1", .entries = {{"id", "ev"}}}};
  CHECK(shape(RedisBindingStore::SaveCommands(acme, aor, {desk}, {refreshed}, parked)) ==
        Shape{"MULTI", "HSET", "PEXPIREAT GT", "ZADD", "HSET", "ZADD", "EXEC"});
  // With a limit to check, a save that adds a contact is one script; a refresh is not.
  const sb::signaling::SaveTerms limited{.max_contacts = 10, .now = now, .parked = {}};
  CHECK(shape(RedisBindingStore::SaveCommands(acme, aor, {desk}, {desk, moved}, limited)) ==
        Shape{"EVALSHA"});
  CHECK(shape(RedisBindingStore::SaveCommands(acme, aor, {desk}, {refreshed}, limited)) ==
        Shape{"HSET", "PEXPIREAT GT", "ZADD"});

  sb::redis::Client redis(Options());
  RedisBindingStore store(redis);
  const std::string key = RedisBindingStore::Key(acme, aor);
  auto pttl = [&] {
    auto reply = redis.Run(sb::redis::Command("PTTL").Key(key));
    REQUIRE(reply.ok());
    return reply->integer().value_or(-3);
  };
  REQUIRE(store.Save(acme, aor, {}, {desk}).ok());
  const int64_t first_ttl = pttl();
  CHECK(first_ttl > 0);
  REQUIRE(store.Save(acme, aor, {desk}, {refreshed}).ok());
  CHECK(pttl() > first_ttl + 200000);  // extended to the refresh's expiry
  CHECK(*store.Load(acme, aor) == std::vector<Binding>{refreshed});
  // The only binding removed and another written: Redis deletes the hash with its last field
  // and the HSET makes it again, which the NX expiry covers.
  REQUIRE(store.Save(acme, aor, {refreshed}, {moved}).ok());
  CHECK(*store.Load(acme, aor) == std::vector<Binding>{moved});
  CHECK(pttl() > 290000);
}

TEST_CASE(
    "a save that adds a contact counts what is stored when it runs - past the AOR's limit it is "
    "RESOURCE_EXHAUSTED and writes nothing, its events included - lapsed bindings and the "
    "contacts it replaces are not counted",
    "[redis]") {
  sb::redis::Client redis(Options());
  RedisBindingStore store(redis);
  const sb::TenantId acme(sb::testing::UniqueName("tenant"));
  const std::string aor = "sip:erin@acme.sb.test";
  const auto now = Now();
  auto phone = [&](std::string host, std::chrono::seconds left) {
    return Binding{"sip:erin@" + host,      1000, "c-" + host, 1, now + left,
                   "udp:" + host + ":5060", {}};
  };
  const Binding desk = phone("192.0.2.21", 300s);
  const Binding mobile = phone("192.0.2.22", 300s);
  const Binding tablet = phone("192.0.2.23", 300s);
  auto terms = [&](size_t limit, std::string event) {
    return sb::signaling::SaveTerms{
        .max_contacts = limit,
        .now = now,
        .parked = Parking{.due_ms = "1", .entries = {{std::move(event), "subject\nid\nbody"}}}};
  };
  auto contacts = [&] {
    auto loaded = store.Load(acme, aor);
    REQUIRE(loaded.ok());
    std::vector<std::string> out;
    for (const Binding& b : *loaded) out.push_back(b.contact);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto parked = [&](const std::string& event) {
    auto reply = redis.Run(
        sb::redis::Command("HEXISTS").Key(sb::signaling::RedisEventOutbox::kParkedKey).Arg(event));
    REQUIRE(reply.ok());
    return reply->integer().value_or(-1) == 1;
  };
  const std::string x = sb::testing::UniqueName("evt-x");
  const std::string y = sb::testing::UniqueName("evt-y");

  // A new AOR through the script: the hash, its expiry and its due entry as a plain save makes.
  REQUIRE(store.Save(acme, aor, {}, {desk}, terms(2, sb::testing::UniqueName("evt"))).ok());
  auto ttl = redis.Run(sb::redis::Command("PTTL").Key(RedisBindingStore::Key(acme, aor)));
  REQUIRE(ttl.ok());
  CHECK(ttl->integer().value_or(-3) > 290000);
  auto due = redis.Run(sb::redis::Command("ZSCORE")
                           .Key(RedisBindingStore::kDueKey)
                           .Arg(RedisBindingStore::Key(acme, aor)));
  REQUIRE(due.ok());
  CHECK(due->str() != nullptr);

  // Two phones read {desk} with room for one more; the second to be saved finds none.
  REQUIRE(store.Save(acme, aor, {desk}, {desk, tablet}, terms(2, y)).ok());
  const sb::Status refused = store.Save(acme, aor, {desk}, {desk, mobile}, terms(2, x));
  CHECK(refused.code() == sb::StatusCode::kResourceExhausted);
  CHECK(contacts() == std::vector<std::string>{desk.contact, tablet.contact});
  CHECK(parked(y));
  CHECK_FALSE(parked(x));

  // A contact that takes another's place (the tablet gone) fits at the limit.
  REQUIRE(store.Save(acme, aor, {desk, tablet}, {desk, mobile}, terms(2, x)).ok());
  CHECK(contacts() == std::vector<std::string>{desk.contact, mobile.contact});
  CHECK(parked(x));

  // A binding that has lapsed (still in the hash until the sweep) leaves its room.
  const Binding lapsed = phone("192.0.2.24", -5s);
  REQUIRE(store.Save(acme, aor, {desk, mobile}, {desk, mobile, lapsed}).ok());
  REQUIRE(contacts().size() == 3);
  CHECK(store.Save(acme, aor, {desk}, {desk, tablet}, terms(3, y)).ok());
  CHECK(store.Save(acme, aor, {desk}, {desk, phone("192.0.2.25", 300s)}, terms(3, x)).code() ==
        sb::StatusCode::kResourceExhausted);
  CHECK(contacts().size() == 4);  // desk, mobile, tablet and the lapsed one
}

TEST_CASE("a past expiry removes the key", "[redis]") {
  sb::redis::Client redis(Options());
  RedisBindingStore store(redis);
  const sb::TenantId acme(sb::testing::UniqueName("tenant"));
  const auto now = Now();
  // Redis itself drops a key whose PEXPIREAT is in the past (lapsed longer than the grace ago):
  // nothing lingers for stale phones.
  REQUIRE(store
              .Save(acme, "sip:carol@acme.sb.test", {},
                    {{"sip:carol@192.0.2.10",
                      1000,
                      "c",
                      1,
                      now - RedisBindingStore::kLapseGrace - 1s,
                      "udp:192.0.2.10:5060",
                      {}}})
              .ok());
  auto exists = redis.Run(
      sb::redis::Command("EXISTS").Key(RedisBindingStore::Key(acme, "sip:carol@acme.sb.test")));
  REQUIRE(exists.ok());
  CHECK(exists->integer() == 0);
}
