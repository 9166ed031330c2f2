#include "switchboard/testing/kamailio.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "internal/process.h"

extern char** environ;

namespace sb::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr auto kPoll = milliseconds(10);
constexpr auto kKamailioStart = std::chrono::seconds(20);
constexpr int kPortAttempts = 5;

std::string Resolve(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  // Kamailio lives in /usr/sbin, which a non-login PATH may lack.
  dirs += ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  throw std::runtime_error(name + ": not found in PATH (is its Debian package installed? see " +
                           "scripts/install-deps)");
}

std::string ReplaceDir(std::string text, const fs::path& dir) {
  const std::string marker = "@DIR@";
  for (size_t at = text.find(marker); at != std::string::npos;
       at = text.find(marker, at + dir.string().size())) {
    text.replace(at, marker.size(), dir.string());
  }
  return text;
}

bool Bindable(int type, const std::string& ip, int port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

bool Connects(const std::string& ip, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

struct ChildProcess::Impl {
  pid_t pid = -1;
  bool reaped = false;
  int exit_code = -1;
  std::string name;
  fs::path dir;
  fs::path log;

  // Reaps without blocking; true once the process is gone.
  bool Poll() {
    if (reaped) return true;
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      reaped = true;
      exit_code = r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return reaped;
  }
  // Also what a move-assignment runs for the process it replaces.
  ~Impl() {
    KillGroup();
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  void KillGroup() {
    if (pid <= 0) return;  // never started: kill(-(-1)) would signal everything
    // The group outlives its leader when the leader died first (Kamailio's children).
    kill(-pid, SIGKILL);
    if (!reaped) {
      int status = 0;
      if (waitpid(pid, &status, 0) == pid) {
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      reaped = true;
    }
  }
};

ChildProcess ChildProcess::Start(const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env,
                                 const std::string& name, const fs::path& dir) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess::Start: empty argv");
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->dir = dir.empty() ? internal::MakeTempDir(name) : dir;
  impl->log = impl->dir / (name + ".log");

  // Everything the child needs is built before fork: allocating after it is not safe in a
  // threaded parent.
  const std::string exe = Resolve(argv[0]);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [key, value] : env) {
      if (entry.starts_with(key + "=")) overridden = true;
    }
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (auto& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);
  const std::string log_path = impl->log.string();
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(name + ": fork failed: " + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execve(exe.c_str(), c_argv.data(), c_env.data());
    _exit(127);
  }
  // Also from the parent, so a signal to the group cannot race the child's own setpgid.
  setpgid(pid, pid);
  impl->pid = pid;
  return ChildProcess(std::move(impl));
}

ChildProcess::ChildProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChildProcess::ChildProcess(ChildProcess&&) noexcept = default;
ChildProcess& ChildProcess::operator=(ChildProcess&&) noexcept = default;

ChildProcess::~ChildProcess() = default;

pid_t ChildProcess::pid() const { return impl_->pid; }
const fs::path& ChildProcess::dir() const { return impl_->dir; }
const fs::path& ChildProcess::log() const { return impl_->log; }

std::string ChildProcess::ReadLog() const {
  std::ifstream in(impl_->log);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ChildProcess::Running() const { return !impl_->Poll(); }

void ChildProcess::Signal(int sig) const {
  if (!impl_->Poll()) kill(impl_->pid, sig);
}

int ChildProcess::WaitExit(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->Poll() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPoll);
  }
  if (!impl_->reaped) {
    impl_->KillGroup();
    return -1;
  }
  // Whatever the leader left behind goes with it.
  kill(-impl_->pid, SIGKILL);
  return impl_->exit_code;
}

void ChildProcess::Stop(milliseconds grace) {
  Signal(SIGTERM);
  WaitExit(grace);
}

void ChildProcess::Kill() { impl_->KillGroup(); }

int FreeSipPort(const std::string& ip) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    close(fd);
    if (port != 0 && Bindable(SOCK_STREAM, ip, port)) return port;
  }
  throw std::runtime_error("FreeSipPort: no port free for both UDP and TCP on " + ip);
}

Kamailio::Kamailio(ChildProcess process, std::string ip, int port)
    : process_(std::move(process)), ip_(std::move(ip)), port_(port) {}
Kamailio::Kamailio(Kamailio&&) noexcept = default;
Kamailio& Kamailio::operator=(Kamailio&&) noexcept = default;
Kamailio::~Kamailio() = default;

Kamailio Kamailio::Start(const KamailioOptions& options) {
  const fs::path config = fs::absolute(options.config);
  if (!fs::exists(config)) {
    throw std::runtime_error("kamailio did not start: no config " + config.string());
  }
  std::string last_error;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const int port = FreeSipPort(options.listen_ip);
    const std::string listen = options.listen_ip + ":" + std::to_string(port);
    fs::path dir = internal::MakeTempDir("kamailio");
    std::vector<std::string> args = {"kamailio",
                                     "-DD",
                                     "-E",
                                     "-f",
                                     config.string(),
                                     "-Y",
                                     dir.string(),
                                     "-l",
                                     "udp:" + listen,
                                     "-l",
                                     "tcp:" + listen,
                                     "-m",
                                     std::to_string(options.shared_memory_mb),
                                     "-M",
                                     std::to_string(options.private_memory_mb)};
    for (const auto& [name, content] : options.files) {
      std::ofstream(dir / name) << ReplaceDir(content, dir);
    }
    for (const auto& [name, value] : options.string_defines) {
      args.push_back("-A");
      args.push_back(name + "=\"" + ReplaceDir(value, dir) + "\"");
    }
    for (const auto& [name, value] : options.defines) {
      args.push_back("-A");
      args.push_back(name + "=" + ReplaceDir(value, dir));
    }
    // Kamailio writes its runtime files into -Y, next to its log and the files above.
    ChildProcess process = ChildProcess::Start(args, {}, "kamailio", dir);
    const auto deadline = std::chrono::steady_clock::now() + kKamailioStart;
    while (process.Running() && !Connects(options.listen_ip, port) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(kPoll);
    }
    if (process.Running() && Connects(options.listen_ip, port)) {
      return Kamailio(std::move(process), options.listen_ip, port);
    }
    std::string log = process.ReadLog();
    process.Kill();
    last_error = log.size() > 3000 ? log.substr(log.size() - 3000) : log;
    // Only a lost race for the port is worth another attempt.
    if (log.find("Address already in use") == std::string::npos) break;
  }
  throw std::runtime_error("kamailio did not start; last lines of its log:\n" + last_error);
}

int Kamailio::port() const { return port_; }
const std::string& Kamailio::ip() const { return ip_; }
std::string Kamailio::address() const { return ip_ + ":" + std::to_string(port_); }
const fs::path& Kamailio::dir() const { return process_.dir(); }
std::string Kamailio::ReadLog() const { return process_.ReadLog(); }
void Kamailio::Stop() { process_.Stop(std::chrono::seconds(5)); }

}  // namespace sb::testing
