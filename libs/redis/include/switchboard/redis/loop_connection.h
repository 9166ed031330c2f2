// LoopConnection: one Redis connection driven by its owner's event loop, for code that must not
// block (a SIP loop answering from Redis). No threads, no locks: every call on one thread.
//
//   sb::redis::LoopConnection redis({.host = "127.0.0.1", .port = 6379, .key_prefix = "sig:"});
//   redis.Send({Command("INCR").Key("a"), Command("GET").Key("b")},
//              [](sb::Result<std::vector<sb::redis::Reply>> replies) { ... });   // later
//   // the owner watches redis.fd() for input, and for room to write while redis.wants_write(),
//   // and calls redis.OnReadable() / redis.OnWritable() when epoll says so.
//
// Pipelines are written in the order sent and answered in that order; every Send made between
// two writable events goes out in one write, and replies that arrive together are read in one
// read. The replies are Client::Pipeline's: a command's own error is an Error reply in its place,
// and scripts (Command::Eval) the server does not know are loaded and run again in one more round
// trip (so after the commands sent meanwhile, as Client's run after the pipeline's others).
// Connection: opened, without blocking (a host that is not an IPv4 address is resolved, which
// may block), by the first Send after construction or after a failure. A lost connection (read
// or write error, the server closing it) fails every pipeline waiting on it UNAVAILABLE (the
// commands may or may not have run) and closes the fd; the next Send reconnects.
// Timeout: a pipeline is answered within options' command_timeout of its Send or the owner's
// Expire() (called at deadline()) fails it and every one behind it DEADLINE_EXCEEDED, and closes
// the connection (a late reply would be out of step), as Client does.
// The callbacks run inside Send (only for a connection that cannot be opened), OnReadable or
// OnWritable; the destructor drops those still waiting without calling them.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"
#include "switchboard/redis/reply.h"

struct redisReader;

namespace sb::redis {

class LoopConnection {
 public:
  using Callback = std::function<void(Result<std::vector<Reply>>)>;

  // Uses options' host, port, key_prefix and command_timeout (not connections). `clock` (not
  // owned, outlives the connection) times the timeout; the system clock by default.
  explicit LoopConnection(ClientOptions options);
  LoopConnection(ClientOptions options, const core::Clock& clock);
  LoopConnection(const LoopConnection&) = delete;
  LoopConnection& operator=(const LoopConnection&) = delete;
  ~LoopConnection();

  // Queues `commands` as one pipeline; `done` gets their replies in order, or the connection's
  // error. An empty pipeline is answered at once.
  void Send(std::vector<Command> commands, Callback done);

  // The socket to watch; -1 while closed.
  int fd() const { return fd_; }
  // Bumped each time a new socket is opened: an owner that watched an fd of an older one must
  // watch again (a closed fd's number is soon reused).
  uint64_t generation() const { return generation_; }
  // True while connecting or while bytes wait to be written.
  bool wants_write() const { return fd_ >= 0 && (connecting_ || !out_.empty()); }
  // True until the non-blocking connect has completed (OnWritable sees it).
  bool connecting() const { return fd_ >= 0 && connecting_; }
  // Pipelines sent or queued whose replies have not all come.
  size_t in_flight() const { return waiting_.size(); }

  void OnReadable();
  void OnWritable();
  // Closes the socket and fails what is waiting UNAVAILABLE; the next Send reconnects.
  void Close();
  // When the oldest pipeline waiting times out; nullopt when none waits.
  std::optional<core::Clock::TimePoint> deadline() const;
  // Fails the pipelines DEADLINE_EXCEEDED when the oldest is past its deadline.
  void Expire();

 private:
  struct Waiting {
    core::Clock::TimePoint sent_at;
    size_t expected;
    std::vector<Reply> replies;
    std::function<void(Result<std::vector<Reply>>)> done;
  };
  // Queues built commands; `done` gets their raw replies (before any script reload).
  void Enqueue(const std::vector<std::vector<std::string>>& built,
               std::function<void(Result<std::vector<Reply>>)> done);
  // Connects when there is no socket; false (and `done` told why) when that fails.
  bool Connected(const std::function<void(Result<std::vector<Reply>>)>& done);
  // `done` gets the next `count` replies, for commands just written to out_.
  void Wait(size_t count, std::function<void(Result<std::vector<Reply>>)> done);
  Status Connect();
  // Closes the socket and fails everything waiting with `error`.
  void Fail(const Status& error);

  const ClientOptions options_;
  const core::Clock& clock_;
  int fd_ = -1;
  uint64_t generation_ = 0;
  bool connecting_ = false;
  std::string out_;
  redisReader* reader_ = nullptr;
  std::deque<Waiting> waiting_;
};

}  // namespace sb::redis
