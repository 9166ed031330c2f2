// SipEndpoint: the front of the signaling service's SIP stack, between the transports (sockets)
// and the method handlers (registrar, B2BUA). Pure: no sockets, no threads, time from the
// injected Clock. It runs the transaction layer (libs/sip/transaction) and applies the checks
// every request passes before a handler sees it:
//   - a per-source rate limit (drop), size limit (513), malformed messages (400 built by the
//   message layer, or dropped when
//     they cannot be answered) -- the endpoint always goes on;
//   - Max-Forwards 0 on a request this service would have to forward (483, RFC 3261 §16.3 item 3);
//   - loop detection (482, §16.3 item 4): a Via this node wrote whose loop hash still matches;
//   - Require with an extension we do not support (420, §8.2.2.3);
//   - OPTIONS answered 200, or 503 while draining so a balancer stops sending new work;
//   - methods nobody handles: 501 with Allow (§8.2.1).
//
//   sb::signaling::SipEndpoint endpoint(clock, metrics, {.advertised_host = "10.0.0.5",
//                                                        .advertised_port = 5060});
//   endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
//   endpoint.OnReceived(datagram, {"192.0.2.7", 40112, sb::sip::Transport::kUdp});
//   for (auto& send : endpoint.TakeSends()) transport.Send(send.destination, send.bytes);
//   loop.WakeAt(endpoint.NextDeadline());   then   endpoint.OnTimers();
//
// Thread-safety: none, one endpoint per event loop; SetDraining may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protection/source_rate_limiter.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/metrics.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/transaction_manager.h"

namespace sb::signaling {

struct EndpointConfig {
  // Where peers reach this node (sent-by of our Vias, Contact); also how our own Vias are
  // recognised in loop detection.
  std::string advertised_host;
  uint16_t advertised_port = 5060;
  sip::ParseLimits limits;
  sip::TimerConfig timers;
  size_t max_transactions = 200000;
  // Per source IP; over it messages are dropped before parsing. Off by default: behind the
  // balancer every message comes from its address.
  SourceLimits source_limits;
  // 0 seeds the tag generator from std::random_device; tests pass a fixed seed.
  uint64_t seed = 0;
};

// A new request of a server transaction, as a handler sees it.
struct IncomingRequest {
  std::string key;  // the server transaction; empty for an ACK to a 2xx (no transaction)
  const sip::Message* message = nullptr;  // valid for the duration of OnRequest
  sip::Destination source;
};

class SipEndpoint;

// A method's Transaction User (registrar, B2BUA). It answers through SipEndpoint::Respond, at
// once or later from the same event loop (e.g. after an asynchronous lookup).
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void OnRequest(const IncomingRequest& request, SipEndpoint& endpoint) = 0;
};

class SipEndpoint {
 public:
  // Clock and metrics are borrowed and must outlive the endpoint.
  SipEndpoint(const core::Clock& clock, core::MetricsRegistry& metrics, EndpointConfig config);

  // The handler (borrowed) for new requests of `method`; nullptr removes it.
  void SetHandler(sip::Method method, RequestHandler* handler);

  // One datagram, or one message cut from a stream by sip::StreamFramer.
  void OnReceived(std::string_view bytes, const sip::Destination& source);
  void OnTimers();
  std::optional<core::Clock::TimePoint> NextDeadline() const { return tm_.NextDeadline(); }

  // Answers server transaction `key` with `code`; the To tag is the endpoint's for that request.
  // Extra header lines are added as given. NotFound when the transaction has had its final answer.
  Status Respond(std::string_view key, int code, std::string_view reason = {},
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 std::string_view body = {}, std::string_view content_type = {});

  // What to put on the wire, in order; the caller takes and sends it after every call.
  std::vector<sip::action::Send> TakeSends();

  // While draining, OPTIONS and new INVITEs get 503 (in-dialog requests still flow).
  void SetDraining(bool draining) { draining_.store(draining); }
  bool draining() const { return draining_.load(); }

  // Live transactions (a drain waits for them).
  size_t transactions() const { return tm_.size(); }
  const EndpointConfig& config() const { return config_; }

  // The branch for a request this node sends: RFC 3261 magic cookie, a random part and the loop
  // hash of the request's Request-URI, Call-ID, From tag and CSeq number (§16.6 item 8), which
  // lets a request that comes back unchanged be recognised as a loop.
  std::string NewBranch(std::string_view request_uri, std::string_view call_id,
                        std::string_view from_tag, uint32_t cseq);
  std::string NewTag();

 private:
  struct Pending {
    sip::Message request;
    std::string to_tag;
  };
  void Dispatch(sip::TuEvent event);
  void OnNewRequest(std::string key, sip::Message request, const sip::Destination& source);
  bool IsLoop(const sip::Message& request) const;
  std::string AllowHeader() const;
  void Append(sip::TransactionOutput out);

  const core::Clock& clock_;
  EndpointConfig config_;
  sip::TransactionManager tm_;
  std::mt19937_64 rng_;
  std::atomic<bool> draining_{false};
  SourceRateLimiter limiter_;
  std::map<sip::Method, RequestHandler*> handlers_;
  std::map<std::string, Pending, std::less<>> pending_;
  std::vector<sip::action::Send> sends_;

  core::CounterMetric& received_;
  core::CounterMetric& rate_limited_;
  core::CounterMetric& too_large_;
  core::CounterMetric& loops_;
  core::CounterMetric& too_many_hops_;
  core::CounterMetric& not_implemented_;
};

// The loop hash written into this node's branches (hex), exposed for tests.
std::string LoopHash(std::string_view request_uri, std::string_view call_id,
                     std::string_view from_tag, uint32_t cseq);

}  // namespace sb::signaling
