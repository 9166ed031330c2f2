#include "switchboard/testing/kamailio.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "internal/process.h"

namespace sb::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr auto kPoll = milliseconds(10);
constexpr auto kKamailioStart = std::chrono::seconds(20);
constexpr int kPortAttempts = 5;

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

std::string DispatcherList(const std::vector<std::string>& replica_uris) {
  std::string list;
  for (const auto& uri : replica_uris) list += "1 " + uri + "\n";
  return list;
}

}  // namespace

KamailioOptions BalancerOptions(fs::path config, const std::vector<std::string>& replica_uris) {
  KamailioOptions options;
  options.config = std::move(config);
  options.files = {{"dispatcher.list", DispatcherList(replica_uris)}};
  options.string_defines = {{"SB_LB_LIST_FILE", "@DIR@/dispatcher.list"},
                            {"SB_LB_CTL_SOCKET", "unix:@DIR@/ctl"}};
  options.defines = {{"SB_LB_PING_INTERVAL", "1"}, {"SB_LB_CHILDREN", "2"}};
  return options;
}

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

void ReloadBalancer(const Kamailio& balancer, const std::vector<std::string>& replica_uris) {
  std::ofstream(balancer.dir() / "dispatcher.list") << DispatcherList(replica_uris);
  const std::string command =
      "kamcmd -s unix:" + (balancer.dir() / "ctl").string() + " dispatcher.reload > /dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("kamcmd dispatcher.reload failed: " + command);
  }
}

}  // namespace sb::testing
