// Starting and stopping one server in a directory the caller owns. The server classes wrap these
// with ownership; sb-test-servers calls them with `detach` and writes the pids down.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace sb::testing::internal {

struct Launched {
  pid_t pid = -1;
  int port = 0;
};

// nats-server with JetStream (store in dir/store, memory/file limits from dir/nats.conf), log in
// dir/nats.log. port 0: the kernel picks one. Returns once the server accepts clients.
Launched LaunchNats(const std::filesystem::path& dir, int port, bool detach);
void StopNats(pid_t pid);  // SIGTERM, SIGKILL after a grace period

// redis-server without persistence, log in dir/redis.log. port 0: a free port (retried if another
// process takes it first). Returns once it answers PING.
Launched LaunchRedis(const std::filesystem::path& dir, int port, bool detach);
void StopRedis(pid_t pid);

// initdb into dir/data (once) and postgres as the postgres user, unix socket in dir, log in
// dir/pg.log. Returns once it accepts connections. dir must be short (socket path limit).
Launched LaunchPostgres(const std::filesystem::path& dir, bool detach);
void StopPostgres(pid_t pid);  // SIGINT (fast shutdown), SIGKILL after a grace period

std::string NatsUrl(int port);
std::string RedisUrl(int port);
std::string PostgresDsn(int port);

}  // namespace sb::testing::internal
