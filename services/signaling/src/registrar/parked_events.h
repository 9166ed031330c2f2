// PublishParked: sends registration events that were parked in Redis with the change they report
// (store/redis_event_outbox.h), then unparks those JetStream acknowledged. Shared by the
// registrar (a REGISTER's events), the keep-alive removal and the sweep (what is still parked
// after its lease).
//
//   Status published = PublishParked(events, &outbox, messages);   // blocks: a worker runs it
//
// Whatever was not acknowledged, or not unparked, stays parked and is sent again by a sweep under
// the same msg ids (JetStream keeps one copy).
#pragma once

#include <vector>

#include "rpc/registration_events.h"
#include "store/redis_event_outbox.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

// The first failure, of the send or else of the unparking. `outbox` nullptr: nothing was parked,
// the messages are only sent.
Status PublishParked(RegistrationEvents& events, RedisEventOutbox* outbox,
                     const std::vector<bus::JsOutbound>& messages);

}  // namespace sb::signaling
