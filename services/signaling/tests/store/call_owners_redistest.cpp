// RedisCallOwners and CallAdopter against the real redis-server of the test run: the store files
// each call under the replica instance carrying it, a silent instance's calls are adopted once
// among replicas, and an adopter probes what it adopted until each call ends.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "b2bua/call_adopter.h"
#include "shared_redis.h"
#include "store/redis_call_owners.h"
#include "store/redis_call_store.h"
#include "store/stored_call_whereabouts.h"
#include "switchboard/testing/servers.h"

namespace {

using sb::signaling::CallAdopter;
using sb::signaling::RedisCallOwners;
using sb::signaling::RedisCallStore;
using sb::signaling::StoredCallWhereabouts;
using sb::signaling::b2bua::StoredCall;
using namespace std::chrono_literals;

// One deployment's keys: its call store and owners, on a clock the test moves.
struct Redis {
  std::string prefix = sb::testing::UniqueName("signaling") + ":";
  sb::redis::Client client{sb::signaling::test::SharedRedis(prefix)};
  sb::core::FakeClock clock;
  sb::signaling::RedisEventOutbox parking{client, 30s};
  RedisCallStore store{client, std::chrono::hours(1), parking, clock};
  RedisCallOwners owners{client};

  std::set<std::string> CallsOf(const std::string& instance) {
    auto reply =
        client.Run(sb::redis::Command("SMEMBERS").Key(RedisCallOwners::CallsKey(instance)));
    REQUIRE(reply.ok());
    std::set<std::string> ids;
    for (const auto& item : *reply->array()) ids.insert(*item.str());
    return ids;
  }
};

StoredCall CallOn(const std::string& instance, const std::string& id) {
  StoredCall call;
  call.call_id = id;
  call.tenant = sb::TenantId("tenant-1");
  call.node_id = instance;
  call.caller.id = {id + "@10.1.1.1", "ours-a", "caller"};
  return call;
}

}  // namespace

TEST_CASE("a stored call is filed under the replica instance carrying it until it is removed",
          "[redis]") {
  Redis redis;
  auto& store = redis.store;
  REQUIRE(store.Save(CallOn("sig-1.aa", "call-1"), nullptr).ok());
  REQUIRE(store.Save(CallOn("sig-1.aa", "call-2"), nullptr).ok());
  CHECK(redis.CallsOf("sig-1.aa") == std::set<std::string>{"call-1", "call-2"});
  // Removed by another replica (a BYE it took from the store), knowing only the id.
  StoredCall id_only;
  id_only.call_id = "call-1";
  REQUIRE(store.Remove(id_only, nullptr).ok());
  CHECK(redis.CallsOf("sig-1.aa") == std::set<std::string>{"call-2"});
}

TEST_CASE(
    "a silent replica's calls are adopted once among the live ones - then it is forgotten - a "
    "replica that heartbeats is not silent",
    "[redis]") {
  Redis redis;
  auto [store, owners, clock] = std::tie(redis.store, redis.owners, redis.clock);
  const auto t0 = clock.WallNow();
  REQUIRE(owners.Heartbeat("sig-1.dead", t0).ok());
  REQUIRE(owners.Heartbeat("sig-2.live", t0 + 20s).ok());
  std::set<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.insert("call-" + std::to_string(i));
    REQUIRE(store.Save(CallOn("sig-1.dead", "call-" + std::to_string(i)), nullptr).ok());
  }

  auto silent = owners.Silent(t0 + 10s, 10);
  REQUIRE(silent.ok());
  CHECK(*silent == std::vector<std::string>{"sig-1.dead"});

  // Two adopters take turns in small batches: every call goes to exactly one.
  std::set<std::string> by_b, by_c;
  for (int round = 0; round < 10; ++round) {
    auto b = owners.Adopt("sig-1.dead", "sig-2.live", 2);
    auto c = owners.Adopt("sig-1.dead", "sig-3.live", 2);
    REQUIRE(b.ok());
    REQUIRE(c.ok());
    by_b.insert(b->begin(), b->end());
    by_c.insert(c->begin(), c->end());
  }
  std::set<std::string> all = by_b;
  all.insert(by_c.begin(), by_c.end());
  CHECK(all == ids);
  CHECK(by_b.size() + by_c.size() == ids.size());
  CHECK(redis.CallsOf("sig-2.live") == by_b);
  CHECK(redis.CallsOf("sig-1.dead").empty());
  silent = owners.Silent(t0 + 10s, 10);
  REQUIRE(silent.ok());
  CHECK(silent->empty());

  REQUIRE(owners.Disown("sig-2.live", *by_b.begin()).ok());
  CHECK(redis.CallsOf("sig-2.live").size() == by_b.size() - 1);
}

