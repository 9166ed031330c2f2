#include "switchboard/redis/loop_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "internal/hiredis_reply.h"
#include "internal/resp.h"
#include "internal/script_reload.h"

namespace sb::redis {
namespace {

constexpr size_t kReadChunk = 16384;

Result<sockaddr_in> Resolve(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) return addr;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return Status::Unavailable("cannot resolve redis host " + host);
  }
  addr.sin_addr = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr;
  freeaddrinfo(found);
  return addr;
}

const core::SystemClock kSystemClock;

}  // namespace

LoopConnection::LoopConnection(ClientOptions options)
    : LoopConnection(std::move(options), kSystemClock) {}

LoopConnection::LoopConnection(ClientOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

LoopConnection::~LoopConnection() {
  if (fd_ >= 0) close(fd_);
  if (reader_ != nullptr) redisReaderFree(reader_);
}

void LoopConnection::Send(std::vector<Command> commands, Callback done) {
  if (commands.empty()) {
    done(std::vector<Reply>{});
    return;
  }
  if (!Connected(done)) return;
  // Written straight from the commands: their prefixed copies are built only for a rerun.
  for (const auto& c : commands) c.AppendResp(out_, options_.key_prefix);
  const size_t count = commands.size();
  auto reload_then = [this, commands = std::move(commands),
                      done = std::move(done)](Result<std::vector<Reply>> replies) mutable {
    if (!replies.ok()) return done(std::move(replies));
    auto reload = std::make_shared<internal::ScriptReload>(commands, options_.key_prefix, *replies);
    if (reload->empty()) return done(std::move(replies));
    Enqueue(reload->commands(), [reload, replies = std::move(*replies), done = std::move(done)](
                                    Result<std::vector<Reply>> retried) mutable {
      if (!retried.ok()) return done(retried.status());
      Status applied = reload->Apply(std::move(*retried), replies);
      if (!applied.ok()) return done(applied);
      done(std::move(replies));
    });
  };
  Wait(count, std::move(reload_then));
}

void LoopConnection::Enqueue(const std::vector<std::vector<std::string>>& built,
                             std::function<void(Result<std::vector<Reply>>)> done) {
  if (!Connected(done)) return;
  for (const auto& cmd : built) internal::AppendResp(out_, cmd);
  Wait(built.size(), std::move(done));
}

bool LoopConnection::Connected(const std::function<void(Result<std::vector<Reply>>)>& done) {
  if (fd_ >= 0) return true;
  Status connected = Connect();
  if (!connected.ok()) done(connected);
  return connected.ok();
}

void LoopConnection::Wait(size_t count, std::function<void(Result<std::vector<Reply>>)> done) {
  waiting_.push_back({clock_.Now(), count, {}, std::move(done)});
}

Status LoopConnection::Connect() {
  auto addr = Resolve(options_.host, options_.port);
  if (!addr.ok()) return addr.status();
  const std::string where = "redis " + options_.host + ":" + std::to_string(options_.port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(where + ": socket: " + std::strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0 &&
      errno != EINPROGRESS) {
    Status s = Status::Unavailable("cannot connect to " + where + ": " + std::strerror(errno));
    close(fd);
    return s;
  }
  if (reader_ != nullptr) redisReaderFree(reader_);
  reader_ = redisReaderCreate();
  fd_ = fd;
  ++generation_;
  connecting_ = true;
  return Status::Ok();
}

void LoopConnection::OnWritable() {
  if (fd_ < 0) return;
  const std::string where = "redis " + options_.host + ":" + std::to_string(options_.port);
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0)
      return Fail(Status::Unavailable("cannot connect to " + where + ": " + std::strerror(err)));
    connecting_ = false;
  }
  while (!out_.empty()) {
    ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return Fail(Status::Unavailable(where +
                                      ": connection lost while writing: " + std::strerror(errno) +
                                      " (the commands may or may not have run)"));
    }
    out_.erase(0, static_cast<size_t>(n));
  }
}

void LoopConnection::OnReadable() {
  if (fd_ < 0 || connecting_) {
    // A connect that failed shows as readable (an error) too.
    if (connecting_) OnWritable();
    if (fd_ < 0 || connecting_) return;
  }
  const std::string where = "redis " + options_.host + ":" + std::to_string(options_.port);
  char buf[kReadChunk];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0) {
      return Fail(Status::Unavailable(where + ": connection closed by the server" +
                                      " (the commands may or may not have run)"));
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return Fail(Status::Unavailable(where +
                                      ": connection lost while reading: " + std::strerror(errno) +
                                      " (the commands may or may not have run)"));
    }
    if (redisReaderFeed(reader_, buf, static_cast<size_t>(n)) != REDIS_OK) {
      return Fail(Status::Internal(where + ": bad reply: " + reader_->errstr));
    }
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
      return Fail(Status::Internal(where + ": bad reply: " + reader_->errstr));
    }
    if (raw == nullptr) return;
    auto* r = static_cast<redisReply*>(raw);
    Reply reply = internal::Convert(r);
    freeReplyObject(r);
    if (waiting_.empty()) {
      return Fail(Status::Internal(where + ": a reply nothing was sent for"));
    }
    Waiting& front = waiting_.front();
    front.replies.push_back(std::move(reply));
    if (front.replies.size() < front.expected) continue;
    Waiting done = std::move(front);
    waiting_.pop_front();
    // May Send again, or (through a callback's owner) destroy nothing we still use: only
    // members are touched after it.
    done.done(std::move(done.replies));
    if (fd_ < 0) return;
  }
}

std::optional<core::Clock::TimePoint> LoopConnection::deadline() const {
  if (waiting_.empty()) return std::nullopt;
  return waiting_.front().sent_at + options_.command_timeout;
}

void LoopConnection::Expire() {
  auto due = deadline();
  if (!due || clock_.Now() < *due) return;
  Fail(Status::DeadlineExceeded("redis " + options_.host + ":" + std::to_string(options_.port) +
                                ": no reply within " +
                                std::to_string(options_.command_timeout.count()) + " ms"));
}

void LoopConnection::Close() {
  Fail(Status::Unavailable("redis " + options_.host + ":" + std::to_string(options_.port) +
                           ": connection closed by its owner"));
}

void LoopConnection::Fail(const Status& error) {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  connecting_ = false;
  out_.clear();
  std::deque<Waiting> failed;
  failed.swap(waiting_);
  for (auto& w : failed) w.done(error);
}

}  // namespace sb::redis
