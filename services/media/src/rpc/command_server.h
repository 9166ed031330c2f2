// CommandServer: the media node's NATS face. It subscribes to sb.cmd.media.<node>.* and serves
// every operation of rpc/operations.h, one command at a time in the order each sender sent them
// (a destroy never overtakes the create before it), turns each protobuf request into a MediaNode
// call and answers with the reply message, whose `error` carries a failure (code, message, field)
// so the caller can tell a refusal from a node that does not answer. A request body that does not
// parse is answered with INVALID_ARGUMENT and counted; an unknown operation only counted.
//
//   CommandServer commands(bus, node, metrics);
//   SB_RETURN_IF_ERROR(commands.Start());   // subscribed; Stop() (or destruction) unsubscribes
//
// The only place besides event_publisher.cpp that includes generated *.pb.h.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

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
  // Registers the handler of one operation; Subscribe then serves them all.
  template <typename Request, typename Reply, typename Handler>
  Status Serve(std::string_view operation, Handler handler);
  Status Subscribe();

  bus::Bus& bus_;
  MediaNode& node_;
  core::MetricsRegistry& metrics_;
  core::CounterMetric& bad_requests_;
  std::map<std::string, std::function<void(const bus::Message&)>, std::less<>> handlers_;
  std::unique_ptr<bus::Subscription> subscription_;
};

}  // namespace sb::media
