// CallEventSink: the B2BUA's CallEvents port (b2bua/ports.h) on JetStream. It keeps a CallRecord
// per live call from the B2BUA's summaries, takes the start and answer times they carry (or
// stamps them from the clock at created and answered), stamps the end at ended, and publishes
// each event through CallEventPublisher, so that the ended event carries duration and billable
// seconds. A failed publish (JetStream away past the outbox's timeout) is logged with tenant and
// call ids and counted in sb_signaling_call_events_failed_total; the call goes on.
//
//   sb::bus::EventFactory factory(clock, ids, "signaling/" + node_id);
//   CallEventSink events(bus, factory, clock, node_id, metrics, log, {.linger = 2ms}, &journal);
//   b2bua::Ports ports{authorizer, locator, media, events, store};
//
// An ended call the sink never saw created (another replica ended it after this one died) is
// published with what the summary says: the times the B2BUA kept with the stored call, so its
// duration and billable seconds are the call's; without them (a record stored before they were
// kept) duration and billable seconds are 0. The sink forgets a call at its end; at most
// kMaxOpenCalls are tracked (beyond, the events still go out, without times), so a lost "ended"
// cannot grow memory for ever. An answered or ended event that the store keeps with the call's
// save or removal (PrepareAnswered or PrepareEnded, then SendPrepared) is released from the
// outbox's journal once stored: the journal (store/parked_event_journal.h) is where the store
// parked it.
//
// Threading: thread-safe, and nothing blocks (the publisher queues on its JsOutbox): the B2BUA
// calls it on its loop thread. Outcomes are counted and logged from the outbox's thread. The
// sink owns its outbox: destroying the sink first publishes what still waits. The bus, factory,
// clock and metrics must outlive the sink.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "b2bua/ports.h"
#include "events/call_record.h"
#include "rpc/call_event_publisher.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"

namespace sb::signaling {

class CallEventSink final : public b2bua::CallEvents {
 public:
  static constexpr size_t kMaxOpenCalls = 100'000;

  CallEventSink(bus::Bus& bus, const bus::EventFactory& factory, const core::Clock& clock,
                std::string node_id, core::MetricsRegistry& metrics, core::Logger log,
                bus::JsOutboxOptions outbox = {}, bus::JsOutboxJournal* journal = nullptr);

  void Created(const b2bua::CallSummary& call) override;
  void Ringing(const b2bua::CallSummary& call) override;
  void Answered(const b2bua::CallSummary& call) override;
  void Ended(const b2bua::CallSummary& call) override;
  std::optional<b2bua::PreparedEvent> PrepareAnswered(const b2bua::CallSummary& call) override;
  std::optional<b2bua::PreparedEvent> PrepareEnded(const b2bua::CallSummary& call) override;
  void SendPrepared(b2bua::PreparedEvent event, bool kept) override;

  size_t open_calls() const;
  // Blocks until every event queued so far has been stored (or has failed) and counted.
  void Flush() { outbox_.Flush(); }

 private:
  // The record of the call updated by `update`, as a copy to publish outside the lock.
  template <typename Update>
  CallRecord Update(const b2bua::CallSummary& call, bool forget, Update update);
  // Queues one event through `queue` (a publisher method bound to the record) and counts and
  // logs its outcome once the stream answered.
  template <typename Queue>
  void Publish(const TenantId& tenant, const CallId& call, std::string_view type, Queue queue);
  void Report(const Status& status, const TenantId& tenant, const CallId& call,
              std::string_view type);
  // A prepared event of `kind` for `call`, from its record's `message`; nullopt (reported) when
  // the message could not be built.
  std::optional<b2bua::PreparedEvent> Prepared(b2bua::PreparedEvent::Kind kind,
                                               const b2bua::CallSummary& call,
                                               const CallRecord& record,
                                               Result<bus::JsOutbound> message);

  const core::Clock& clock_;
  std::string node_id_;
  core::Logger log_;
  core::CounterMetric& published_;
  core::CounterMetric& failed_;
  mutable std::mutex mu_;
  std::map<std::string, CallRecord, std::less<>> calls_;
  // Last: destroyed first, while the counters and logger its callbacks use still exist.
  bus::JsOutbox outbox_;
  CallEventPublisher publisher_;
};

}  // namespace sb::signaling
