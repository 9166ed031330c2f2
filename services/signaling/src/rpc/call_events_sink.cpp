#include "rpc/call_events_sink.h"

namespace sb::signaling {
namespace {

std::string_view TypeOf(b2bua::PreparedEvent::Kind kind) {
  return kind == b2bua::PreparedEvent::Kind::kAnswered ? "answered" : "ended";
}

}  // namespace

CallEventSink::CallEventSink(bus::Bus& bus, const bus::EventFactory& factory,
                             const core::Clock& clock, std::string node_id,
                             core::MetricsRegistry& metrics, core::Logger log,
                             bus::JsOutboxOptions outbox, bus::JsOutboxJournal* journal)
    : clock_(clock),
      node_id_(std::move(node_id)),
      log_(std::move(log)),
      published_(metrics.Counter("sb_signaling_call_events_total", "call events stored")),
      failed_(metrics.Counter("sb_signaling_call_events_failed_total",
                              "call events that could not be stored")),
      outbox_(bus, outbox, journal),
      publisher_(outbox_, factory) {}

template <typename Apply>
CallRecord CallEventSink::Update(const b2bua::CallSummary& call, bool forget, Apply apply) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call.call_id);
  CallRecord fresh{.call_id = CallId(call.call_id),
                   .tenant = call.tenant,
                   .from_uri = call.from_uri,
                   .to_uri = call.to_uri,
                   .signaling_node_id = node_id_};
  CallRecord* record = it != calls_.end() ? &it->second : &fresh;
  if (!call.legs.empty()) record->legs = call.legs;
  apply(*record);
  CallRecord copy = *record;
  if (it != calls_.end() && forget) {
    calls_.erase(it);
  } else if (it == calls_.end() && !forget && calls_.size() < kMaxOpenCalls) {
    calls_.emplace(call.call_id, std::move(fresh));
  }
  return copy;
}

void CallEventSink::Report(const Status& status, const TenantId& tenant, const CallId& call,
                           std::string_view type) {
  if (status.ok()) {
    published_.Inc();
    return;
  }
  failed_.Inc();
  log_.Warn("call event not stored", {{"tenant_id", tenant.str()},
                                      {"call_id", call.str()},
                                      {"event", std::string(type)},
                                      {"error", status.ToString()}});
}

template <typename Queue>
void CallEventSink::Publish(const TenantId& tenant, const CallId& call, std::string_view type,
                            Queue queue) {
  Status queued = queue([this, tenant, call, type](const Result<bus::PublishAck>& ack) {
    Report(ack.status(), tenant, call, type);
  });
  if (!queued.ok()) Report(queued, tenant, call, type);
}

void CallEventSink::Created(const b2bua::CallSummary& call) {
  const auto now = clock_.WallNow();
  auto record =
      Update(call, false, [&](CallRecord& r) { r.start_time = call.start_time.value_or(now); });
  Publish(record.tenant, record.call_id, "created",
          [&](auto done) { return publisher_.Created(record, done); });
}

void CallEventSink::Ringing(const b2bua::CallSummary& call) {
  auto record = Update(call, false, [&](CallRecord& r) { r.ringing_sip_code = call.sip_code; });
  Publish(record.tenant, record.call_id, "ringing",
          [&](auto done) { return publisher_.Ringing(record, "", done); });
}

void CallEventSink::Answered(const b2bua::CallSummary& call) {
  if (auto event = PrepareAnswered(call)) SendPrepared(std::move(*event), false);
}

std::optional<b2bua::PreparedEvent> CallEventSink::PrepareAnswered(const b2bua::CallSummary& call) {
  const auto now = clock_.WallNow();
  auto record = Update(call, false, [&](CallRecord& r) {
    r.answer_time = call.answer_time.value_or(now);
    r.answered_leg_id = call.answered_leg;
  });
  return Prepared(b2bua::PreparedEvent::Kind::kAnswered, call, record,
                  publisher_.AnsweredMessage(record));
}

void CallEventSink::Ended(const b2bua::CallSummary& call) {
  if (auto event = PrepareEnded(call)) SendPrepared(std::move(*event), false);
}

std::optional<b2bua::PreparedEvent> CallEventSink::PrepareEnded(const b2bua::CallSummary& call) {
  const auto now = clock_.WallNow();
  auto record = Update(call, true, [&](CallRecord& r) {
    // Never created here (another replica carried it): the times the B2BUA kept with the
    // stored call, or none to measure from.
    if (r.start_time == WallTime{}) r.start_time = call.start_time.value_or(now);
    if (!r.answer_time) r.answer_time = call.answer_time;
    r.end_time = now;
    r.final_sip_code = call.sip_code;
    if (auto cause = EndCauseFromName(call.cause)) {
      r.cause = *cause;
    } else {
      r.cause = CauseForFinalResponse(call.sip_code);
      r.cause_text = call.cause;  // keep what the B2BUA said
    }
    if (!call.answered_leg.empty()) r.answered_leg_id = call.answered_leg;
  });
  return Prepared(b2bua::PreparedEvent::Kind::kEnded, call, record,
                  publisher_.EndedMessage(record));
}

std::optional<b2bua::PreparedEvent> CallEventSink::Prepared(b2bua::PreparedEvent::Kind kind,
                                                            const b2bua::CallSummary& call,
                                                            const CallRecord& record,
                                                            Result<bus::JsOutbound> message) {
  if (!message.ok()) {
    Report(message.status(), record.tenant, record.call_id, TypeOf(kind));
    return std::nullopt;
  }
  return b2bua::PreparedEvent{.kind = kind, .call = call, .message = std::move(*message)};
}

void CallEventSink::SendPrepared(b2bua::PreparedEvent event, bool kept) {
  Publish(event.call.tenant, CallId(event.call.call_id), TypeOf(event.kind), [&](auto done) {
    return kept ? publisher_.SendKept(std::move(event.message), done)
                : outbox_.Post(std::move(event.message), done);
  });
}

size_t CallEventSink::open_calls() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

}  // namespace sb::signaling
