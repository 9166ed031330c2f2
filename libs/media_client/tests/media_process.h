// Test helpers for callers of media nodes: a phone's RTP socket that makes SDP offers, and the
// real sb-media executable (SB_MEDIA_BIN) started as a child process with its own node id, port
// range and recordings folder, killed when the test ends however it ends. Used by the tests of
// libs/media_client, services/media (the binary itself) and services/signaling.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include "switchboard/testing/child_process.h"
#include "switchboard/testing/servers.h"
#include "switchboard/testing/udp_socket.h"

namespace sb::media_client::test {

// A phone's RTP socket on 127.0.0.1, so that its offer names a port that is really there.
class Phone : public testing::UdpSocket {
 public:
  std::string Offer(const std::string& payload_types) const {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(port()) + " RTP/AVP " + payload_types + "\r\na=rtcp-mux\r\n";
  }
};

struct MediaProcessOptions {
  // The node's RTP port range; 0: a random range of 200 ports in 30000-32599, so that parallel
  // tests rarely meet (when they do, the node moves on to the next bindable pair).
  int port_min = 0;
  int port_max = 0;
};

// One sb-media process with its settings from the environment, as a deployment starts it.
class MediaProcess {
 public:
  explicit MediaProcess(const std::string& nats_url, MediaProcessOptions options = {})
      : node_id_(testing::UniqueName("media")), process_(Start(nats_url, node_id_, options)) {}

  const std::string& node_id() const { return node_id_; }
  std::string ReadLog() const { return process_.ReadLog(); }

  // SIGTERM, then the exit status once it has drained and exited (-1 when it had to be killed).
  int Terminate() {
    SignalTerm();
    return process_.WaitExit(std::chrono::seconds(10));
  }
  void SignalTerm() { process_.Signal(SIGTERM); }
  // SIGSTOP / SIGCONT: a node that hears nothing for a while, then catches up.
  void Pause() { process_.Signal(SIGSTOP); }
  void Resume() { process_.Signal(SIGCONT); }

 private:
  static testing::ChildProcess Start(const std::string& nats_url, const std::string& node_id,
                                     MediaProcessOptions options) {
    if (options.port_min == 0) {
      std::mt19937 random(std::random_device{}());
      options.port_min = 30000 + 2 * static_cast<int>(random() % 1200);
      options.port_max = options.port_min + 199;
    }
    // The recordings go into the process's own directory, removed with it.
    const auto dir = std::filesystem::temp_directory_path() / node_id;
    std::filesystem::create_directories(dir);
    return testing::ChildProcess::Start({SB_MEDIA_BIN},
                                        {{"SB_NATS_URL", nats_url},
                                         {"SB_HTTP_PORT", std::to_string(testing::FreePort())},
                                         {"SB_MEDIA_NODE_ID", node_id},
                                         {"SB_MEDIA_BIND_ADDR", "127.0.0.1"},
                                         {"SB_MEDIA_ADVERTISED_ADDR", "127.0.0.1"},
                                         {"SB_MEDIA_PORT_MIN", std::to_string(options.port_min)},
                                         {"SB_MEDIA_PORT_MAX", std::to_string(options.port_max)},
                                         {"SB_MEDIA_RECORDINGS_DIR", dir.string()},
                                         {"SB_MEDIA_LOAD_INTERVAL_MS", "200"},
                                         {"SB_MEDIA_DRAIN_SECONDS", "1"}},
                                        "sb-media", dir);
  }

  std::string node_id_;
  testing::ChildProcess process_;
};

}  // namespace sb::media_client::test
