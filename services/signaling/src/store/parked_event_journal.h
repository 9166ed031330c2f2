// ParkedEventJournal: a JsOutbox's journal (bus::JsOutboxJournal) in the parked-event outbox
// (store/redis_event_outbox.h), for the call events. What JetStream has not acknowledged within
// the outbox's `journal_after` (250 ms) is parked in Redis while the outbox keeps trying, and
// unparked once acknowledged, so that a call's `ended` (its charge), and every other call event,
// outlives a JetStream away for longer than the publish timeout and a replica killed meanwhile:
// every replica's sweep (registrar/lapse_sweeper.h) sends what is still parked after its lease,
// under the same msg id, and the stream keeps one copy. Events acknowledged promptly, nearly all
// of them, cost Redis nothing.
//
//   sb::signaling::ParkedEventJournal journal(outbox, clock, metrics, log);
//   sb::bus::JsOutbox events(bus, {.linger = 2ms}, &journal);
//
// A call's answered and ended events are parked before they are posted, in the same step as the
// call's save or removal (store/redis_call_store.h; an unanswered call's ended on its own), and
// only released here. What remains exposed is a created or ringing event: it is in memory only
// until it is acknowledged or parked (at most the linger plus journal_after), so a replica killed
// in that window loses it; the call itself, not yet answered, is lost with the replica then. A
// failure to park or unpark is logged and counted in sb_signaling_parked_event_failures_total:
// the outbox goes on publishing all the same, and an event left parked after its ack is sent
// again by a sweep (the stream drops the copy). Thread-safe as the outbox and client are; the
// outbox, clock and metrics must outlive it.
#pragma once

#include <string>
#include <vector>

#include "store/redis_event_outbox.h"
#include "switchboard/bus/js_outbox.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"

namespace sb::signaling {

class ParkedEventJournal final : public bus::JsOutboxJournal {
 public:
  ParkedEventJournal(RedisEventOutbox& outbox, const core::Clock& clock,
                     core::MetricsRegistry& metrics, core::Logger log);

  void Keep(const std::vector<bus::JsOutbound>& batch) override;
  void Release(const std::vector<std::string>& msg_ids) override;

 private:
  void Report(const Status& status, std::string_view what, size_t count);

  RedisEventOutbox& outbox_;
  const core::Clock& clock_;
  core::CounterMetric& failures_;
  core::Logger log_;
};

}  // namespace sb::signaling
