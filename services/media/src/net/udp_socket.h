// UdpSocket: a non-blocking IPv4 UDP socket bound to one address and port, owned (closed on
// destruction). The media node's only kind of socket.
//
//   auto s = UdpSocket::Bind("127.0.0.1", 30000);
//   if (!s.ok()) return s.status();     // UNAVAILABLE when the port is taken
//   (*s)->SendTo({ip, port}, bytes);
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "session/types.h"
#include "switchboard/core/status.h"

namespace sb::media {

class UdpSocket {
 public:
  static Result<std::unique_ptr<UdpSocket>> Bind(const std::string& address, uint16_t port);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  uint16_t port() const { return port_; }
  // Best effort, like UDP itself: a full socket buffer drops the datagram (counted by the kernel).
  void SendTo(const Endpoint& to, std::span<const uint8_t> datagram) const;

 private:
  UdpSocket(int fd, uint16_t port) : fd_(fd), port_(port) {}
  int fd_;
  uint16_t port_;
};

// "127.0.0.1" -> host-order address; INVALID_ARGUMENT for anything that is not dotted IPv4.
Result<uint32_t> ParseIpv4(const std::string& address);
std::string FormatIpv4(uint32_t ip);

}  // namespace sb::media
