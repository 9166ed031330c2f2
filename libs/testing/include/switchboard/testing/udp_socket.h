// A UDP socket on a loopback address, for tests that play a phone's SIP or RTP port against a
// real server: the kernel picks the port unless one is asked for.
//
//   sb::testing::UdpSocket phone;                       // 127.0.0.1, any free port
//   phone.SendTo(node_port, datagram);
//   if (auto got = phone.Receive(std::chrono::milliseconds(500))) use(got->data, got->port);
//
// Throws std::runtime_error when the socket cannot be opened or bound (a test cannot go on).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sb::testing {

class UdpSocket {
 public:
  explicit UdpSocket(const std::string& ip = "127.0.0.1", uint16_t port = 0);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }

  // True when the whole datagram was handed to the kernel.
  bool SendTo(uint16_t port, std::span<const uint8_t> data,
              const std::string& ip = "127.0.0.1") const;
  bool SendTo(uint16_t port, std::string_view text, const std::string& ip = "127.0.0.1") const;

  struct Datagram {
    std::vector<uint8_t> data;
    std::string ip;
    uint16_t port = 0;
    std::string_view text() const {
      return {reinterpret_cast<const char*>(data.data()), data.size()};
    }
  };
  // The next datagram, or nothing when none came within `timeout`.
  std::optional<Datagram> Receive(std::chrono::milliseconds timeout) const;

 private:
  int fd_ = -1;
  std::string ip_;
  uint16_t port_ = 0;
};

}  // namespace sb::testing
