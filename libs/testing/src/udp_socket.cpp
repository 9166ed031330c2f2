#include "switchboard/testing/udp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sb::testing {
namespace {

sockaddr_in Address(const std::string& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1) {
    throw std::runtime_error("UdpSocket: not an IPv4 address: " + ip);
  }
  return sa;
}

}  // namespace

UdpSocket::UdpSocket(const std::string& ip, uint16_t port) : ip_(ip) {
  sockaddr_in sa = Address(ip, port);
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("UdpSocket: socket: ") + std::strerror(errno));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::runtime_error("UdpSocket: bind " + ip + ":" + std::to_string(port) + ": " +
                             std::strerror(err));
  }
  socklen_t len = sizeof(sa);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
}

UdpSocket::~UdpSocket() { ::close(fd_); }

bool UdpSocket::SendTo(uint16_t port, std::span<const uint8_t> data, const std::string& ip) const {
  const sockaddr_in to = Address(ip, port);
  return ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof(to)) == static_cast<ssize_t>(data.size());
}

bool UdpSocket::SendTo(uint16_t port, std::string_view text, const std::string& ip) const {
  return SendTo(port, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), ip);
}

std::optional<UdpSocket::Datagram> UdpSocket::Receive(std::chrono::milliseconds timeout) const {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  std::array<uint8_t, 65536> buf;
  sockaddr_in from{};
  socklen_t len = sizeof(from);
  const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return std::nullopt;
  Datagram out;
  out.data.assign(buf.begin(), buf.begin() + n);
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
  out.ip = ip;
  out.port = ntohs(from.sin_port);
  return out;
}

}  // namespace sb::testing
