#include "switchboard/core/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>

namespace sb::core {

OpsServer::OpsServer(const MetricsRegistry& metrics, ReadinessCheck ready)
    : metrics_(metrics), ready_(std::move(ready)), server_(std::make_unique<httplib::Server>()) {
  // httplib's default adds SO_REUSEPORT, which would let a second process bind our port silently.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    Status s = ready_ ? ready_() : Status::Ok();
    if (s.ok()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + s.message() + "\n", "text/plain");
    }
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });
}

OpsServer::~OpsServer() { Stop(); }

Result<int> OpsServer::Start(const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the listen loop runs, so Stop() right after Start() would hang.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) return Status::Unavailable("ops server did not start");
  return bound;
}

void OpsServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace sb::core