TEST_CASE(
    "a replica that retires is silent at once, its calls adopted at the next pass - retiring "
    "one that never heartbeat adds nothing",
    "[redis]") {
  Redis redis;
  auto [store, owners, clock] = std::tie(redis.store, redis.owners, redis.clock);
  const auto now = clock.WallNow();
  REQUIRE(owners.Heartbeat("sig-1.stopping", now).ok());
  REQUIRE(store.Save(CallOn("sig-1.stopping", "outlives-the-drain"), nullptr).ok());
  auto silent = owners.Silent(now - 10s, 10);
  REQUIRE(silent.ok());
  CHECK(silent->empty());

  REQUIRE(owners.Retire("sig-1.stopping").ok());
  REQUIRE(owners.Retire("sig-9.never").ok());
  silent = owners.Silent(now - 10s, 10);
  REQUIRE(silent.ok());
  CHECK(*silent == std::vector<std::string>{"sig-1.stopping"});
  auto adopted = owners.Adopt("sig-1.stopping", "sig-2.live", 10);
  REQUIRE(adopted.ok());
  CHECK(*adopted == std::vector<std::string>{"outlives-the-drain"});
}

TEST_CASE("an instance id is its node id and a random part, and gives its node id back",
          "[redis]") {
  const std::string one = RedisCallOwners::NewInstance("sig-1");
  const std::string two = RedisCallOwners::NewInstance("sig-1");
  CHECK(one.starts_with("sig-1."));
  CHECK(one.size() == std::string("sig-1.").size() + 8);
  CHECK(one != two);
  CHECK(RedisCallOwners::NodeOf(one) == "sig-1");
}

TEST_CASE(
    "a call's commands go to the live node whose instance stored it - a call of this run, of a "
    "silent retired or forgotten instance, or with no record is served here",
    "[redis]") {
  Redis redis;
  auto [store, owners, clock] = std::tie(redis.store, redis.owners, redis.clock);
  StoredCallWhereabouts whereabouts(store, owners, clock, "sig-2.here", 10s);
  auto node_of = [&](const std::string& id) {
    auto node = whereabouts.ServingNode(sb::CallId(id));
    REQUIRE(node.ok());
    return node->value_or("(here)");
  };
  const auto now = clock.WallNow();
  REQUIRE(owners.Heartbeat("sig-1.live", now - 9s).ok());
  REQUIRE(owners.Heartbeat("sig-3.silent", now - 11s).ok());
  REQUIRE(owners.Heartbeat("sig-4.retired", now).ok());
  REQUIRE(owners.Retire("sig-4.retired").ok());
  REQUIRE(owners.Heartbeat("sig-2.here", now).ok());
  for (const char* instance :
       {"sig-1.live", "sig-3.silent", "sig-4.retired", "sig-5.forgotten", "sig-2.here"}) {
    REQUIRE(store.Save(CallOn(instance, std::string("on-") + instance), nullptr).ok());
  }

  CHECK(node_of("on-sig-1.live") == "sig-1");
  CHECK(node_of("on-sig-3.silent") == "(here)");
  CHECK(node_of("on-sig-4.retired") == "(here)");
  CHECK(node_of("on-sig-5.forgotten") == "(here)");
  CHECK(node_of("on-sig-2.here") == "(here)");
  CHECK(node_of("never-stored") == "(here)");
  clock.Advance(2s);  // sig-1's heartbeat is now 11 s old
  CHECK(node_of("on-sig-1.live") == "(here)");
}

