#include "udp_relay.h"

#include <poll.h>

namespace sb::signaling::test {

using namespace std::chrono_literals;

UdpRelay::UdpRelay(uint16_t server_port, std::vector<Rule> drop_once)
    : server_port_(server_port), rules_(std::move(drop_once)), loop_([this] { Run(); }) {}

UdpRelay::~UdpRelay() {
  stop_ = true;
  loop_.join();
}

std::vector<std::string> UdpRelay::Dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::vector<std::string> UdpRelay::ToPhone() const {
  std::lock_guard lock(mu_);
  return to_phone_;
}

bool UdpRelay::Drop(Direction direction, std::string_view datagram) {
  std::lock_guard lock(mu_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (!(*it)(direction, datagram)) continue;
    rules_.erase(it);
    dropped_.emplace_back(datagram.substr(0, datagram.find("\r\n")));
    return true;
  }
  return false;
}

void UdpRelay::Run() {
  while (!stop_) {
    pollfd fds[2] = {{phone_side_.fd(), POLLIN, 0}, {server_side_.fd(), POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (auto d = phone_side_.Receive(0ms)) {
        phone_ip_ = d->ip;
        phone_port_ = d->port;
        if (!Drop(Direction::kToServer, d->text())) server_side_.SendTo(server_port_, d->text());
      }
    }
    if (fds[1].revents & POLLIN) {
      if (auto d = server_side_.Receive(0ms); d && phone_port_ != 0) {
        if (!Drop(Direction::kToPhone, d->text())) {
          phone_side_.SendTo(phone_port_, d->text(), phone_ip_);
          std::lock_guard lock(mu_);
          to_phone_.emplace_back(d->text());
        }
      }
    }
  }
}

}  // namespace sb::signaling::test
