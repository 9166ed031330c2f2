// OpsServer: the small HTTP server every service runs for operations: /healthz (the process is
// alive), /readyz (it can take work: dependencies connected and not draining) and /metrics
// (Prometheus). Built on cpp-httplib; serves on its own threads.
//
//   sb::core::OpsServer ops(metrics, [&] { return bus.connected() ? Status::Ok()
//                                              : Status::Unavailable("nats down"); });
//   auto port = ops.Start("0.0.0.0", settings.GetInt("http-port"));  // 0: a free port
//   ...
//   ops.Stop();
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "switchboard/core/metrics.h"
#include "switchboard/core/status.h"

namespace httplib {
class Server;
}

namespace sb::core {

class OpsServer {
 public:
  // Called on every /readyz from a server thread: Ok answers 200, an error 503 with its message.
  using ReadinessCheck = std::function<Status()>;

  // The registry is borrowed and must outlive the server.
  OpsServer(const MetricsRegistry& metrics, ReadinessCheck ready);
  ~OpsServer();

  // Binds and starts serving; returns the bound port (useful with port 0).
  Result<int> Start(const std::string& host, int port);
  void Stop();

 private:
  const MetricsRegistry& metrics_;
  ReadinessCheck ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace sb::core
