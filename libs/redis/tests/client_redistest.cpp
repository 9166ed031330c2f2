// The Redis client against real redis-server: the shared one (isolated by UniqueName prefixes)
// and private ones for kill/restart and SCRIPT FLUSH.
#include <hiredis.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "switchboard/redis/client.h"
#include "switchboard/testing/servers.h"

namespace {

using sb::StatusCode;
using sb::redis::Client;
using sb::redis::Command;
using sb::redis::Reply;
using std::chrono::milliseconds;

sb::redis::ClientOptions SharedOptions(const std::string& prefix) {
  const auto& s = sb::testing::Shared();
  return {.host = s.redis_host, .port = s.redis_port, .key_prefix = prefix};
}

// A plain hiredis connection, to look at what the client really wrote.
std::string RawGet(const std::string& key) {
  const auto& s = sb::testing::Shared();
  std::unique_ptr<redisContext, decltype(&redisFree)> c(
      redisConnect(s.redis_host.c_str(), s.redis_port), &redisFree);
  REQUIRE(c->err == 0);
  const char* argv[] = {"GET", key.data()};
  size_t lens[] = {3, key.size()};
  auto* r = static_cast<redisReply*>(redisCommandArgv(c.get(), 2, argv, lens));
  REQUIRE(r);
  std::string out = r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "<nil>";
  freeReplyObject(r);
  return out;
}

}  // namespace

TEST_CASE("keys get the client's prefix, so services do not see each other's keys",
          "[redis][prefix]") {
  const std::string prefix = sb::testing::UniqueName("svc") + ":";
  Client mine(SharedOptions(prefix));
  Client other(SharedOptions(sb::testing::UniqueName("other") + ":"));
  REQUIRE(mine.Run(Command("SET").Key("reg:alice").Arg("sip:alice@10.0.0.1")).ok());

  CHECK(RawGet(prefix + "reg:alice") == "sip:alice@10.0.0.1");
  CHECK(RawGet("reg:alice") == "<nil>");
  auto theirs = other.Run(Command("GET").Key("reg:alice"));
  REQUIRE(theirs.ok());
  CHECK(theirs->is_nil());
  auto back = mine.Run(Command("GET").Key("reg:alice"));
  REQUIRE(back.ok());
  CHECK(*back->str() == "sip:alice@10.0.0.1");
}

TEST_CASE("values and keys with any bytes come back unchanged", "[redis][binary]") {
  Client redis(SharedOptions(sb::testing::UniqueName("bin") + ":"));
  std::string value;
  for (int i = 0; i < 256; ++i) value += static_cast<char>(i);
  const std::string key("k\0\r\n", 4);
  REQUIRE(redis.Run(Command("SET").Key(key).Arg(value)).ok());
  auto got = redis.Run(Command("GET").Key(key));
  REQUIRE(got.ok());
  CHECK(*got->str() == value);
}

