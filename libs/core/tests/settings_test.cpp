#include "switchboard/core/settings.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <vector>

namespace {

using sb::core::SettingSpec;

std::vector<SettingSpec> Specs() {
  return {sb::core::NatsUrlSetting(),
          sb::core::HttpPortSetting("9100"),
          {"mode", "SB_TEST_MODE", "mode", "fast", sb::core::OneOf({"fast", "safe"})}};
}

sb::Result<sb::core::Settings> Load(std::vector<const char*> argv,
                                    std::map<std::string, std::string> env) {
  argv.insert(argv.begin(), "prog");
  auto specs = Specs();
  return sb::core::Settings::Load(specs, static_cast<int>(argv.size()), argv.data(),
                                  [&](const char* name) -> const char* {
                                    auto it = env.find(name);
                                    return it == env.end() ? nullptr : it->second.c_str();
                                  });
}

}  // namespace

TEST_CASE("a setting comes from its environment variable, a flag overrides it", "[unit]") {
  auto from_env = Load({}, {{"SB_NATS_URL", "nats://127.0.0.1:4222"}});
  REQUIRE(from_env.ok());
  CHECK(from_env->Get("nats-url") == "nats://127.0.0.1:4222");
  CHECK(from_env->GetInt("http-port") == 9100);
  CHECK(from_env->Get("mode") == "fast");

  auto from_flag = Load({"--nats-url", "nats://10.0.0.1:4222", "--http-port=0"},
                        {{"SB_NATS_URL", "nats://127.0.0.1:4222"}, {"SB_HTTP_PORT", "8080"}});
  REQUIRE(from_flag.ok());
  CHECK(from_flag->Get("nats-url") == "nats://10.0.0.1:4222");
  CHECK(from_flag->GetInt("http-port") == 0);
}

TEST_CASE("a missing or bad setting is an error naming it", "[unit]") {
  auto missing = Load({}, {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().field() == "nats-url");
  CHECK(missing.status().message() == "is required but not set");

  auto bad_url = Load({}, {{"SB_NATS_URL", "http://x:1"}});
  REQUIRE_FALSE(bad_url.ok());
  CHECK(bad_url.status().field() == "nats-url");

  auto bad_port = Load({"--http-port", "70000"}, {{"SB_NATS_URL", "nats://h:1"}});
  REQUIRE_FALSE(bad_port.ok());
  CHECK(bad_port.status().field() == "http-port");
  CHECK(bad_port.status().message() == "must be a port number 0..65535, got '70000'");

  auto bad_choice = Load({"--mode", "slow"}, {{"SB_NATS_URL", "nats://h:1"}});
  REQUIRE_FALSE(bad_choice.ok());
  CHECK(bad_choice.status().message() == "must be one of fast, safe, got 'slow'");

  auto unknown_flag = Load({"--colour", "red"}, {{"SB_NATS_URL", "nats://h:1"}});
  REQUIRE_FALSE(unknown_flag.ok());
  CHECK(unknown_flag.status().field() == "argv");
}

TEST_CASE("validators accept what services are given and reject the rest", "[unit]") {
  CHECK(sb::core::IsNatsUrl("nats://127.0.0.1:4222").ok());
  CHECK(sb::core::IsNatsUrl("nats://a:1,nats://b:2").ok());
  CHECK_FALSE(sb::core::IsNatsUrl("nats://a").ok());
  CHECK(sb::core::IsRedisUrl("redis://127.0.0.1:6379/2").ok());
  CHECK_FALSE(sb::core::IsRedisUrl("redis://127.0.0.1:6379/x").ok());
  CHECK(sb::core::IsPostgresDsn("host=127.0.0.1 port=5432 dbname=sb").ok());
  CHECK(sb::core::IsPostgresDsn("postgresql://u@h/db").ok());
  CHECK_FALSE(sb::core::IsPostgresDsn("localhost").ok());
  CHECK(sb::core::IsHostPort("0.0.0.0:7100").ok());
  CHECK(sb::core::IsHostPort("[::1]:7100").ok());
  CHECK_FALSE(sb::core::IsHostPort("7100").ok());
  CHECK_FALSE(sb::core::IsPositiveInt("0").ok());
  CHECK(sb::core::IsBool("yes").ok());

  auto redis = sb::core::ParseRedisUrl("redis://10.1.2.3:6380/4");
  REQUIRE(redis.ok());
  CHECK(redis->host == "10.1.2.3");
  CHECK(redis->port == 6380);
  CHECK(redis->db == 4);
}

TEST_CASE("a program with a bad setting stops with one line naming it", "[unit]") {
  int err_pipe[2];
  REQUIRE(pipe(err_pipe) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    setenv("SB_NATS_URL", "nats://127.0.0.1:4222", 1);
    setenv("SB_HTTP_PORT", "eighty", 1);
    const char* argv[] = {"prog"};
    auto specs = Specs();
    sb::core::LoadSettingsOrExit("admin", specs, 1, argv);
    _exit(0);  // not reached: the setting is bad
  }
  close(err_pipe[1]);
  std::string err;
  char buf[256];
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof buf)) > 0;) err.append(buf, n);
  close(err_pipe[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(err ==
        "admin: bad setting SB_HTTP_PORT (--http-port): must be a port number 0..65535, got "
        "'eighty'\n");
}
