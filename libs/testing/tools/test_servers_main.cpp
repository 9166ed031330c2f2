// sb-test-servers: the real servers of a whole test run (or of a local platform), started once.
//
//   sb-test-servers start DIR   starts nats-server, PostgreSQL and redis-server detached, writes
//                               DIR/servers.env (NATS_URL, PG_DSN, REDIS_URL, pids, dirs), exits 0;
//                               exits 1 naming the server that failed (and stops the others).
//   sb-test-servers stop DIR    stops them by the pids in DIR/servers.env, removes their dirs.
//
// Tests find the file through SB_TEST_SERVERS=DIR/servers.env (see libs/testing/README.md).
#include <sys/types.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include "internal/env_file.h"
#include "internal/launch.h"
#include "internal/process.h"

namespace {

namespace fs = std::filesystem;
namespace in = sb::testing::internal;

struct Kind {
  const char* key;           // NATS, PG, REDIS
  const char* process_name;  // /proc/<pid>/comm, checked before a signal is sent
  void (*stop)(pid_t);
};
constexpr Kind kKinds[] = {{"NATS", "nats-server", in::StopNats},
                           {"PG", "postgres", in::StopPostgres},
                           {"REDIS", "redis-server", in::StopRedis}};

// Only directories this tool made: a corrupt file must not make us delete anything else.
bool OurDir(const std::string& dir) {
  return dir.starts_with("/tmp/sb-") && dir.find("..") == std::string::npos;
}

void StopAll(const in::EnvFile& env) {
  for (const Kind& kind : kKinds) {
    auto pid_it = env.find(std::string(kind.key) + "_PID");
    if (pid_it != env.end()) {
      pid_t pid = static_cast<pid_t>(std::stol(pid_it->second));
      if (pid > 0 && in::ProcessName(pid) == kind.process_name) kind.stop(pid);
    }
    auto dir_it = env.find(std::string(kind.key) + "_DIR");
    if (dir_it != env.end() && OurDir(dir_it->second)) {
      std::error_code ec;
      fs::remove_all(dir_it->second, ec);
    }
  }
}

int Start(const fs::path& dir) {
  const fs::path file = dir / "servers.env";
  fs::create_directories(dir);
  if (fs::exists(file)) {
    std::cerr << "sb-test-servers: " << file.string()
              << " exists: servers may be running; run `sb-test-servers stop " << dir.string()
              << "` first\n";
    return 1;
  }
  in::EnvFile env;
  // Each step records what it started before the next one can fail, so StopAll cleans up.
  const std::pair<const char*, std::function<void()>> steps[] = {
      {"nats-server",
       [&] {
         env["NATS_DIR"] = in::MakeTempDir("nats").string();
         auto p = in::LaunchNats(env["NATS_DIR"], 0, /*detach=*/true);
         env["NATS_PID"] = std::to_string(p.pid);
         env["NATS_URL"] = in::NatsUrl(p.port);
       }},
      {"postgres",
       [&] {
         env["PG_DIR"] = in::MakeTempDir("pg").string();
         auto p = in::LaunchPostgres(env["PG_DIR"], /*detach=*/true);
         env["PG_PID"] = std::to_string(p.pid);
         env["PG_DSN"] = in::PostgresDsn(p.port);
       }},
      {"redis-server", [&] {
         env["REDIS_DIR"] = in::MakeTempDir("redis").string();
         auto p = in::LaunchRedis(env["REDIS_DIR"], 0, /*detach=*/true);
         env["REDIS_PID"] = std::to_string(p.pid);
         env["REDIS_URL"] = in::RedisUrl(p.port);
       }}};
  for (const auto& [name, step] : steps) {
    try {
      step();
    } catch (const std::exception& e) {
      std::cerr << "sb-test-servers: " << name << " failed: " << e.what() << "\n";
      StopAll(env);
      return 1;
    }
  }
  in::WriteEnvFile(file, env);
  std::cout << file.string() << "\n";
  return 0;
}

int Stop(const fs::path& dir) {
  const fs::path file = dir / "servers.env";
  if (!fs::exists(file)) {
    // Idempotent, so that an EXIT trap may call it after a failed start.
    std::cerr << "sb-test-servers: no " << file.string() << ", nothing to stop\n";
    return 0;
  }
  StopAll(in::ReadEnvFile(file));
  fs::remove(file);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::cerr << "usage: sb-test-servers start|stop DIR\n";
    return 2;
  }
  try {
    return std::string(argv[1]) == "start" ? Start(argv[2]) : Stop(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "sb-test-servers: " << e.what() << "\n";
    return 1;
  }
}
