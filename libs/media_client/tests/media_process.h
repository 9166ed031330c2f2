// Test helpers for callers of media nodes: a phone's RTP socket that makes SDP offers, and the
// real sb-media executable started as a child process (SB_MEDIA_BIN) with its own node id, port
// range and folder, killed when the test ends however it ends. Used by libs/media_client's and
// services/signaling's tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "switchboard/testing/servers.h"

namespace sb::media_client::test {

// A phone's RTP socket on 127.0.0.1, so that its offer names a port that is really there.
class Phone {
 public:
  Phone() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
    socklen_t len = sizeof(sa);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port_ = ntohs(sa.sin_port);
  }
  ~Phone() { ::close(fd_); }
  Phone(const Phone&) = delete;
  Phone& operator=(const Phone&) = delete;

  std::string Offer(const std::string& payload_types) const {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(port_) + " RTP/AVP " + payload_types + "\r\na=rtcp-mux\r\n";
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Waits for the child's exit within the timeout (pidfd + poll: no sleeping); its exit status,
// or -1 after SIGKILL when it did not exit in time.
inline int WaitExit(pid_t pid, int timeout_ms) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, timeout_ms);
    ::close(pidfd);
  }
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// One sb-media process with its own node id, port range and recordings folder; killed when the
// test ends however it ends.
class MediaProcess {
 public:
  explicit MediaProcess(const std::string& nats_url)
      : node_id_(testing::UniqueName("media")),
        dir_(std::filesystem::temp_directory_path() / node_id_) {
    std::filesystem::create_directories(dir_);
    // A range of its own (100 port pairs) so that parallel tests rarely meet; when they do, the
    // node moves on to the next bindable pair.
    std::mt19937 random(std::random_device{}());
    const int base = 30000 + 2 * static_cast<int>(random() % 1200);
    const std::string http_port = std::to_string(testing::FreePort());
    const std::string log = (dir_ / "sb-media.log").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setenv("SB_NATS_URL", nats_url.c_str(), 1);
      ::setenv("SB_HTTP_PORT", http_port.c_str(), 1);
      ::setenv("SB_MEDIA_NODE_ID", node_id_.c_str(), 1);
      ::setenv("SB_MEDIA_BIND_ADDR", "127.0.0.1", 1);
      ::setenv("SB_MEDIA_ADVERTISED_ADDR", "127.0.0.1", 1);
      ::setenv("SB_MEDIA_PORT_MIN", std::to_string(base).c_str(), 1);
      ::setenv("SB_MEDIA_PORT_MAX", std::to_string(base + 199).c_str(), 1);
      ::setenv("SB_MEDIA_RECORDINGS_DIR", dir_.c_str(), 1);
      ::setenv("SB_MEDIA_LOAD_INTERVAL_MS", "200", 1);
      ::setenv("SB_MEDIA_DRAIN_SECONDS", "1", 1);
      if (FILE* out = std::freopen(log.c_str(), "w", stdout)) (void)out;
      ::execl(SB_MEDIA_BIN, "sb-media", nullptr);
      ::_exit(127);
    }
  }
  ~MediaProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& node_id() const { return node_id_; }

  // SIGTERM, then the exit status once it has drained and exited (-1 when it had to be killed).
  int Terminate() {
    if (!terminating_) SignalTerm();
    int status = WaitExit(pid_, 10000);
    pid_ = -1;
    return status;
  }
  void SignalTerm() {
    REQUIRE(::kill(pid_, SIGTERM) == 0);
    terminating_ = true;
  }

 private:
  std::string node_id_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  bool terminating_ = false;
};

}  // namespace sb::media_client::test
