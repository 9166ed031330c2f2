// SipServer: the signaling node's sockets. One event-loop thread owns a UDP socket, a TCP
// listener and its connections, and the SipEndpoint (sip_endpoint.h): datagrams and framed
// stream messages (sip::StreamFramer, RFC 3261 §18.3) go into the endpoint, its sends go out,
// and the loop wakes for the transaction layer's next timer.
//
//   sb::signaling::SipEndpoint endpoint(clock, metrics, endpoint_config);
//   auto server = sb::signaling::SipServer::Start(endpoint, clock, {.udp_addr = "127.0.0.1:0",
//                                                                 .tcp_addr = "127.0.0.1:0"});
//   if (!server.ok()) ...;
//   (*server)->udp_port();   // with port 0, TCP is bound on the same port as UDP
//   (*server)->Post([&] { endpoint.SetHandler(...); });   // runs on the loop thread
//   (*server)->Stop();
//
// Over TCP a response goes back on the connection its request came in on (§18.2.2), or, when
// that has closed, over a new one to where the client's Via says it listens; a request for a
// peer with no connection to it opens one (§18.1.1: a carrier's gateway over TCP), which then
// carries both ways like an accepted one; a framing
// error (bad or missing Content-Length, too large) is answered when it can be and the connection
// is closed. Connections idle longer than tcp_idle_timeout are closed, which also ends a
// message whose Content-Length promised more than ever came (RFC 4475 §3.1.2.2).
// As an FdWatcher (fd_watcher.h) the loop also serves other descriptors, on the loop thread only;
// sends made from their callbacks are flushed like those of a received message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/status.h"
#include "transport/fd_watcher.h"
#include "transport/sip_endpoint.h"

namespace sb::signaling {

struct ListenConfig {
  std::string udp_addr = "127.0.0.1:0";  // "host:port"; empty: no UDP
  std::string tcp_addr = "127.0.0.1:0";  // empty: no TCP; port 0 with UDP: UDP's port
  // Bytes of datagrams the kernel may queue for the UDP socket while the loop is busy (a burst
  // of REGISTERs after an outage): beyond it, datagrams are dropped and their senders wait for
  // a retransmission. Asked with SO_RCVBUFFORCE (CAP_NET_ADMIN), else SO_RCVBUF, which the
  // kernel caps at net.core.rmem_max. 0: the kernel's default (net.core.rmem_default).
  int udp_receive_buffer = 4 << 20;
  size_t max_tcp_connections = 4096;
  std::chrono::milliseconds tcp_idle_timeout{std::chrono::minutes(5)};
  // Bytes queued for a TCP peer that does not read before the connection is dropped.
  size_t max_tcp_write_buffer = 1 << 20;
};

class SipServer final : public FdWatcher {
 public:
  // Binds the sockets and starts the loop thread. The endpoint, clock and metrics are borrowed
  // and must outlive the server; from now on only the loop thread touches the endpoint.
  static Result<std::unique_ptr<SipServer>> Start(SipEndpoint& endpoint, const core::Clock& clock,
                                                  core::MetricsRegistry& metrics,
                                                  const core::Logger& log, ListenConfig config);
  ~SipServer() override;  // Stop()
  SipServer(const SipServer&) = delete;
  SipServer& operator=(const SipServer&) = delete;

  uint16_t udp_port() const;
  uint16_t tcp_port() const;
  // The UDP socket's receive buffer as the kernel gives it (it counts its own overhead, so it
  // reports twice what it was asked for); 0 without UDP.
  int udp_receive_buffer() const;

  // Runs `task` on the loop thread (thread-safe); its sends are flushed afterwards.
  void Post(std::function<void()> task);
  // Stops the loop and closes every socket. Idempotent.
  void Stop();

  // FdWatcher; loop thread only.
  Status Watch(int fd, bool want_write, OnReady on_ready) override;
  void SetWantWrite(int fd, bool want_write) override;
  void WriteBeforeWaiting(int fd) override;
  void Unwatch(int fd) override;

  struct Impl;

 private:
  explicit SipServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::signaling
