// CommandServer: the media node's NATS face. It subscribes to sb.cmd.media.<node>.<operation>
// for every operation of rpc/operations.h, turns each protobuf request into a MediaNode call and
// answers with the reply message, whose `error` carries a failure (code, message, field) so the
// caller can tell a refusal from a node that does not answer. A request body that does not parse
// is answered with INVALID_ARGUMENT and counted.
//
//   CommandServer commands(bus, node, metrics);
//   SB_RETURN_IF_ERROR(commands.Start());   // subscribed; Stop() (or destruction) unsubscribes
//
// The only place besides event_publisher.cpp that includes generated *.pb.h.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "net/media_node.h"
#include "switchboard/bus/bus.h"
#include "switchboard/core/metrics.h"

namespace sb::media {

class CommandServer {
 public:
  // References are borrowed and must outlive the server.
  CommandServer(bus::Bus& bus, MediaNode& node, core::MetricsRegistry& metrics);
  ~CommandServer();

  Status Start();
  void Stop();

 private:
  template <typename Request, typename Reply, typename Handler>
  Status Serve(std::string_view operation, Handler handler);

  bus::Bus& bus_;
  MediaNode& node_;
  core::MetricsRegistry& metrics_;
  core::CounterMetric& bad_requests_;
  std::vector<std::unique_ptr<bus::Subscription>> subscriptions_;
};

}  // namespace sb::media
