#include "internal/launch.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "internal/process.h"
#include "switchboard/testing/servers.h"

namespace sb::testing::internal {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kStartTimeout = seconds(30);
constexpr auto kStopGrace = seconds(10);
// A port picked by FreePort() can be taken by someone else before the server binds it.
constexpr int kPortAttempts = 5;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

[[noreturn]] void Fail(const std::string& server, const std::string& why, const fs::path& log) {
  throw std::runtime_error(server + " did not start: " + why + "\nlast lines of " + log.string() +
                           ":\n" + Tail(log));
}

std::string PostgresBinDir() {
  // Newest installed major version; Debian keeps them side by side.
  fs::path best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "postgres") && (best.empty() || bin > best)) best = bin;
  }
  if (best.empty()) {
    throw std::runtime_error(
        "postgres did not start: no /usr/lib/postgresql/*/bin/postgres (install the postgresql "
        "package, see scripts/install-deps)");
  }
  return best.string();
}

// The port of the client URL in a ports file, {"nats":["nats://127.0.0.1:42667"],...}; 0 while
// the file is missing or incomplete.
int ClientPort(const std::string& ports) {
  size_t start = ports.find("\"nats://");
  if (start == std::string::npos) return 0;
  size_t end = ports.find('"', start + 1);
  if (end == std::string::npos) return 0;
  size_t colon = ports.rfind(':', end);
  int port = 0;
  for (size_t i = colon + 1; i < end; ++i) {
    if (ports[i] < '0' || ports[i] > '9' || port > 65535) return 0;
    port = port * 10 + (ports[i] - '0');
  }
  return port > 0 && port <= 65535 ? port : 0;
}

bool RedisAnswersPing(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      write(fd, "PING\r\n", 6) == 6) {
    char buf[16] = {};
    ok = read(fd, buf, sizeof buf - 1) >= 5 && std::string_view(buf).starts_with("+PONG");
  }
  close(fd);
  return ok;
}

}  // namespace

std::string NatsUrl(int port) { return "nats://127.0.0.1:" + std::to_string(port); }
std::string RedisUrl(int port) { return "redis://127.0.0.1:" + std::to_string(port); }
std::string PostgresDsn(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres";
}

Launched LaunchNats(const fs::path& dir, int port, bool detach) {
  const fs::path conf = dir / "nats.conf";
  const fs::path log = dir / "nats.log";
  if (!fs::exists(conf)) {
    // The defaults would let JetStream claim 75% of RAM and most of the disk of a shared machine.
    std::ofstream(conf) << "jetstream {\n  store_dir: \"" << (dir / "store").string()
                        << "\"\n  max_mem: 256M\n  max_file: 1G\n}\n";
  }
  // The log keeps earlier runs (Restart); readiness is judged on what this run appends.
  std::error_code ec;
  const auto log_offset = fs::exists(log) ? fs::file_size(log, ec) : 0;
  SpawnOptions opts;
  opts.argv = {"nats-server",
               "-c",
               conf.string(),
               "-a",
               "127.0.0.1",
               "-p",
               port == 0 ? "-1" : std::to_string(port),
               "-js",
               "--ports_file_dir",
               dir.string()};
  opts.log = log;
  opts.detach = detach;
  pid_t pid = Spawn(opts);
  const fs::path ports_file = dir / ("nats-server_" + std::to_string(pid) + ".ports");
  int bound_port = 0;
  // The ports file appears before it is completely written: ready once it holds a client URL.
  bool ready = WaitUntil(pid, kStartTimeout, [&] {
    const int port_in_file = ClientPort(ReadFile(ports_file));
    if (port_in_file == 0) return false;
    std::string text = ReadFile(log);
    if (text.size() <= log_offset ||
        text.find("Server is ready", log_offset) == std::string::npos) {
      return false;
    }
    bound_port = port_in_file;
    return true;
  });
  if (!ready) {
    bool alive = Alive(pid);
    StopNats(pid);
    Fail("nats-server", alive ? "not ready after 30 s" : "exited during start-up", log);
  }
  return {pid, bound_port};
}

