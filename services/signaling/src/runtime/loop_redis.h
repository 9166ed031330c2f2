// LoopRedis: a redis::LoopConnection served by the SIP loop (transport/fd_watcher.h), so that a
// handler sends a pipeline and answers from its reply without a worker thread or a blocking call.
// The loop's epoll watches the connection's socket; every Send made while the loop handles one
// batch of events goes out in one write.
//
//   sb::signaling::LoopRedis redis(*server, redis_options);   // on the loop thread from here on
//   redis.Send({Command("GET").Key("k")}, [](sb::Result<std::vector<sb::redis::Reply>> r) {
//     ... on the loop thread ...
//   });
//   redis.Detach();   // on the loop, before the loop or this object goes
//
// A pipeline without a reply within the options' command_timeout is failed DEADLINE_EXCEEDED (a
// timerfd on the loop, armed at the connection's deadline), so a Redis that hangs answers 503.
// Loop thread only: Send, the callbacks and Detach.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/redis/client.h"
#include "switchboard/redis/loop_connection.h"
#include "transport/fd_watcher.h"

namespace sb::signaling {

class LoopRedis {
 public:
  // `loop` and `clock` borrowed.
  LoopRedis(FdWatcher& loop, redis::ClientOptions options, const core::Clock& clock);
  ~LoopRedis();
  LoopRedis(const LoopRedis&) = delete;
  LoopRedis& operator=(const LoopRedis&) = delete;

  void Send(std::vector<redis::Command> commands, redis::LoopConnection::Callback done);
  // Stops watching and fails what is waiting UNAVAILABLE; later sends fail at once.
  void Detach();
  // Pipelines waiting for their replies.
  size_t in_flight() const { return connection_.in_flight(); }

 private:
  // Watches what the connection asks for now (its socket may be new after a reconnect).
  void Sync();
  // Arms the timer at the connection's deadline unless it is armed already.
  void ArmTimer();
  void OnTimer();

  FdWatcher& loop_;
  const core::Clock& clock_;
  redis::LoopConnection connection_;
  int timer_fd_ = -1;
  bool timer_watched_ = false;
  std::optional<core::Clock::TimePoint> armed_for_;
  bool detached_ = false;
  int watched_fd_ = -1;
  uint64_t watched_generation_ = 0;
  bool watching_write_ = false;
  bool write_blocked_ = false;  // a write left output behind: room to write is watched for
};

}  // namespace sb::signaling
