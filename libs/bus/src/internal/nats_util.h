// Shared between the NatsBus translation units: status mapping, message conversion, timeouts.
#pragma once

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

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

// INVALID_ARGUMENT naming the subject unless it is one to publish to (no wildcards).
Status CheckPublishSubject(const std::string& subject);
// A cnats message with our subject, reply, body and headers.
Result<MsgPtr> ToNats(const Message& message);
// Copies a received cnats message (the caller still owns `m`).
Message FromNatsMsg(natsMsg* m);

}  // namespace sb::bus::internal
