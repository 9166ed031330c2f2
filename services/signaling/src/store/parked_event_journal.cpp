#include "store/parked_event_journal.h"

namespace sb::signaling {

ParkedEventJournal::ParkedEventJournal(RedisEventOutbox& outbox, const core::Clock& clock,
                                       core::MetricsRegistry& metrics, core::Logger log)
    : outbox_(outbox),
      clock_(clock),
      failures_(metrics.Counter("sb_signaling_parked_event_failures_total",
                                "batches of call events that could not be parked or unparked")),
      log_(std::move(log)) {}

void ParkedEventJournal::Keep(const std::vector<bus::JsOutbound>& batch) {
  Report(outbox_.Park(batch, clock_.WallNow()), "call events not parked before their publish",
         batch.size());
}

void ParkedEventJournal::Release(const std::vector<std::string>& msg_ids) {
  Report(outbox_.Done(msg_ids), "stored call events not unparked (a sweep sends them again)",
         msg_ids.size());
}

void ParkedEventJournal::Report(const Status& status, std::string_view what, size_t count) {
  if (status.ok()) return;
  failures_.Inc();
  log_.Warn(what, {{"events", static_cast<uint64_t>(count)}, {"error", status.ToString()}});
}

}  // namespace sb::signaling
