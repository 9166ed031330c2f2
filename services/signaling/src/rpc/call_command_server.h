// CallCommandServer: serves the commands of proto/switchboard/call/v1/commands.proto for the
// calls of one signaling node, on sb.cmd.signaling.<node_id>.<operation> (answer, hangup, bridge,
// transfer, play, stop_play, record_start, record_stop, originate) and originate also on
// sb.cmd.signaling.originate in the "signaling" queue group (any node may place a call). It
// checks each request, turns it into plain types and calls CallControl (the B2BUA); the reply
// carries the outcome in its `error` (unset on success).
//
// Given CallWhereabouts (rpc/call_whereabouts.h), it also takes the call commands sent to any
// node, sb.cmd.signaling.<operation> in the same queue group: a call another live node carries
// has its command passed on to that node's subject and the node's reply passed back (UNAVAILABLE
// or DEADLINE_EXCEEDED in the reply's error when that node does not answer); any other is served
// here. A command is passed on once at most: a node's own subjects never pass anything on.
//
// A request that is malformed is answered INVALID_ARGUMENT naming the field (call.tenant_id,
// call.call_id, target_uri, sip_code, source, tone, from, to_uri, timeout_seconds, ...) and never
// reaches CallControl; a body that is not the expected message is answered INVALID_ARGUMENT in
// the reply's status headers (libs/bus typed.h) and counted.
//
//   CallCommandServer commands(bus, node_id, b2bua);
//   SB_RETURN_IF_ERROR(commands.Start());
//   ...
//   commands.Stop();   // drain: no new commands (requesters get UNAVAILABLE: no responder)
//
// Threading: handlers run on the bus's delivery threads (see call_control.h). Start and Stop
// from one thread. The Bus and the CallControl must outlive the server.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "events/call_control.h"
#include "rpc/call_whereabouts.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/typed.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

class CallCommandServer {
 public:
  // `whereabouts` may be null: the node's own subjects (and originate's) only. A command passed
  // on waits up to `pass_on_timeout` for the other node's reply.
  CallCommandServer(bus::Bus& bus, std::string node_id, CallControl& control,
                    CallWhereabouts* whereabouts = nullptr,
                    bus::Duration pass_on_timeout = std::chrono::seconds(5));
  ~CallCommandServer();
  CallCommandServer(const CallCommandServer&) = delete;
  CallCommandServer& operator=(const CallCommandServer&) = delete;

  // INVALID_ARGUMENT when the node id is not a subject token; the bus's error otherwise.
  Status Start();
  void Stop();

  // Bodies that were not the operation's request message.
  uint64_t bad_bodies() const { return bad_bodies_.value(); }
  // Commands taken on the service subject and passed on to the node carrying their call.
  uint64_t passed_on() const { return passed_on_.load(std::memory_order_relaxed); }

 private:
  template <typename Request, typename Reply, typename Handle>
  Status Serve(const std::string& subject, std::string_view queue_group, Handle handle);
  // Serves a command on one call (a request with `call`) on the node's subject and, with
  // whereabouts, on the service subject through PassOnOrHandle.
  template <typename Request, typename Reply, typename Handle>
  Status ServeCallCommand(std::string_view operation, Handle handle);
  template <typename Request, typename Reply, typename Handle>
  Reply PassOnOrHandle(std::string_view operation, const Request& request, const Handle& handle);

  bus::Bus& bus_;
  std::string node_id_;
  CallControl& control_;
  CallWhereabouts* whereabouts_;
  bus::Duration pass_on_timeout_;
  bus::ParseErrorCounter bad_bodies_;
  std::atomic<uint64_t> passed_on_{0};
  std::vector<std::unique_ptr<bus::Subscription>> subscriptions_;
};

}  // namespace sb::signaling
