#include "registrar/parked_events.h"

namespace sb::signaling {

Status PublishParked(RegistrationEvents& events, RedisEventOutbox* outbox,
                     const std::vector<bus::JsOutbound>& messages) {
  std::vector<std::string> acked;
  Status sent = events.Send(messages, &acked);
  if (outbox == nullptr || acked.empty()) return sent;
  Status unparked = outbox->Done(acked);
  return sent.ok() ? unparked : sent;
}

}  // namespace sb::signaling
