#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "internal/env_file.h"
#include "switchboard/testing/servers.h"

namespace sb::testing {
namespace {

std::string Required(const internal::EnvFile& env, const std::string& key,
                     const std::string& file) {
  auto it = env.find(key);
  if (it == env.end() || it->second.empty()) {
    throw std::runtime_error("SB_TEST_SERVERS file " + file + " has no " + key);
  }
  return it->second;
}

// redis://HOST:PORT -> host, port
void SplitRedisUrl(const std::string& url, std::string& host, int& port) {
  constexpr std::string_view kScheme = "redis://";
  size_t colon = url.rfind(':');
  if (!url.starts_with(kScheme) || colon == std::string::npos || colon < kScheme.size()) {
    throw std::runtime_error("REDIS_URL is not redis://HOST:PORT: " + url);
  }
  host = url.substr(kScheme.size(), colon - kScheme.size());
  port = std::stoi(url.substr(colon + 1));
}

// Servers this process started itself because no SB_TEST_SERVERS was given; static, so that
// they stop at exit.
struct OwnServers {
  NatsServer nats = NatsServer::Start();
  PostgresServer pg = PostgresServer::Start();
  RedisServer redis = RedisServer::Start();
};

SharedServers Load() {
  SharedServers s;
  if (const char* file = std::getenv("SB_TEST_SERVERS"); file && *file) {
    internal::EnvFile env = internal::ReadEnvFile(file);
    s.nats_url = Required(env, "NATS_URL", file);
    s.pg_dsn = Required(env, "PG_DSN", file);
    s.redis_url = Required(env, "REDIS_URL", file);
  } else {
    static OwnServers own;
    s.nats_url = own.nats.url();
    s.pg_dsn = own.pg.dsn();
    s.redis_url = own.redis.url();
  }
  SplitRedisUrl(s.redis_url, s.redis_host, s.redis_port);
  return s;
}

std::string RandomHex(int digits) {
  // Unique across processes (ctest -j runs test binaries side by side) and within one.
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}() ^ (static_cast<uint64_t>(getpid()) << 32)};
  std::lock_guard lock(mu);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out += kHex[rng() % 16];
  return out;
}

// The DSN with its dbname replaced (or added).
std::string WithDatabase(const std::string& dsn, const std::string& db) {
  std::istringstream in(dsn);
  std::string word;
  std::string out;
  while (in >> word) {
    if (word.starts_with("dbname=")) continue;
    out += word + " ";
  }
  return out + "dbname=" + db;
}

}  // namespace

const SharedServers& Shared() {
  static const SharedServers servers = Load();  // thread-safe static initialisation
  return servers;
}

std::string UniqueName(std::string_view prefix) {
  return std::string(prefix) + "_" + RandomHex(16);
}

std::string FreshDatabase(std::string_view prefix) {
  std::string name;
  for (char c : UniqueName(prefix)) {
    // A bare identifier, so that no quoting is needed wherever the name ends up.
    name += std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
  }
  const std::string& dsn = Shared().pg_dsn;
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(dsn.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("FreshDatabase: cannot connect to " + dsn + ": " +
                             PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    throw std::runtime_error("FreshDatabase: CREATE DATABASE " + name + ": " +
                             PQerrorMessage(conn.get()));
  }
  return WithDatabase(dsn, name);
}

namespace {

// Binds `type` on every address at `port` (0: the kernel picks); the bound port, or -1 when it is
// taken. The socket is closed again.
int TryBind(int type, int port) {
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("FreePort: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  int bound = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  } else if (errno != EADDRINUSE || port == 0) {
    const int err = errno;
    close(fd);
    throw std::runtime_error(std::string("FreePort: bind: ") + std::strerror(err));
  }
  close(fd);
  return bound;
}

// The ports above the kernel's ephemeral range (ip_local_port_range), where no client socket is
// ever bound implicitly: a port picked from inside that range and released can be taken by any
// connect() of any process (every test talks to NATS, Redis and PostgreSQL) before the server
// it was picked for binds it, which then fails to start (first > last when the range reaches
// the top).
std::pair<int, int> PortsAboveEphemeral() {
  int low = 32768, high = 60999;  // Linux's default, when /proc cannot tell
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  return {high + 1, 65535};
}

// A candidate: random above the ephemeral range, or the kernel's pick inside it when fewer than
// 1000 ports lie above (a tuned host).
int CandidatePort(int also_free_above) {
  static std::mt19937 random(std::random_device{}());
  static const auto [first, last] = PortsAboveEphemeral();
  if (last - also_free_above - first < 1000) return TryBind(SOCK_STREAM, 0);
  return std::uniform_int_distribution<int>(first, last - also_free_above)(random);
}

}  // namespace

int FreePort(int also_free_above) {
  // Ports handed out by this process stay reserved: a test picks several before starting anything.
  static std::mutex mu;
  static std::set<int> handed_out;
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = CandidatePort(also_free_above);
    const int neighbour = port + also_free_above;
    if (also_free_above != 0 && neighbour > 65535) continue;
    const bool free = handed_out.count(port) == 0 && handed_out.count(neighbour) == 0 &&
                      TryBind(SOCK_STREAM, port) == port && TryBind(SOCK_DGRAM, port) == port &&
                      (also_free_above == 0 || (TryBind(SOCK_STREAM, neighbour) == neighbour &&
                                                TryBind(SOCK_DGRAM, neighbour) == neighbour));
    if (!free) continue;
    handed_out.insert(port);
    handed_out.insert(neighbour);
    return port;
  }
  throw std::runtime_error("FreePort: no port free for both TCP and UDP after 200 attempts");
}

}  // namespace sb::testing
