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
//   sb::bus::EventFactory factory(clock, ids, "signaling/" + node_id);
//   CallEventPublisher events(bus, factory);
//   auto ack = events.Created(call);           // blocks until stored: call it off the SIP loop
//   if (!ack.ok()) log.Warn(...);              // DEADLINE_EXCEEDED: JetStream unreachable
//   events.Ringing(call, "b");                 // call.ringing_sip_code, call.early_media
//   events.Answered(call);                     // call.answer_time, call.answered_leg_id
//   events.Ended(call);                        // call.end_time, cause, final_sip_code
//
// Threading: thread-safe (the Bus and EventFactory are). Each call blocks up to the timeout, so
// the B2BUA makes it through its Offloader. The Bus and factory must outlive the publisher.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "events/call_record.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

class CallEventPublisher {
 public:
  static constexpr bus::Duration kDefaultTimeout = std::chrono::seconds(5);

  CallEventPublisher(bus::Bus& bus, const bus::EventFactory& events,
                     bus::Duration timeout = kDefaultTimeout);

  // INVALID_ARGUMENT (naming the field) for a record without call id or tenant, or without the
  // time the event needs (answer_time, end_time); DEADLINE_EXCEEDED when the stream did not ack.
  Result<bus::PublishAck> Created(const CallRecord& call);
  // One per ringing callee leg (each de-duplicates on its own).
  Result<bus::PublishAck> Ringing(const CallRecord& call, std::string_view leg_id);
  Result<bus::PublishAck> Answered(const CallRecord& call);
  Result<bus::PublishAck> Ended(const CallRecord& call);

 private:
  Result<bus::PublishAck> Publish(const CallRecord& call, std::string_view type,
                                  std::string_view dedup_suffix,
                                  google::protobuf::MessageLite& event,
                                  switchboard::common::v1::EventMeta* meta);

  bus::Bus& bus_;
  const bus::EventFactory& events_;
  bus::Duration timeout_;
};

}  // namespace sb::signaling
