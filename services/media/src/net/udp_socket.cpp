#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sb::media {

Result<uint32_t> ParseIpv4(const std::string& address) {
  in_addr addr{};
  if (inet_pton(AF_INET, address.c_str(), &addr) != 1) {
    return Status::InvalidArgument("'" + address + "' is not an IPv4 address");
  }
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  in_addr addr{htonl(ip)};
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr, text, sizeof(text));
  return text;
}

Result<std::unique_ptr<UdpSocket>> UdpSocket::Bind(const std::string& address, uint16_t port) {
  auto ip = ParseIpv4(address);
  if (!ip.ok()) return ip.status();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(*ip);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    int err = errno;
    ::close(fd);
    return Status::Unavailable("bind " + address + ":" + std::to_string(port) + ": " +
                               std::strerror(err));
  }
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return std::unique_ptr<UdpSocket>(new UdpSocket(fd, ntohs(sa.sin_port)));
}

UdpSocket::~UdpSocket() { ::close(fd_); }

void UdpSocket::SendTo(const Endpoint& to, std::span<const uint8_t> datagram) const {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port);
  sa.sin_addr.s_addr = htonl(to.ip);
  (void)::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                 reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
}

}  // namespace sb::media
