// CallService: the B2BUA (b2bua.h) with its real ports, built in one place so that sb-signaling's
// main only passes settings. It shares the registrar's NATS connection, Redis client, digest
// authenticator, admin lookups and bindings (one of each per node) and adds: the media node
// tracker and anchor (libs/media_client), call events on JetStream, answered calls in Redis, and
// the node's call command server (sb.cmd.signaling.<node_id>.*).
//
//   auto calls = sb::signaling::CallService::Start({.node_id = "sig-1"}, *registrar, endpoint,
//                                                  post_to_loop, clock, metrics, log);
//   server->Post([&] { (*calls)->Attach(endpoint); });   // on the SIP loop: INVITEs now route
//   ...
//   server->Post([&] { (*calls)->Detach(endpoint); });   // drain, on the loop
//   (*calls)->StopWork();            // no more commands; blocking work joined
//   <wait for the loop to run what the workers posted>, then destroy it
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "b2bua/call_adopter.h"
#include "registrar/registrar_service.h"
#include "routing/dns_resolver.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/session_timer.h"
#include "transport/sip_endpoint.h"

namespace sb::signaling {

struct CallServiceConfig {
  std::string node_id;
  std::chrono::milliseconds no_answer_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds silent_contact_timeout{std::chrono::seconds(5)};  // b2bua::Settings
  std::chrono::milliseconds store_ringing_after{250};                         // b2bua::Settings
  sip::SessionTimerPolicy session_timer{};  // RFC 4028 on both legs of every call
  std::chrono::milliseconds media_timeout{std::chrono::seconds(2)};
  // A connected party that sends no RTP this long while not on hold ends its call (media's
  // rtp_timeout event, B2bua::OnMediaSilent); 0: never.
  std::chrono::milliseconds rtp_timeout{std::chrono::seconds(60)};
  // Answered calls stay findable by other replicas this long at most.
  std::chrono::seconds stored_call_ttl{std::chrono::hours(12)};
  size_t worker_threads = 8;
  // A call event waits this long for others to share its JetStream batch (JsOutboxOptions).
  std::chrono::milliseconds event_linger{2};
  // Heartbeats, and the calls of replicas that died taken over (b2bua/call_adopter.h).
  CallAdoptionOptions adoption{};
  // How trunks' gateways given by name are found (RFC 3263).
  DnsOptions dns{};
};

class CallService {
 public:
  using PostToLoop = std::function<void(std::function<void()>)>;
  // Everything borrowed must outlive the service. Fails when NATS refuses the subscriptions.
  static Result<std::unique_ptr<CallService>> Start(const CallServiceConfig& config,
                                                    RegistrarService& shared, SipEndpoint& endpoint,
                                                    PostToLoop post_to_loop,
                                                    const core::Clock& clock,
                                                    core::MetricsRegistry& metrics,
                                                    const core::Logger& log);
  ~CallService();

  // On the SIP loop thread: INVITEs and in-dialog requests go to the B2BUA, or no longer do.
  void Attach(SipEndpoint& endpoint);
  void Detach(SipEndpoint& endpoint);
  // On the SIP loop thread: calls in progress (a drain waits for them).
  size_t active_calls() const;
  // Any thread: OK once a live media node is known (load reports come every few seconds, so a
  // fresh node is not ready for calls at once); UNAVAILABLE before, which /readyz reports.
  Status MediaReady() const;
  // Off the loop: stops taking commands and joins the blocking work. What the workers already
  // posted to the loop still refers to the B2BUA: let the loop run it before destroying this.
  void StopWork();

  struct Parts;

 private:
  explicit CallService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace sb::signaling
