// sb-test-servers as scripts/test uses it: start leaves three servers running after it exits and
// describes them in servers.env, which Shared() reads; stop takes them and their dirs away.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "switchboard/testing/servers.h"

namespace {

namespace fs = std::filesystem;

int RunTool(const std::string& args) {
  int rc = std::system((std::string(SB_TEST_SERVERS_BIN) + " " + args + " >/dev/null").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::map<std::string, std::string> ReadEnv(const fs::path& file) {
  std::map<std::string, std::string> env;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    std::string value = line.substr(eq + 1);
    REQUIRE(value.size() >= 2);
    REQUIRE(value.front() == '\'');
    env[line.substr(0, eq)] = value.substr(1, value.size() - 2);
  }
  return env;
}

bool Running(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  return text[text.rfind(')') + 2] != 'Z';
}

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

TEST_CASE("sb-test-servers start and stop a run's servers, which Shared() then uses",
          "[testing][tool]") {
  const fs::path dir = fs::temp_directory_path() / sb::testing::UniqueName("sb-tool-test");
  REQUIRE(RunTool("start " + dir.string()) == 0);
  const fs::path file = dir / "servers.env";
  auto env = ReadEnv(file);
  for (const char* key : {"NATS_URL", "PG_DSN", "REDIS_URL", "NATS_PID", "PG_PID", "REDIS_PID",
                          "NATS_DIR", "PG_DIR", "REDIS_DIR"}) {
    INFO(key);
    CHECK(!env[key].empty());
  }
  // Running after the tool itself has exited.
  CHECK(Running(env["NATS_PID"]));
  CHECK(Running(env["PG_PID"]));
  CHECK(Running(env["REDIS_PID"]));

  SECTION("a second start refuses while the first run's file is there") {
    CHECK(RunTool("start " + dir.string() + " 2>/dev/null") == 1);
  }
  SECTION("Shared() takes the servers from SB_TEST_SERVERS") {
    setenv("SB_TEST_SERVERS", file.c_str(), 1);
    const auto& shared = sb::testing::Shared();
    CHECK(shared.nats_url == env["NATS_URL"]);
    CHECK(shared.pg_dsn == env["PG_DSN"]);
    CHECK(shared.redis_url == env["REDIS_URL"]);
    CHECK(shared.redis_port == PortOf(env["REDIS_URL"]));
    std::unique_ptr<PGconn, decltype(&PQfinish)> c(
        PQconnectdb(sb::testing::FreshDatabase("tool").c_str()), &PQfinish);
    CHECK(PQstatus(c.get()) == CONNECTION_OK);
  }

  REQUIRE(RunTool("stop " + dir.string()) == 0);
  CHECK_FALSE(Running(env["NATS_PID"]));
  CHECK_FALSE(Running(env["PG_PID"]));
  CHECK_FALSE(Running(env["REDIS_PID"]));
  CHECK_FALSE(Accepts(PortOf(env["NATS_URL"])));
  CHECK_FALSE(Accepts(PortOf(env["REDIS_URL"])));
  CHECK_FALSE(fs::exists(env["NATS_DIR"]));
  CHECK_FALSE(fs::exists(env["PG_DIR"]));
  CHECK_FALSE(fs::exists(env["REDIS_DIR"]));
  CHECK_FALSE(fs::exists(file));
  // Idempotent: an EXIT trap may stop twice.
  CHECK(RunTool("stop " + dir.string() + " 2>/dev/null") == 0);
  fs::remove_all(dir);
}

TEST_CASE("sb-test-servers start names the server that cannot start and exits 1",
          "[testing][tool]") {
  const fs::path dir = fs::temp_directory_path() / sb::testing::UniqueName("sb-tool-fail");
  const fs::path err = dir.string() + ".stderr";
  // An empty PATH: nats-server is still found in /usr/sbin (the harness looks there as a login
  // PATH would), redis-server is not; the nats-server already started must be stopped again.
  int rc = std::system(("PATH=/nonexistent " + std::string(SB_TEST_SERVERS_BIN) + " start " +
                        dir.string() + " 2>" + err.string())
                           .c_str());
  CHECK((WIFEXITED(rc) && WEXITSTATUS(rc) == 1));
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK_THAT(text, Catch::Contains("redis-server failed") && Catch::Contains("not found in PATH"));
  CHECK_FALSE(fs::exists(dir / "servers.env"));
  fs::remove_all(dir);
  fs::remove(err);
}

TEST_CASE("start sweeps server dirs that dead test processes left, and only those",
          "[testing][tool]") {
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  // Left by a test binary that crashed: old, and no process works in it or names it.
  const fs::path stale = "/tmp/sb-redis.sweep" + sb::testing::UniqueName("x").substr(2, 6);
  fs::create_directories(stale);
  std::ofstream(stale / "redis.log") << "old";
  fs::last_write_time(stale, an_hour_ago);
  // A test that is starting right now.
  const fs::path fresh = "/tmp/sb-pg.sweep" + sb::testing::UniqueName("x").substr(2, 6);
  fs::create_directories(fresh);

  // Servers of another run, running, with dirs made to look old: in use, so they stay.
  const fs::path running = fs::temp_directory_path() / sb::testing::UniqueName("sb-tool-run");
  REQUIRE(RunTool("start " + running.string()) == 0);
  auto env = ReadEnv(running / "servers.env");
  for (const char* key : {"NATS_DIR", "PG_DIR", "REDIS_DIR"}) {
    fs::last_write_time(env[key], an_hour_ago);
  }

  const fs::path second = fs::temp_directory_path() / sb::testing::UniqueName("sb-tool-run");
  REQUIRE(RunTool("start " + second.string()) == 0);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(fresh));
  for (const char* key : {"NATS_DIR", "PG_DIR", "REDIS_DIR"}) {
    INFO(key);
    CHECK(fs::exists(env[key]));
  }
  CHECK(Running(env["REDIS_PID"]));

  CHECK(RunTool("stop " + second.string()) == 0);
  CHECK(RunTool("stop " + running.string()) == 0);
  fs::remove_all(second);
  fs::remove_all(running);
  fs::remove_all(fresh);
  fs::remove_all(stale);
}
