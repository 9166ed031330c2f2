// A lossy path for the tests: a UDP relay between one phone and sb-signaling that drops chosen
// datagrams, and that can be turned to another replica (as a balancer fails over). The phone sends
// to port(); the relay forwards from its own socket to the server (which therefore sees the relay
// as the phone: its REGISTER binds the relay's address, and requests to the phone come back through
// it) and sends what the server answers to the phone.
//
//   UdpRelay relay(sip_port, [](UdpRelay::Direction d, std::string_view m) {
//     return d == UdpRelay::Direction::kToPhone && m.starts_with("INVITE ");
//   });  // the first INVITE to the phone is lost; later ones pass
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "switchboard/testing/udp_socket.h"

namespace sb::signaling::test {

class UdpRelay {
 public:
  enum class Direction { kToServer, kToPhone };
  // True for the datagrams to lose; each rule drops the FIRST datagram it matches, once.
  using Rule = std::function<bool(Direction, std::string_view)>;

  UdpRelay(uint16_t server_port, std::vector<Rule> drop_once);
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  uint16_t port() const { return phone_side_.port(); }
  // The datagrams dropped so far (first lines), in order.
  std::vector<std::string> Dropped() const;
  // The datagrams passed on to the phone so far, whole, in order.
  std::vector<std::string> ToPhone() const;
  // What the phone sends from now on goes to `server_port` (another replica).
  void Retarget(uint16_t server_port) { server_port_ = server_port; }

 private:
  void Run();
  bool Drop(Direction direction, std::string_view datagram);

  std::atomic<uint16_t> server_port_;
  testing::UdpSocket phone_side_;
  testing::UdpSocket server_side_;
  uint16_t phone_port_ = 0;  // learned from the phone's first datagram (the loop thread only)
  std::string phone_ip_;
  mutable std::mutex mu_;
  std::vector<Rule> rules_;  // a rule is removed once it has dropped its datagram
  std::vector<std::string> dropped_;
  std::vector<std::string> to_phone_;
  std::atomic<bool> stop_{false};
  std::thread loop_;
};

}  // namespace sb::signaling::test
