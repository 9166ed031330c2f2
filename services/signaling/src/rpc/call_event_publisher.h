// CallEventPublisher: publishes a call's created, ringing, answered and ended events to
// JetStream (the SB_EVENTS stream, sb.evt.call.<type>.<tenant_id>) from the B2BUA's CallRecord.
// Each event gets a fresh EventMeta from the EventFactory (UUIDv7 event id, tenant, time,
// "call.<type>", correlation id = the call id, source "signaling/<node>").
//
// At least once, stored once: the publish waits for the stream's ack (retrying through
// reconnects up to the timeout), and its Nats-Msg-Id is derived from the call and the event
// (<call_id>.<type>[.<leg_id>]), not from the event id, so that publishing the same event again
// (a retry after a timeout, or after a restart) within the stream's duplicate window (2 min) is
// not stored twice: the ack then says `duplicate`.
//
//   // start-up: SB_RETURN_IF_ERROR(bus.EnsureStream(sb::bus::EventsStream()));
//   sb::bus::JsOutbox outbox(bus);
//   sb::bus::EventFactory factory(clock, ids, "signaling/" + node_id);
//   CallEventPublisher events(outbox, factory);
//   Status queued = events.Created(call, [](const Result<PublishAck>& ack) { ... });
//   events.Ringing(call, "b", done);           // call.ringing_sip_code, call.early_media
//   events.Answered(call, done);               // call.answer_time, call.answered_leg_id
//   events.Ended(call, done);                  // call.end_time, cause, final_sip_code
//
// Threading: thread-safe (the outbox and EventFactory are). Nothing blocks: the outbox's thread
// publishes (in posting order, so a call's events are stored in the order they happened) and
// runs `done` with the stream's ack, or DEADLINE_EXCEEDED when JetStream did not ack within the
// outbox's timeout. The outbox and factory must outlive the publisher.
#pragma once

#include <string>
#include <string_view>

#include "events/call_record.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/bus/js_outbox.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

class CallEventPublisher {
 public:
  using Done = bus::JsOutbox::Done;

  CallEventPublisher(bus::JsOutbox& outbox, const bus::EventFactory& events);

  // Queues the event. INVALID_ARGUMENT (naming the field) for a record without call id or
  // tenant, or without the time the event needs (answer_time, end_time); RESOURCE_EXHAUSTED
  // when the outbox is full. `done` is not run when the event was not queued.
  Status Created(const CallRecord& call, Done done);
  // One per ringing callee leg (each de-duplicates on its own).
  Status Ringing(const CallRecord& call, std::string_view leg_id, Done done);
  Status Answered(const CallRecord& call, Done done);
  Status Ended(const CallRecord& call, Done done);
  // Answered and Ended in two steps, for a caller that keeps the message in the outbox's journal
  // itself, in the step that saves the call or takes it out of the store: the message (the same
  // errors as Answered and Ended), then queued as kept (bus::JsOutbox::PostKept: released from
  // the journal once stored).
  Result<bus::JsOutbound> AnsweredMessage(const CallRecord& call) const;
  Result<bus::JsOutbound> EndedMessage(const CallRecord& call) const;
  Status SendKept(bus::JsOutbound message, Done done);

 private:
  Result<bus::JsOutbound> Message(const CallRecord& call, std::string_view type,
                                  std::string_view dedup_suffix,
                                  google::protobuf::MessageLite& event,
                                  switchboard::common::v1::EventMeta* meta) const;
  Status Post(const CallRecord& call, std::string_view type, std::string_view dedup_suffix,
              google::protobuf::MessageLite& event, switchboard::common::v1::EventMeta* meta,
              Done done);

  bus::JsOutbox& outbox_;
  const bus::EventFactory& events_;
};

}  // namespace sb::signaling
