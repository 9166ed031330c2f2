// LoopConnection against real redis-server, driven by a poll() loop as an owner's epoll would
// drive it: the shared server (isolated by UniqueName prefixes) and private ones for a restart
// and SCRIPT FLUSH.
#include <poll.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "switchboard/redis/client.h"
#include "switchboard/redis/loop_connection.h"
#include "switchboard/testing/servers.h"

namespace {

using sb::Result;
using sb::StatusCode;
using sb::redis::Command;
using sb::redis::LoopConnection;
using sb::redis::Reply;
using Replies = Result<std::vector<Reply>>;

// The owner's loop: waits on the connection's fd as it asks and tells it what is ready, until
// `done` or 5 s.
bool RunUntil(LoopConnection& redis, const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up || redis.fd() < 0) return done();
    pollfd p{.fd = redis.fd(),
             .events = static_cast<short>(POLLIN | (redis.wants_write() ? POLLOUT : 0)),
             .revents = 0};
    if (poll(&p, 1, 100) <= 0) continue;
    if (p.revents & POLLOUT) redis.OnWritable();
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) redis.OnReadable();
  }
  return true;
}

// Sends `commands` and runs the loop until they are answered.
Replies SendAndWait(LoopConnection& redis, std::vector<Command> commands) {
  std::optional<Replies> got;
  redis.Send(std::move(commands), [&](Replies r) { got = std::move(r); });
  RunUntil(redis, [&] { return got.has_value(); });
  REQUIRE(got.has_value());
  return std::move(*got);
}

sb::redis::ClientOptions SharedOptions(const std::string& prefix) {
  const auto& s = sb::testing::Shared();
  return {.host = s.redis_host, .port = s.redis_port, .key_prefix = prefix};
}

}  // namespace

TEST_CASE("a loop connection answers a pipeline in order with the client's prefix",
          "[redis][loop]") {
  const std::string prefix = sb::testing::UniqueName("loop") + ":";
  LoopConnection redis(SharedOptions(prefix));
  CHECK(redis.fd() < 0);  // opened by the first send

  auto replies = SendAndWait(
      redis, {std::move(Command("SET").Key("k").Arg("v")), std::move(Command("INCR").Key("n")),
              Command("GET").Key("k"), Command("LPUSH").Key("k").Arg("x")});
  REQUIRE(replies.ok());
  REQUIRE(replies->size() == 4);
  CHECK(*(*replies)[0].str() == "OK");
  CHECK((*replies)[1].integer() == 1);
  CHECK(*(*replies)[2].str() == "v");
  CHECK((*replies)[3].is_error());  // a command's own error stays in its place
  sb::redis::Client check(SharedOptions(prefix));
  CHECK(*check.Run(Command("GET").Key("k"))->str() == "v");
  CHECK(redis.in_flight() == 0);
}

TEST_CASE("many pipelines in flight on a loop connection are answered each with its own replies",
          "[redis][loop]") {
  LoopConnection redis(SharedOptions(sb::testing::UniqueName("loopmany") + ":"));
  constexpr int kPipelines = 500;
  std::vector<std::optional<Replies>> got(kPipelines);
  int answered = 0;
  std::vector<int> order;
  for (int i = 0; i < kPipelines; ++i) {
    redis.Send({std::move(Command("INCR").Key("counter")),
                std::move(Command("SET").Key("k" + std::to_string(i)).Arg(int64_t{i})),
                Command("GET").Key("k" + std::to_string(i))},
               [&, i](Replies r) {
                 got[i] = std::move(r);
                 order.push_back(i);
                 ++answered;
               });
  }
  CHECK(redis.in_flight() == kPipelines);
  REQUIRE(RunUntil(redis, [&] { return answered == kPipelines; }));
  for (int i = 0; i < kPipelines; ++i) {
    INFO(i);
    REQUIRE(got[i]->ok());
    CHECK((**got[i])[0].integer() == i + 1);  // sent in order, run in order
    CHECK(*(**got[i])[2].str() == std::to_string(i));
    CHECK(order[i] == i);
  }
}

