// Real servers for tests: nats-server with JetStream, PostgreSQL 15 and redis-server, each on a
// free loopback port in its own temporary directory, stopped by pid when the owner goes away and
// leaving nothing behind. Test code may throw: a server that fails to start throws
// std::runtime_error naming the server and the reason (with the tail of its log).
//
// Two ways to get servers:
//   1. Shared(): the servers of the whole ctest run. scripts/test starts them once with
//      `sb-test-servers start DIR` and exports SB_TEST_SERVERS=DIR/servers.env; without that
//      variable (a test binary run by hand) they are started once per process and stopped at exit.
//      Tests sharing them isolate themselves by name: FreshDatabase(), UniqueName().
//   2. A private server a test owns (to kill -9 and restart it):
//        auto nats = sb::testing::NatsServer::Start();
//        Connect(nats.url());
//        nats.Kill();     // SIGKILL
//        nats.Restart();  // same port, same JetStream store
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace sb::testing {

class NatsServer {
 public:
  static NatsServer Start();
  NatsServer(NatsServer&&) noexcept;
  NatsServer& operator=(NatsServer&&) noexcept;
  ~NatsServer();

  const std::string& url() const;  // "nats://127.0.0.1:PORT"
  int port() const;
  void Kill();     // SIGKILL, waits for the process to be gone
  void Stop();     // SIGTERM, waits
  void Restart();  // starts again on the same port with the same store directory

  struct Impl;

 private:
  explicit NatsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class PostgresServer {
 public:
  static PostgresServer Start();
  PostgresServer(PostgresServer&&) noexcept;
  PostgresServer& operator=(PostgresServer&&) noexcept;
  ~PostgresServer();

  const std::string& dsn() const;  // "host=127.0.0.1 port=PORT user=postgres dbname=postgres"
  int port() const;

  struct Impl;

 private:
  explicit PostgresServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class RedisServer {
 public:
  static RedisServer Start();
  RedisServer(RedisServer&&) noexcept;
  RedisServer& operator=(RedisServer&&) noexcept;
  ~RedisServer();

  const std::string& url() const;  // "redis://127.0.0.1:PORT"
  const std::string& host() const;
  int port() const;
  void Kill();
  void Stop();     // SIGTERM, waits
  void Restart();  // starts again on the same port (empty: redis here keeps no data on disk)

  struct Impl;

 private:
  explicit RedisServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SharedServers {
  std::string nats_url;
  std::string pg_dsn;
  std::string redis_url;
  std::string redis_host;
  int redis_port = 0;
};

// The servers of this test run (see above). Thread-safe; starts them on first use.
const SharedServers& Shared();

// A new, empty database on the shared PostgreSQL; returns its DSN. Named <prefix>_<random>.
std::string FreshDatabase(std::string_view prefix);

// A name no other test of this run uses: "<prefix>_<random hex>", for streams, subjects, keys.
std::string UniqueName(std::string_view prefix);

// A port free for both TCP and UDP on every address (bound and released; picked above the kernel's
// ephemeral range, so that no client socket takes it before it is used, and never handed out
// twice by this process). With `also_free_above`, port +
// also_free_above is free too: sipp binds its RTP echo port and a video port two above it.
int FreePort(int also_free_above = 0);

}  // namespace sb::testing
