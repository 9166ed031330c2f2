// CallRecord (events/call_record.h) to its wire form, switchboard.call.v1.Call, in one place for
// the event publisher and whoever else reports calls (a call list answer, later).
//
//   switchboard::call::v1::CallEnded ended;
//   *ended.mutable_call() = ToProto(call);
#pragma once

#include "events/call_record.h"
#include "switchboard/call/v1/events.pb.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

switchboard::call::v1::Call ToProto(const CallRecord& call);
switchboard::call::v1::Leg ToProto(const LegRecord& leg);
switchboard::call::v1::EndCause ToProto(EndCause cause);

// OK when the record can become an event: a call id and a tenant (INVALID_ARGUMENT naming the
// field otherwise). The ended and answered events also need their times (checked there).
Status ValidateForEvent(const CallRecord& call);

}  // namespace sb::signaling
