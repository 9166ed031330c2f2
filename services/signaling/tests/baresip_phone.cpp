#include "baresip_phone.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "switchboard/testing/servers.h"

namespace sb::signaling::test {

namespace {

constexpr const char* kModules = "/usr/lib/baresip/modules";

std::filesystem::path MakeDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sb-baresip.XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

}  // namespace

BaresipPhone::BaresipPhone(const BaresipOptions& o)
    : dir_(MakeDir()), ctrl_port_(testing::FreePort()) {
  INFO("Debian's baresip package (scripts/install-deps installs it) is needed");
  REQUIRE(std::filesystem::exists(std::filesystem::path(kModules) / "ctrl_tcp.so"));
  {
    // baresip's SIP over TLS listens on the port above sip_listen's, and baresip exits when that
    // one is taken (seen in CI as a phone whose control port never opened).
    const int sip_port = testing::FreePort(1);
    std::ofstream config(dir_ / "config");
    config << "poll_method epoll\n"
           << "net_interface " << o.ip << "\n"
           << "sip_listen " << o.ip << ":" << sip_port << "\n"
           << "module_path " << kModules << "\n"
           << "module g711.so\nmodule ausine.so\nmodule aufile.so\n"
           // ausine produces 48 kHz only; without these two lines baresip fails the call when
           // it answers or is answered ("start_source failed: Operation not supported").
           << "audio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n"
           << "audio_player aufile,/dev/null\naudio_alert aufile,/dev/null\n"
           << "module_app account.so\nmodule_app menu.so\n"
           << "module_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:" << ctrl_port_ << "\n";
    std::ofstream accounts(dir_ / "accounts");
    accounts << "<sip:" << o.user << "@" << o.domain << ">;auth_pass=" << o.password
             << ";outbound=\"sip:" << o.outbound << ";transport=udp\";regint=300\n";
    std::ofstream(dir_ / "contacts").flush();
  }
  // The config folder becomes the process's (removed with it); its log lands there.
  process_.emplace(testing::ChildProcess::Start(
      {"baresip", "-f", dir_.string(), "-t", std::to_string(o.lifetime.count())}, {}, "baresip",
      dir_));
}

BaresipPhone::~BaresipPhone() {
  if (fd_ >= 0) ::close(fd_);
}

bool BaresipPhone::Connect() {
  if (fd_ >= 0) return true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline && process_->Running()) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(ctrl_port_));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
      fd_ = fd;
      return true;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::optional<BaresipPhone::Response> BaresipPhone::Command(const std::string& command,
                                                            const std::string& params) {
  if (!Connect()) return std::nullopt;
  const std::string token = "t" + std::to_string(++tokens_);
  const std::string body =
      nlohmann::json{{"command", command}, {"params", params}, {"token", token}}.dump();
  const std::string framed = std::to_string(body.size()) + ":" + body + ",";  // a netstring
  if (::send(fd_, framed.data(), framed.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(framed.size())) {
    return std::nullopt;
  }
  auto answer = Next(std::chrono::seconds(5), [&](const nlohmann::json& m) {
    return m.value("response", false) && m.value("token", "") == token;
  });
  if (!answer) return std::nullopt;
  return Response{answer->value("ok", false), answer->value("data", "")};
}

std::optional<nlohmann::json> BaresipPhone::WaitForEvent(const std::string& type,
                                                         std::chrono::milliseconds timeout) {
  if (!Connect()) return std::nullopt;
  return Next(timeout, [&](const nlohmann::json& m) {
    return m.value("event", false) && m.value("type", "") == type;
  });
}

std::string BaresipPhone::EventsSeen() const {
  std::string out;
  for (const auto& [m, taken] : seen_) {
    if (m.value("event", false)) out += m.value("type", "") + " ";
  }
  return out;
}

template <typename Pred>
std::optional<nlohmann::json> BaresipPhone::Next(std::chrono::milliseconds timeout, Pred wanted) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto& [m, taken] : seen_) {
      if (!taken && wanted(m)) {
        taken = true;
        return m;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;  // baresip went away
    buffer_.append(buf, static_cast<size_t>(n));
    Frame();
  }
}

// Netstrings ("<length>:<json>,") out of the stream buffer.
void BaresipPhone::Frame() {
  for (;;) {
    auto colon = buffer_.find(':');
    if (colon == std::string::npos) return;
    const size_t length = std::stoul(buffer_.substr(0, colon));
    if (buffer_.size() < colon + 1 + length + 1) return;
    auto parsed = nlohmann::json::parse(buffer_.substr(colon + 1, length), nullptr, false);
    if (!parsed.is_discarded()) seen_.emplace_back(std::move(parsed), false);
    buffer_.erase(0, colon + 1 + length + 1);
  }
}

}  // namespace sb::signaling::test
