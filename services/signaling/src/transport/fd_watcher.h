// FdWatcher: an event loop that can watch other file descriptors beside its own, so that a client
// speaking to a server (Redis) without blocking runs on that loop and answers there, with no
// thread hand-off. Every call, and every `on_ready`, happens on the loop thread.
//
//   watcher.Watch(conn.fd(), conn.wants_write(), [&](bool readable, bool writable) {
//     if (writable) conn.OnWritable();
//     if (readable) conn.OnReadable();
//   });
//   watcher.SetWantWrite(conn.fd(), false);   // once the output is written
//   watcher.WriteBeforeWaiting(conn.fd());    // or: output queued now goes out in one write
//   watcher.Unwatch(conn.fd());               // before the fd is closed
#pragma once

#include <functional>

#include "switchboard/core/status.h"

namespace sb::signaling {

class FdWatcher {
 public:
  // `readable` is also true on a hang-up or an error, so that the owner's read sees it.
  using OnReady = std::function<void(bool readable, bool writable)>;

  virtual ~FdWatcher() = default;
  // Starts watching `fd` for input, and for room to write while `want_write`.
  virtual Status Watch(int fd, bool want_write, OnReady on_ready) = 0;
  virtual void SetWantWrite(int fd, bool want_write) = 0;
  // Calls `fd`'s on_ready(false, true) once the loop has handled its current batch of events,
  // before it waits again: what handlers queued during the batch goes out in one write, without
  // two epoll_ctl calls and a loop pass to learn that a socket with room has room. The owner
  // watches for room to write (SetWantWrite) only when a write could not finish.
  virtual void WriteBeforeWaiting(int fd) = 0;
  // Stops watching `fd`; its on_ready is not called again, even for an event already read.
  virtual void Unwatch(int fd) = 0;
};

}  // namespace sb::signaling