TEST_CASE("a loop connection loads the scripts the server does not know and runs them in place",
          "[redis][loop][script]") {
  auto server = sb::testing::RedisServer::Start();  // SCRIPT FLUSH is server-wide
  LoopConnection redis({.port = server.port(), .key_prefix = "svc:"});
  const sb::redis::Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  for (const char* when : {"first use", "cached", "after SCRIPT FLUSH"}) {
    INFO(when);
    if (std::string_view(when) == "after SCRIPT FLUSH") {
      REQUIRE(SendAndWait(redis, {Command("SCRIPT").Arg("FLUSH")}).ok());
    }
    auto replies = SendAndWait(redis, {std::move(Command("DEL").Key("n")),
                                       Command::Eval(incr, {"n"}, {"2"}), Command("PING")});
    REQUIRE(replies.ok());
    CHECK((*replies)[1].integer() == 2);
    CHECK(*(*replies)[2].str() == "PONG");
  }
  auto broken =
      SendAndWait(redis, {Command::Eval(sb::redis::Script("return redis.call('NOPE')"), {}, {})});
  REQUIRE(broken.ok());
  CHECK((*broken)[0].is_error());
}

TEST_CASE("a restarted redis fails the waiting pipelines UNAVAILABLE and the next send reconnects",
          "[redis][loop][reconnect]") {
  auto server = sb::testing::RedisServer::Start();
  LoopConnection redis({.port = server.port(), .key_prefix = "svc:"});
  REQUIRE(SendAndWait(redis, {Command("SET").Key("k").Arg("before")}).ok());
  const uint64_t first = redis.generation();

  // BLPOP holds its reply, so the pipeline is still waiting when the server goes.
  std::optional<Replies> held;
  redis.Send({Command("BLPOP").Key("empty").Arg(int64_t{5})},
             [&](Replies r) { held = std::move(r); });
  RunUntil(redis, [&] { return !redis.wants_write(); });
  server.Kill();
  RunUntil(redis, [&] { return held.has_value(); });
  REQUIRE(held.has_value());
  CHECK(held->status().code() == StatusCode::kUnavailable);
  CHECK(redis.fd() < 0);

  SECTION("while the server is down, sends fail UNAVAILABLE") {
    auto down = SendAndWait(redis, {Command("PING")});
    CHECK(down.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(down.status().message(), Catch::Contains("cannot connect to redis"));
  }
  server.Restart();
  auto after = SendAndWait(
      redis, {std::move(Command("SET").Key("k").Arg("after")), Command("GET").Key("k")});
  REQUIRE(after.ok());
  CHECK(*(*after)[1].str() == "after");
  CHECK(redis.generation() > first);
}

TEST_CASE("a pipeline without a reply in time is DEADLINE_EXCEEDED - the next send reconnects",
          "[redis][loop][timeout]") {
  sb::core::FakeClock clock;
  auto options = SharedOptions(sb::testing::UniqueName("looptimeout") + ":");
  options.command_timeout = std::chrono::milliseconds(100);
  LoopConnection redis(options, clock);
  CHECK_FALSE(redis.deadline().has_value());

  // BLPOP holds its reply for 2 s, well past the 100 ms timeout.
  std::optional<Replies> held;
  redis.Send({Command("BLPOP").Key("empty").Arg(int64_t{2})},
             [&](Replies r) { held = std::move(r); });
  REQUIRE(redis.deadline() == clock.Now() + std::chrono::milliseconds(100));
  RunUntil(redis, [&] { return !redis.wants_write(); });
  redis.Expire();  // not due yet
  CHECK_FALSE(held.has_value());

  clock.Advance(std::chrono::milliseconds(100));
  redis.Expire();
  REQUIRE(held.has_value());
  CHECK(held->status().code() == StatusCode::kDeadlineExceeded);
  CHECK(redis.fd() < 0);
  auto pong = SendAndWait(redis, {Command("PING")});
  REQUIRE(pong.ok());
  CHECK(*(*pong)[0].str() == "PONG");
}
