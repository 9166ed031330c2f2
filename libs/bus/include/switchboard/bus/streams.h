// The JetStream streams of the platform, defined once. Each service calls EnsureStream with
// these at start-up (idempotent), so whichever starts first creates them.
//
//   SB_RETURN_IF_ERROR(bus.EnsureStream(sb::bus::EventsStream()));
#pragma once

#include "switchboard/bus/bus.h"

namespace sb::bus {

// SB_EVENTS: the events of every durable domain (sb.evt.<domain>.>,
// subjects::kDurableEventDomains), on file, kept 7 days, de-duplicated over 2 minutes.
StreamConfig EventsStream();

}  // namespace sb::bus
