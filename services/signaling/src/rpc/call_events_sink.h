// CallEventSink: the B2BUA's CallEvents port (b2bua/ports.h) on JetStream. It keeps a CallRecord
// per live call from the B2BUA's summaries, stamps the times from the clock (start at created,
// answer at answered, end at ended) and publishes each event through CallEventPublisher, so that
// the ended event carries duration and billable seconds. A failed publish (JetStream away past
// the publisher's deadline) is logged with tenant and call ids and counted in
// sb_signaling_call_events_failed_total; the call goes on.
//
//   sb::bus::EventFactory factory(clock, ids, "signaling/" + node_id);
//   CallEventPublisher publisher(bus, factory);
//   CallEventSink events(publisher, clock, node_id, metrics, log);
//   b2bua::Ports ports{authorizer, locator, media, events, store};
//
// An ended call the sink never saw created (another replica ended it after this one died) is
// published with what the summary says and no start or answer time: duration and billable
// seconds 0. The sink forgets a call at its end; at most kMaxOpenCalls are tracked (beyond, the
// events still go out, without times), so a lost "ended" cannot grow memory for ever.
//
// Threading: thread-safe; each method blocks while it publishes (the B2BUA calls it through its
// Offloader). The publisher, clock, metrics and logger must outlive the sink.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
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

  CallEventSink(CallEventPublisher& publisher, const core::Clock& clock, std::string node_id,
                core::MetricsRegistry& metrics, core::Logger log);

  void Created(const b2bua::CallSummary& call) override;
  void Ringing(const b2bua::CallSummary& call) override;
  void Answered(const b2bua::CallSummary& call) override;
  void Ended(const b2bua::CallSummary& call) override;

  size_t open_calls() const;

 private:
  // The record of the call updated by `update`, as a copy to publish outside the lock.
  template <typename Update>
  CallRecord Update(const b2bua::CallSummary& call, bool forget, Update update);
  void Report(const Status& status, const CallRecord& call, std::string_view type);

  CallEventPublisher& publisher_;
  const core::Clock& clock_;
  std::string node_id_;
  core::Logger log_;
  core::CounterMetric& published_;
  core::CounterMetric& failed_;
  mutable std::mutex mu_;
  std::map<std::string, CallRecord, std::less<>> calls_;
};

}  // namespace sb::signaling