void StopNats(pid_t pid) { Terminate(pid, SIGTERM, kStopGrace); }

Launched LaunchRedis(const fs::path& dir, int port, bool detach) {
  const fs::path log = dir / "redis.log";
  std::string last_error;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const int p = port != 0 ? port : FreePort();
    SpawnOptions opts;
    // Absolute --dir and --logfile: redis changes into --dir before it opens the log.
    opts.argv = {"redis-server",
                 "--bind",
                 "127.0.0.1",
                 "--port",
                 std::to_string(p),
                 "--save",
                 "",
                 "--appendonly",
                 "no",
                 "--daemonize",
                 "no",
                 "--dir",
                 fs::absolute(dir).string(),
                 "--logfile",
                 fs::absolute(log).string()};
    opts.log = log;
    opts.detach = detach;
    pid_t pid = Spawn(opts);
    if (WaitUntil(pid, kStartTimeout, [p] { return RedisAnswersPing(p); })) return {pid, p};
    last_error = Alive(pid) ? "no PONG after 30 s on port " + std::to_string(p)
                            : "exited during start-up on port " + std::to_string(p);
    StopRedis(pid);
    if (port != 0) break;  // a fixed port (Restart) is not ours to change
  }
  Fail("redis-server", last_error, log);
}

void StopRedis(pid_t pid) { Terminate(pid, SIGTERM, kStopGrace); }

Launched LaunchPostgres(const fs::path& dir, bool detach) {
  const std::string bin = PostgresBinDir();
  const fs::path data = dir / "data";
  const fs::path log = dir / "pg.log";
  passwd* pw = getpwnam("postgres");
  if (!pw) throw std::runtime_error("postgres did not start: no postgres user on this machine");
  // PostgreSQL refuses to run as root; its user must own the data dir and traverse its parent.
  if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    Fail("postgres", "cannot chown " + dir.string() + " to postgres", log);
  }
  if (!fs::exists(data / "PG_VERSION")) {
    SpawnOptions init;
    init.argv = {bin + "/initdb",
                 "-D",
                 data.string(),
                 "-U",
                 "postgres",
                 "--auth=trust",
                 "-E",
                 "UTF8",
                 "--locale=C.UTF-8",
                 "--no-sync",
                 "--no-instructions"};
    init.log = log;
    init.user = "postgres";
    int code = WaitExit(Spawn(init), std::chrono::minutes(2));
    if (code != 0) Fail("postgres", "initdb exited with " + std::to_string(code), log);
  }
  std::string last_error;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const int port = FreePort();
    SpawnOptions opts;
    // Durability settings off: test data is thrown away, and fsync dominates on a shared disk.
    opts.argv = {bin + "/postgres",
                 "-D",
                 data.string(),
                 "-p",
                 std::to_string(port),
                 "-k",
                 dir.string(),
                 "-c",
                 "listen_addresses=127.0.0.1",
                 "-c",
                 "max_connections=300",
                 "-c",
                 "fsync=off",
                 "-c",
                 "synchronous_commit=off",
                 "-c",
                 "full_page_writes=off"};
    opts.log = log;
    opts.user = "postgres";
    opts.detach = detach;
    pid_t pid = Spawn(opts);
    const std::string ping = PostgresDsn(port) + " connect_timeout=2";
    if (WaitUntil(pid, kStartTimeout, [&] { return PQping(ping.c_str()) == PQPING_OK; })) {
      return {pid, port};
    }
    last_error = Alive(pid) ? "not accepting connections after 30 s on port " + std::to_string(port)
                            : "exited during start-up on port " + std::to_string(port);
    StopPostgres(pid);
  }
  Fail("postgres", last_error, log);
}

void StopPostgres(pid_t pid) { Terminate(pid, SIGINT, kStopGrace); }

}  // namespace sb::testing::internal
