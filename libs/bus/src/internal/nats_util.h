// Shared between the NatsBus translation units: status mapping, message conversion, timeouts.
#pragma once

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "switchboard/bus/bus.h"

namespace sb::bus::internal {

// "NATS_TIMEOUT: <cnats's last error text>" with our context in front.
std::string NatsErrorText(natsStatus s);

// The closed Status code set for a cnats status. `what` says what failed.
Status FromNats(natsStatus s, std::string_view what);

// JetStream API errors carry a server error code as well.
Status FromJetStream(natsStatus s, jsErrCode jerr, std::string_view what);

// cnats takes milliseconds; never 0 (which some calls read as "wait for ever").
inline int64_t ToMillis(Duration d) {
  return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// Received messages destroyed in batches. cnats hands every message destroyed to its
// garbage-collector thread and wakes that thread whenever it is idle: one message at a time, that
// is a wake-up and a context switch per message (a quarter of the admin lookup benchmark's context
// switches; bench/RESULTS.md, "Admin lookups", session 4). In batches the collector wakes once per
// batch. The batch is emptied before a message joins it, so the last one lives until the next
// Add; it holds at most 32 messages, or 64 KiB and one more. Not thread-safe: one per thread.
class RetiredMessages {
 public:
  void Add(natsMsg* m);

 private:
  std::vector<MsgPtr> messages_;
  size_t bytes_ = 0;
};

// INVALID_ARGUMENT naming the subject unless it is one to publish to (no wildcards).
Status CheckPublishSubject(const std::string& subject);
// A cnats message with our subject, reply, body and headers.
Result<MsgPtr> ToNats(const Message& message);
// Copies a received cnats message (the caller still owns `m`).
Message FromNatsMsg(natsMsg* m);

}  // namespace sb::bus::internal
