// Digest nonce counts in Redis, shared by replicas: a count is accepted once, only higher counts
// after it, the key goes away with the nonce, and a Redis that is down refuses rather than admits.
#include <catch2/catch.hpp>
#include <chrono>

#include "store/redis_nonce_store.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;

sb::redis::ClientOptions Options(const std::string& prefix) {
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url, prefix);
  REQUIRE(options.ok());
  return *options;
}

}  // namespace

TEST_CASE("a nonce count is accepted once and only higher counts after it", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("nonce") + ":";
  sb::redis::Client replica_a(Options(prefix));
  sb::redis::Client replica_b(Options(prefix));
  sb::signaling::RedisNonceCountTracker a(replica_a);
  sb::signaling::RedisNonceCountTracker b(replica_b);
  auto expires = std::chrono::system_clock::now() + 60s;

  CHECK(*a.Accept("n1", 1, expires));
  CHECK_FALSE(*b.Accept("n1", 1, expires));  // the replay reaches another replica
  CHECK(*b.Accept("n1", 3, expires));
  CHECK_FALSE(*a.Accept("n1", 2, expires));
  CHECK(*a.Accept("n2", 1, expires));  // counts are per nonce
}

TEST_CASE("a first count comes too late after a higher one, whichever command decides it",
          "[redis]") {
  sb::redis::Client client(Options(sb::testing::UniqueName("nonce-first") + ":"));
  sb::signaling::RedisNonceCountTracker counts(client);
  auto expires = std::chrono::system_clock::now() + 60s;
  // A first count (SET NX) after a later one (the script): refused, as the script would.
  CHECK(*counts.Accept("n3", 2, expires));
  CHECK_FALSE(*counts.Accept("n3", 1, expires));
  // And a first count that is accepted is stored as 1, so only higher counts follow.
  CHECK(*counts.Accept("n4", 1, expires));
  CHECK_FALSE(*counts.Accept("n4", 1, expires));
  CHECK(*counts.Accept("n4", 2, expires));
  auto ttl =
      client.Run(sb::redis::Command("PTTL").Key(sb::signaling::RedisNonceCountTracker::Key("n4")));
  REQUIRE(ttl.ok());
  CHECK(ttl->integer().value_or(-1) > 0);
}

TEST_CASE("a nonce's count expires with the nonce", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("nonce") + ":";
  sb::redis::Client client(Options(prefix));
  sb::signaling::RedisNonceCountTracker counts(client);
  auto expires = std::chrono::system_clock::now() + 60s;
  REQUIRE(*counts.Accept("n1", 1, expires));
  auto ttl =
      client.Run(sb::redis::Command("PTTL").Key(sb::signaling::RedisNonceCountTracker::Key("n1")));
  REQUIRE(ttl.ok());
  CHECK(*ttl->integer() > 50000);
  CHECK(*ttl->integer() <= 60000);
}

TEST_CASE("a Redis that is down is an error and never an acceptance", "[redis]") {
  auto redis = sb::testing::RedisServer::Start();
  auto options = sb::redis::OptionsFromUrl(redis.url(), "sig:");
  REQUIRE(options.ok());
  sb::redis::Client client(*options);
  sb::signaling::RedisNonceCountTracker counts(client);
  redis.Kill();
  auto accepted = counts.Accept("n1", 1, std::chrono::system_clock::now() + 60s);
  CHECK_FALSE(accepted.ok());
}