TEST_CASE("a pipeline runs its commands in order, each error in its place", "[redis][pipeline]") {
  Client redis(SharedOptions(sb::testing::UniqueName("pipe") + ":"));
  std::vector<Command> cmds;
  for (int i = 0; i < 200; ++i) cmds.push_back(Command("INCR").Key("counter"));
  cmds.push_back(Command("LPUSH").Key("list").Arg("x"));
  cmds.push_back(Command("GET").Key("list"));  // WRONGTYPE, and the pipeline goes on
  cmds.push_back(Command("GET").Key("counter"));
  auto replies = redis.Pipeline(cmds);
  REQUIRE(replies.ok());
  REQUIRE(replies->size() == 203);
  for (int i = 0; i < 200; ++i) CHECK((*replies)[i].integer() == i + 1);
  CHECK((*replies)[200].integer() == 1);
  REQUIRE((*replies)[201].is_error());
  CHECK(sb::redis::ErrorStatus(*(*replies)[201].error()).code() == StatusCode::kFailedPrecondition);
  CHECK(*(*replies)[202].str() == "200");
  // Run maps the same error reply to its Status.
  CHECK(redis.Run(Command("GET").Key("list")).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("scripts run by EVALSHA and are loaded again after SCRIPT FLUSH", "[redis][script]") {
  auto server = sb::testing::RedisServer::Start();  // SCRIPT FLUSH is server-wide
  Client redis({.port = server.port(), .key_prefix = "svc:"});
  const sb::redis::Script take(
      "local left = redis.call('DECRBY', KEYS[1], ARGV[1])\n"
      "if left < 0 then redis.call('INCRBY', KEYS[1], ARGV[1]) return -1 end\n"
      "return {KEYS[1], left}");
  REQUIRE(redis.Run(Command("SET").Key("quota").Arg(int64_t{3})).ok());

  auto first = redis.Eval(take, {"quota"}, {"2"});  // not cached yet: NOSCRIPT, load, run
  REQUIRE(first.ok());
  CHECK(*first == Reply(Reply::Array{Reply(std::string("svc:quota")), Reply(int64_t{1})}));
  auto cached = redis.Run(Command("SCRIPT").Arg("EXISTS").Arg(take.sha1()));
  REQUIRE(cached.ok());
  CHECK((*cached->array())[0].integer() == 1);

  REQUIRE(redis.Run(Command("SCRIPT").Arg("FLUSH")).ok());
  auto after_flush = redis.Eval(take, {"quota"}, {"2"});
  REQUIRE(after_flush.ok());
  CHECK(after_flush->integer() == -1);  // only 1 left: refused, and the quota is untouched
  CHECK(*redis.Run(Command("GET").Key("quota"))->str() == "1");

  auto bad = redis.Eval(sb::redis::Script("return redis.call('NOSUCHCOMMAND')"), {}, {});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("scripts in a pipeline the server does not know are loaded once and run in their place",
          "[redis][script][pipeline]") {
  auto server = sb::testing::RedisServer::Start();  // SCRIPT FLUSH is server-wide
  Client redis({.port = server.port(), .key_prefix = "svc:"});
  const sb::redis::Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  const sb::redis::Script get("return redis.call('GET', KEYS[1])");
  const std::vector<Command> pipeline = {
      Command::Eval(incr, {"n"}, {"2"}), Command("INCR").Key("plain"),
      Command::Eval(incr, {"n"}, {"3"}), Command::Eval(get, {"plain"}, {})};

  for (const char* when : {"first use", "after SCRIPT FLUSH", "cached"}) {
    if (std::string_view(when) == "after SCRIPT FLUSH") {
      REQUIRE(redis.Run(Command("SCRIPT").Arg("FLUSH")).ok());
    }
    REQUIRE(redis.Run(Command("DEL").Key("n").Key("plain")).ok());
    auto replies = redis.Pipeline(pipeline);
    REQUIRE(replies.ok());
    REQUIRE(replies->size() == 4);
    INFO(when);
    CHECK((*replies)[0].integer() == 2);
    CHECK((*replies)[1].integer() == 1);
    CHECK((*replies)[2].integer() == 5);
    CHECK(*(*replies)[3].str() == "1");  // a reloaded script runs after the plain commands
  }
  const sb::redis::Script broken("return redis.call('NOSUCHCOMMAND')");
  auto wrong = redis.Pipeline({Command::Eval(broken, {}, {}), Command("PING")});
  REQUIRE(wrong.ok());
  CHECK((*wrong)[0].is_error());
  CHECK(*(*wrong)[1].str() == "PONG");
}

TEST_CASE("the client reconnects to a redis killed and started again on the same port",
          "[redis][reconnect]") {
  auto server = sb::testing::RedisServer::Start();
  sb::core::FakeClock clock;
  Client redis({.port = server.port(), .key_prefix = "svc:"}, clock);
  REQUIRE(redis.Run(Command("SET").Key("k").Arg("before")).ok());
  server.Kill();
  clock.Advance(sb::redis::kLivenessCheckAfterIdle);  // the connection sat idle meanwhile

  SECTION("while the server is down, commands fail as UNAVAILABLE") {
    auto down = redis.Run(Command("GET").Key("k"));
    CHECK(down.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(down.status().message(), Catch::Contains("cannot connect to redis"));
    server.Restart();
  }
  SECTION("a restart while the connection is idle goes unnoticed") { server.Restart(); }

  REQUIRE(redis.Run(Command("SET").Key("k").Arg("after")).ok());
  auto got = redis.Run(Command("GET").Key("k"));
  REQUIRE(got.ok());
  CHECK(*got->str() == "after");
}

TEST_CASE("a restart right after a command costs the next command only, the one after reconnects",
          "[redis][reconnect]") {
  auto server = sb::testing::RedisServer::Start();
  sb::core::FakeClock clock;  // never advanced: the connection is in steady use, never checked
  Client redis({.port = server.port(), .key_prefix = "svc:"}, clock);
  REQUIRE(redis.Run(Command("SET").Key("k").Arg("before")).ok());
  server.Kill();
  server.Restart();

  auto lost = redis.Run(Command("GET").Key("k"));
  CHECK(lost.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(lost.status().message(), Catch::Contains("connection lost"));
  REQUIRE(redis.Run(Command("SET").Key("k").Arg("after")).ok());
  CHECK(*redis.Run(Command("GET").Key("k"))->str() == "after");
}

TEST_CASE("a command without a reply in time is DEADLINE_EXCEEDED; the client recovers",
          "[redis][timeout]") {
  auto options = SharedOptions(sb::testing::UniqueName("slow") + ":");
  options.command_timeout = milliseconds(100);
  Client redis(options);
  // BLPOP on an empty list holds the reply for 2 s, well past the 100 ms timeout.
  auto slow = redis.Run(Command("BLPOP").Key("empty").Arg(int64_t{2}));
  CHECK(slow.status().code() == StatusCode::kDeadlineExceeded);
  auto pong = redis.Run(Command("PING"));
  REQUIRE(pong.ok());
  CHECK(*pong->str() == "PONG");
}

TEST_CASE("threads may share one client", "[redis][threads]") {
  Client redis(SharedOptions(sb::testing::UniqueName("mt") + ":"));
  std::atomic<int> failures{0};  // Catch2 assertions are for the test's own thread only
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        if (!redis.Run(Command("INCR").Key("n")).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(*redis.Run(Command("GET").Key("n"))->str() == "1000");
}

TEST_CASE("with several connections one slow command does not hold up the others",
          "[redis][threads]") {
  auto options = SharedOptions(sb::testing::UniqueName("pool") + ":");
  options.connections = 2;
  Client pooled(options);
  options.connections = 1;
  Client single(options);
  for (Client* redis : {&pooled, &single}) {
    // BLPOP on an empty list holds its connection for a second.
    std::thread slow([redis] { (void)redis->Run(Command("BLPOP").Key("empty").Arg(int64_t{1})); });
    std::this_thread::sleep_for(milliseconds(200));  // the BLPOP is on its way first
    const auto started = std::chrono::steady_clock::now();
    auto pong = redis->Run(Command("PING"));
    const auto waited = std::chrono::steady_clock::now() - started;
    slow.join();
    REQUIRE(pong.ok());
    if (redis == &pooled) {
      CHECK(waited < milliseconds(500));
    } else {
      CHECK(waited >= milliseconds(500));  // one connection: the PING waits its turn
    }
  }
}
