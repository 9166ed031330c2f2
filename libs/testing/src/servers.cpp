#include "switchboard/testing/servers.h"

#include <signal.h>

#include <filesystem>

#include "internal/launch.h"
#include "internal/process.h"

namespace sb::testing {

namespace fs = std::filesystem;
using internal::Launched;

namespace {

// The state every private server shares: its directory (removed with it), pid and port.
struct ServerDir {
  fs::path dir;
  Launched proc;
  std::string url;

  ServerDir() = default;
  ServerDir(const ServerDir&) = delete;
  ServerDir& operator=(const ServerDir&) = delete;
  ~ServerDir() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

void KillAndReap(pid_t pid) {
  if (!internal::Alive(pid)) return;
  kill(pid, SIGKILL);
  internal::WaitUntil(pid, std::chrono::seconds(10), [pid] { return !internal::Alive(pid); });
}

}  // namespace

// ---- NatsServer

struct NatsServer::Impl : ServerDir {
  ~Impl() { internal::StopNats(proc.pid); }
};

NatsServer NatsServer::Start() {
  auto impl = std::make_unique<Impl>();
  impl->dir = internal::MakeTempDir("nats");
  impl->proc = internal::LaunchNats(impl->dir, 0, /*detach=*/false);
  impl->url = internal::NatsUrl(impl->proc.port);
  return NatsServer(std::move(impl));
}

NatsServer::NatsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NatsServer::NatsServer(NatsServer&&) noexcept = default;
NatsServer& NatsServer::operator=(NatsServer&&) noexcept = default;
NatsServer::~NatsServer() = default;

const std::string& NatsServer::url() const { return impl_->url; }
int NatsServer::port() const { return impl_->proc.port; }
void NatsServer::Kill() { KillAndReap(impl_->proc.pid); }
void NatsServer::Stop() { internal::StopNats(impl_->proc.pid); }
void NatsServer::Restart() {
  Stop();
  impl_->proc = internal::LaunchNats(impl_->dir, impl_->proc.port, /*detach=*/false);
}

// ---- PostgresServer

struct PostgresServer::Impl : ServerDir {
  ~Impl() { internal::StopPostgres(proc.pid); }
};

PostgresServer PostgresServer::Start() {
  auto impl = std::make_unique<Impl>();
  impl->dir = internal::MakeTempDir("pg");
  impl->proc = internal::LaunchPostgres(impl->dir, /*detach=*/false);
  impl->url = internal::PostgresDsn(impl->proc.port);
  return PostgresServer(std::move(impl));
}

PostgresServer::PostgresServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresServer::PostgresServer(PostgresServer&&) noexcept = default;
PostgresServer& PostgresServer::operator=(PostgresServer&&) noexcept = default;
PostgresServer::~PostgresServer() = default;

const std::string& PostgresServer::dsn() const { return impl_->url; }
int PostgresServer::port() const { return impl_->proc.port; }

// ---- RedisServer

struct RedisServer::Impl : ServerDir {
  std::string host = "127.0.0.1";
  ~Impl() { internal::StopRedis(proc.pid); }
};

RedisServer RedisServer::Start() {
  auto impl = std::make_unique<Impl>();
  impl->dir = internal::MakeTempDir("redis");
  impl->proc = internal::LaunchRedis(impl->dir, 0, /*detach=*/false);
  impl->url = internal::RedisUrl(impl->proc.port);
  return RedisServer(std::move(impl));
}

RedisServer::RedisServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisServer::RedisServer(RedisServer&&) noexcept = default;
RedisServer& RedisServer::operator=(RedisServer&&) noexcept = default;
RedisServer::~RedisServer() = default;

const std::string& RedisServer::url() const { return impl_->url; }
const std::string& RedisServer::host() const { return impl_->host; }
int RedisServer::port() const { return impl_->proc.port; }
void RedisServer::Kill() { KillAndReap(impl_->proc.pid); }
void RedisServer::Stop() { internal::StopRedis(impl_->proc.pid); }
void RedisServer::Restart() {
  Stop();
  impl_->proc = internal::LaunchRedis(impl_->dir, impl_->proc.port, /*detach=*/false);
}

}  // namespace sb::testing