TEST_CASE(
    "an adopter heartbeats, probes each adopted call at once (so many a pass) and then every "
    "probe interval (sooner when a session it refreshes needs it), and disowns a call once its "
    "probe ended it",
    "[redis]") {
  Redis redis;
  auto [store, owners, clock] = std::tie(redis.store, redis.owners, redis.clock);
  REQUIRE(owners.Heartbeat("sig-1.dead", clock.WallNow()).ok());
  REQUIRE(store.Save(CallOn("sig-1.dead", "talking"), nullptr).ok());
  REQUIRE(store.Save(CallOn("sig-1.dead", "gone"), nullptr).ok());
  clock.Advance(11s);

  struct Started {
    std::string id;
    CallAdopter::ProbeDone done;
  };
  std::vector<Started> started;
  sb::core::MetricsRegistry metrics;
  // One probe started per pass, to see the pacing.
  CallAdopter adopter(
      clock, owners, "sig-2.live",
      [&](std::string id, CallAdopter::ProbeDone done) {
        started.push_back({std::move(id), std::move(done)});
      },
      metrics, sb::core::Logger("test", sb::core::LogLevel::kError),
      {.heartbeat = 1s, .dead_after = 10s, .probe_interval = 30s, .probes_per_pass = 1});
  REQUIRE(adopter.PassOnce().ok());
  CHECK(adopter.adopted() == 2);
  REQUIRE(started.size() == 1);

  // The other call's probe now; the first, in flight, is not started again.
  REQUIRE(adopter.PassOnce().ok());
  REQUIRE(started.size() == 2);
  CHECK(started[0].id != started[1].id);
  // The dead instance, emptied, is forgotten; the adopter's own heartbeat is fresh.
  auto silent = owners.Silent(clock.WallNow() - 1s, 10);
  REQUIRE(silent.ok());
  CHECK(silent->empty());
  for (auto& s : started) s.done(s.id == "talking", {});
  REQUIRE(adopter.PassOnce().ok());
  CHECK(adopter.adopted() == 1);
  CHECK(redis.CallsOf("sig-2.live") == std::set<std::string>{"talking"});
  CHECK(started.size() == 2);
  CHECK(metrics.Counter("sb_signaling_calls_adopted_total", "").value() == 2);
  CHECK(metrics.Counter("sb_signaling_adopted_calls_ended_total", "").value() == 1);

  clock.Advance(30s);
  REQUIRE(adopter.PassOnce().ok());
  REQUIRE(started.size() == 3);
  CHECK(started[2].id == "talking");

  // A probe that refreshed a session of 20 s: the next one within half of it, not 30 s.
  started[2].done(true, 10s);
  REQUIRE(adopter.PassOnce().ok());
  clock.Advance(9s);
  REQUIRE(adopter.PassOnce().ok());
  CHECK(started.size() == 3);
  clock.Advance(1s);
  REQUIRE(adopter.PassOnce().ok());
  CHECK(started.size() == 4);
}

TEST_CASE(
    "the balancer's list: the SIP URIs of the replicas that heartbeat lately, each once - not a "
    "silent, retired or forgotten one's",
    "[redis]") {
  Redis redis;
  auto& owners = redis.owners;
  const auto now = redis.clock.WallNow();
  REQUIRE(owners.LiveSipUris(now - 10s)->empty());
  REQUIRE(owners.Heartbeat("sig-b.run1", now - 9s, "sip:10.0.0.6:5060").ok());
  REQUIRE(owners.Heartbeat("sig-a.run1", now, "sip:10.0.0.5:5060").ok());
  // sig-b restarted on its address: its old run's last beat and the new run's, one entry.
  REQUIRE(owners.Heartbeat("sig-b.run2", now, "sip:10.0.0.6:5060").ok());
  REQUIRE(owners.Heartbeat("sig-c.silent", now - 11s, "sip:10.0.0.7:5060").ok());
  REQUIRE(owners.Heartbeat("sig-d.retired", now, "sip:10.0.0.8:5060").ok());
  REQUIRE(owners.Retire("sig-d.retired").ok());
  REQUIRE(owners.Heartbeat("sig-e.no-uri", now).ok());
  auto live = owners.LiveSipUris(now - 10s);
  REQUIRE(live.ok());
  CHECK(*live == std::vector<std::string>{"sip:10.0.0.5:5060", "sip:10.0.0.6:5060"});

  // An adopter forgets a silent instance with no calls left: its URI goes with it.
  REQUIRE(owners.Adopt("sig-c.silent", "sig-a.run1", 10).ok());
  auto uri = redis.client.Run(sb::redis::Command("HGET").Key("node_sip").Arg("sig-c.silent"));
  REQUIRE(uri.ok());
  CHECK(uri->str() == nullptr);
}
