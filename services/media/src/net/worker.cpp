#include "net/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sb::media {
namespace {

constexpr int kMaxEvents = 64;
// Ticks caught up at most after the loop was held up; beyond that the lost time is dropped.
constexpr uint64_t kMaxCatchUp = 5;

}  // namespace

MediaWorker::MediaWorker(int index, const core::Clock& clock, EventSink& events,
                         core::MetricsRegistry& metrics, EngineOptions options)
    : index_(index),
      engine_(clock, *this, events, metrics, std::move(options)),
      ticks_late_(metrics.Counter("sb_media_ticks_late_total",
                                  "20 ms ticks a worker ran late (missed timer expirations)")) {
  for (int i = 0; i < kBatch; ++i) {
    rx_iov_[i] = {rx_[i].data(), rx_[i].size()};
    rx_msgs_[i].msg_hdr.msg_name = &rx_from_[i];
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

MediaWorker::~MediaWorker() {
  Stop();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (timer_fd_ >= 0) ::close(timer_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status MediaWorker::Start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0 || wake_fd_ < 0) {
    return Status::Internal(std::string("event loop set-up: ") + std::strerror(errno));
  }
  itimerspec spec{};
  spec.it_interval.tv_nsec = kFrameMs * 1000000L;
  spec.it_value.tv_nsec = kFrameMs * 1000000L;
  ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
  SB_RETURN_IF_ERROR(Watch(timer_fd_));
  SB_RETURN_IF_ERROR(Watch(wake_fd_));
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void MediaWorker::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

Status MediaWorker::Watch(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Status::Internal(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  return Status::Ok();
}

void MediaWorker::Unwatch(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void MediaWorker::Send(int socket, const Endpoint& to, std::span<const uint8_t> datagram) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port);
  sa.sin_addr.s_addr = htonl(to.ip);
  (void)::sendto(socket, datagram.data(), datagram.size(), MSG_DONTWAIT,
                 reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
}

void MediaWorker::Drain(int fd) {
  std::lock_guard lock(mu_);
  // At most kBatch datagrams per socket and wakeup: one busy leg cannot starve the rest (the
  // socket stays readable and epoll reports it again).
  // The kernel shortens msg_namelen to what it wrote; the rest was set up in the constructor.
  for (auto& m : rx_msgs_) m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
  const int n = ::recvmmsg(fd, rx_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
  // n < 0: EAGAIN, or an ICMP error queued on the socket: nothing to read.
  for (int i = 0; i < n; ++i) {
    const sockaddr_in& from = rx_from_[i];
    engine_.OnDatagram(fd, {ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)},
                       std::span(rx_[i].data(), rx_msgs_[i].msg_len));
  }
}

void MediaWorker::Run() {
  std::array<epoll_event, kMaxEvents> events;
  while (!stop_) {
    int n = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v;
        (void)::read(wake_fd_, &v, sizeof(v));
      } else if (fd == timer_fd_) {
        uint64_t expirations = 0;
        if (::read(timer_fd_, &expirations, sizeof(expirations)) != sizeof(expirations)) continue;
        if (expirations > 1) ticks_late_.Inc(static_cast<double>(expirations - 1));
        std::lock_guard lock(mu_);
        for (uint64_t t = 0; t < std::min(expirations, kMaxCatchUp); ++t) engine_.Tick();
      } else {
        Drain(fd);
      }
    }
  }
}

}  // namespace sb::media
