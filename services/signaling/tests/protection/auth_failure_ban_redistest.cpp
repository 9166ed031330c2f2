// Bans after repeated authentication failures and the per-account limit, in a real Redis shared by
// two replicas: failures from one source add up across replicas, the ban expires by itself, other
// sources are untouched, and an account is limited whichever replica counts it.
#include <catch2/catch.hpp>
#include <chrono>

#include "protection/auth_failure_ban.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;

sb::redis::ClientOptions Options(const std::string& prefix) {
  auto options = sb::redis::OptionsFromUrl(sb::testing::Shared().redis_url, prefix);
  REQUIRE(options.ok());
  return *options;
}

}  // namespace

TEST_CASE("a source is banned at the failure limit counted across replicas", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("ban") + ":";
  sb::redis::Client a_client(Options(prefix));
  sb::redis::Client b_client(Options(prefix));
  sb::signaling::BanPolicy policy{.max_failures = 4, .window = 60s, .ban_for = 60s};
  sb::signaling::AuthFailureBan a(a_client, policy);
  sb::signaling::AuthFailureBan b(b_client, policy);

  CHECK_FALSE(*a.RecordFailure("127.0.0.20"));
  CHECK_FALSE(*b.RecordFailure("127.0.0.20"));
  CHECK_FALSE(*a.RecordFailure("127.0.0.20"));
  CHECK_FALSE(*b.IsBanned("127.0.0.20"));
  CHECK(*b.RecordFailure("127.0.0.20"));  // the fourth, on the other replica
  CHECK(*a.IsBanned("127.0.0.20"));
  CHECK(*b.IsBanned("127.0.0.20"));
  CHECK_FALSE(*a.IsBanned("127.0.0.21"));

  auto ttl = a_client.Run(
      sb::redis::Command("PTTL").Key(sb::signaling::AuthFailureBan::BanKey("127.0.0.20")));
  REQUIRE(ttl.ok());
  CHECK(*ttl->integer() > 0);
  CHECK(*ttl->integer() <= 60000);

  REQUIRE(a.Lift("127.0.0.20").ok());
  CHECK_FALSE(*b.IsBanned("127.0.0.20"));
}

TEST_CASE("a ban lifts by itself when it expires", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("ban") + ":";
  sb::redis::Client client(Options(prefix));
  // Redis expires keys on its own clock, so this test waits out a real 150 ms ban, polling with a
  // deadline rather than sleeping a fixed time.
  sb::signaling::AuthFailureBan ban(client, {.max_failures = 1, .window = 60s, .ban_for = 150ms});
  REQUIRE(*ban.RecordFailure("127.0.0.22"));
  CHECK(*ban.IsBanned("127.0.0.22"));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  bool banned = true;
  while (banned && std::chrono::steady_clock::now() < deadline)
    banned = *ban.IsBanned("127.0.0.22");
  CHECK_FALSE(banned);
}

TEST_CASE("failures older than the window are forgotten", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("ban") + ":";
  sb::redis::Client client(Options(prefix));
  sb::signaling::AuthFailureBan ban(client, {.max_failures = 2, .window = 60s, .ban_for = 60s});
  REQUIRE_FALSE(*ban.RecordFailure("127.0.0.23"));
  auto ttl = client.Run(
      sb::redis::Command("PTTL").Key(sb::signaling::AuthFailureBan::FailuresKey("127.0.0.23")));
  REQUIRE(ttl.ok());
  CHECK(*ttl->integer() > 0);
  CHECK(*ttl->integer() <= 60000);
}

TEST_CASE("an account is limited per window whichever replica counts it", "[redis]") {
  const std::string prefix = sb::testing::UniqueName("acct") + ":";
  sb::redis::Client a_client(Options(prefix));
  sb::redis::Client b_client(Options(prefix));
  sb::signaling::AccountLimitPolicy policy{.max_requests = 3, .window = 60s};
  sb::signaling::AccountRateLimit a(a_client, policy);
  sb::signaling::AccountRateLimit b(b_client, policy);
  CHECK(*a.Allow("acme.sip.test", "1001"));
  CHECK(*b.Allow("acme.sip.test", "1001"));
  CHECK(*a.Allow("acme.sip.test", "1001"));
  CHECK_FALSE(*b.Allow("acme.sip.test", "1001"));
  CHECK(*a.Allow("acme.sip.test", "1002"));  // another account has its own budget
  auto ttl = a_client.Run(sb::redis::Command("PTTL").Key("acctrate:acme.sip.test:1001"));
  REQUIRE(ttl.ok());
  CHECK(*ttl->integer() > 0);  // the window ends by itself
  CHECK(*ttl->integer() <= 60000);
}

TEST_CASE("an account's calls and registrations are counted apart", "[redis]") {
  sb::redis::Client client(Options(sb::testing::UniqueName("acct-kinds") + ":"));
  sb::signaling::AccountRateLimit registers(client, {.max_requests = 1, .window = 60s});
  sb::signaling::AccountRateLimit invites(
      client, {.max_requests = 1, .window = 60s, .counter = "acctrate-invite"});
  CHECK(*invites.Allow("acme.sip.test", "1001"));
  CHECK_FALSE(*invites.Allow("acme.sip.test", "1001"));
  CHECK(*registers.Allow("acme.sip.test", "1001"));  // a busy caller can still register
}

TEST_CASE("a Redis that is down is an error for bans and limits", "[redis]") {
  auto redis = sb::testing::RedisServer::Start();
  auto options = sb::redis::OptionsFromUrl(redis.url(), "sig:");
  REQUIRE(options.ok());
  sb::redis::Client client(*options);
  sb::signaling::AuthFailureBan ban(client, {});
  sb::signaling::AccountRateLimit limit(client, {});
  redis.Kill();
  CHECK_FALSE(ban.IsBanned("127.0.0.24").ok());
  CHECK_FALSE(ban.RecordFailure("127.0.0.24").ok());
  CHECK_FALSE(limit.Allow("acme.sip.test", "1001").ok());
}
