#include "runtime/loop_redis.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace sb::signaling {

LoopRedis::LoopRedis(FdWatcher& loop, redis::ClientOptions options, const core::Clock& clock)
    : loop_(loop),
      clock_(clock),
      connection_(std::move(options), clock),
      timer_fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {}

LoopRedis::~LoopRedis() {
  if (timer_fd_ >= 0) close(timer_fd_);
}

void LoopRedis::Send(std::vector<redis::Command> commands, redis::LoopConnection::Callback done) {
  if (detached_) {
    return done(Status::Unavailable("redis: the SIP loop's connection is closed (draining)"));
  }
  connection_.Send(std::move(commands), std::move(done));
  Sync();
}

void LoopRedis::Detach() {
  if (timer_watched_) loop_.Unwatch(timer_fd_);
  timer_watched_ = false;
  if (watched_fd_ >= 0) loop_.Unwatch(watched_fd_);
  watched_fd_ = -1;
  detached_ = true;
  connection_.Close();
}

void LoopRedis::Sync() {
  if (detached_) return;
  ArmTimer();
  const int fd = connection_.fd();
  // Room to write is watched for only while connecting or after a write could not finish;
  // otherwise the output goes at the end of the loop's batch (WriteBeforeWaiting).
  if (!connection_.wants_write()) write_blocked_ = false;
  const bool want_write = connection_.connecting() || write_blocked_;
  if (fd != watched_fd_ || connection_.generation() != watched_generation_) {
    if (watched_fd_ >= 0) loop_.Unwatch(watched_fd_);
    watched_fd_ = -1;
    if (fd < 0) return;
    Status watched = loop_.Watch(fd, want_write, [this](bool readable, bool writable) {
      if (writable) {
        const bool was_connecting = connection_.connecting();
        connection_.OnWritable();
        // Still output after a write (not after the connect completing): the socket is full.
        write_blocked_ = !was_connecting && connection_.wants_write();
      }
      if (readable) connection_.OnReadable();
      Sync();
    });
    if (!watched.ok()) {
      connection_.Close();  // nobody would tell it its replies: fail what waits
      return;
    }
    watched_fd_ = fd;
    watched_generation_ = connection_.generation();
    watching_write_ = want_write;
  } else if (fd >= 0 && want_write != watching_write_) {
    loop_.SetWantWrite(fd, want_write);
    watching_write_ = want_write;
  }
  if (fd >= 0 && !want_write && connection_.wants_write()) loop_.WriteBeforeWaiting(fd);
}

void LoopRedis::ArmTimer() {
  auto due = connection_.deadline();
  // A later pipeline never has an earlier deadline than the first one waiting, so a timer already
  // armed fires in time; when it does, it is armed again for what waits then. One timerfd_settime
  // per command timeout on a busy connection, not one per reply.
  if (!due || armed_for_) return;
  // Without a timer (timerfd_create failed) a hung server's pipelines wait until it closes.
  if (timer_fd_ < 0) return;
  if (!timer_watched_) {
    timer_watched_ = loop_.Watch(timer_fd_, false, [this](bool, bool) { OnTimer(); }).ok();
  }
  itimerspec spec{};
  auto wait = std::max(std::chrono::nanoseconds(std::chrono::microseconds(100)),
                       std::chrono::nanoseconds(*due - clock_.Now()));
  spec.it_value.tv_sec = static_cast<time_t>(wait.count() / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(wait.count() % 1'000'000'000);
  timerfd_settime(timer_fd_, 0, &spec, nullptr);
  armed_for_ = due;
}

void LoopRedis::OnTimer() {
  uint64_t expirations;
  (void)!read(timer_fd_, &expirations, sizeof expirations);
  armed_for_.reset();
  connection_.Expire();
  Sync();
}

}  // namespace sb::signaling
