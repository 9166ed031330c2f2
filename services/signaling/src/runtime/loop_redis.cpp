#include "runtime/loop_redis.h"

#include <utility>

namespace sb::signaling {

LoopRedis::LoopRedis(FdWatcher& loop, redis::ClientOptions options)
    : loop_(loop), connection_(std::move(options)) {}

void LoopRedis::Send(std::vector<redis::Command> commands, redis::LoopConnection::Callback done) {
  if (detached_) {
    return done(Status::Unavailable("redis: the SIP loop's connection is closed (draining)"));
  }
  connection_.Send(std::move(commands), std::move(done));
  Sync();
}

void LoopRedis::Detach() {
  if (watched_fd_ >= 0) loop_.Unwatch(watched_fd_);
  watched_fd_ = -1;
  detached_ = true;
  connection_.Close();
}

void LoopRedis::Sync() {
  if (detached_) return;
  const int fd = connection_.fd();
  const bool want_write = connection_.wants_write();
  if (fd != watched_fd_ || connection_.generation() != watched_generation_) {
    if (watched_fd_ >= 0) loop_.Unwatch(watched_fd_);
    watched_fd_ = -1;
    if (fd < 0) return;
    Status watched = loop_.Watch(fd, want_write, [this](bool readable, bool writable) {
      if (writable) connection_.OnWritable();
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
}

}  // namespace sb::signaling
