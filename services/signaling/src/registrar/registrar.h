// Registrar: the REGISTER handler (RFC 3261 §10.3, RFC 3327 Path) and the location service the
// B2BUA asks where a user's phones are. For each REGISTER, off the SIP loop thread, answers in
// this order of precedence:
//
//   source banned (protection/auth_failure_ban.h)      -> 403
//   To domain -> tenant (admin lookup_domain)          -> 404 unknown, 403 suspended, 503 no answer
//   no credentials                                      -> 401 challenge
//   per-account limit                                  -> 503 + Retry-After
//   digest (auth/request_authenticator.h)              -> 401 (stale) challenge, 403, 400, 503
//   bindings.h rules against the stored bindings      -> 423 + Min-Expires, 400, 500 (CSeq order)
//   store (RedisBindingStore, with Path and source)    -> 503 when Redis fails, 403 when phones
//                                                         registering meanwhile took the AOR's
//                                                         last room for an added contact
//   200 with every live Contact (and Path echoed), registration events on JetStream.
//
// On the loop: a REGISTER with credentials whose domain and credentials are in the node's admin
// cache is decided on the SIP loop thread (registrar_loop.cpp) with the same steps, its two
// pipelines sent through the loop's own Redis connection (runtime/loop_redis.h), so it costs no
// worker and no thread hand-off; only what blocks besides Redis (a failure counted towards a ban,
// registration events to publish) is then handed to a worker before the answer. Anything else (a
// cache miss, no credentials for a source not known clear, ...) takes the worker path.
//
// Redis round trips: the ban check, the account's count, the nonce count and the stored bindings
// go in one pipeline (protection/admission.h) once the admin answers (cached) and the digest
// response are checked, and the new bindings in a second; when admin must be asked, what is
// queued before it goes first, so a banned source or a limited account never reaches admin.
//
//   sb::signaling::Registrar registrar({.clock = clock, .offloader = offloader, .admin = admin,
//                                       .auth = authenticator, .bindings = store, ...}, options);
//   endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
//   // B2BUA, off the loop thread: where does sip:1002@acme.sip.example ring?
//   auto phones = registrar.Locate(tenant, "sip:1002@acme.sip.example");  // highest q first
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "auth/request_authenticator.h"
#include "protection/admission.h"
#include "protection/auth_failure_ban.h"
#include "protection/auth_guard.h"
#include "protection/clear_sources.h"
#include "registrar/bindings.h"
#include "registrar/registration_observer.h"
#include "rpc/admin_lookups.h"
#include "rpc/registration_events.h"
#include "runtime/loop_redis.h"
#include "runtime/offloader.h"
#include "store/redis_binding_store.h"
#include "store/redis_event_outbox.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "transport/sip_endpoint.h"

namespace sb::signaling {

struct RegistrarDeps {
  const core::Clock& clock;
  Offloader& offloader;
  AdminLookups& admin;
  const RequestAuthenticator& auth;
  // The client of the bindings, the ban, the limit and the nonce counts: one pipeline carries
  // them all.
  redis::Client& redis;
  RedisBindingStore& bindings;
  AuthFailureBan* ban = nullptr;              // optional
  AccountRateLimit* account_limit = nullptr;  // optional
  RegistrationEvents* events = nullptr;       // optional
  // Where a REGISTER's events are parked with its bindings until JetStream has them; nullptr:
  // sent after the save only, so a replica killed in between loses them.
  RedisEventOutbox* outbox = nullptr;
  core::MetricsRegistry& metrics;
  const core::Logger& log;
  // Sources Redis found not banned lately (marked and forgotten by Handle's guard); the node's
  // call guard shares them, as bans are per source whatever the method.
  ClearSources& clear_sources;
  // The SIP loop's Redis connection (same server as `redis`); nullptr: every REGISTER with
  // credentials is handled by a worker.
  LoopRedis* loop_redis = nullptr;
};

// What a REGISTER is answered with.
struct RegisterAnswer {
  int code = 500;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
};
// A status line (a 503 gets Retry-After), a guard's refusal, an authentication's decision.
RegisterAnswer Answer(int code, std::string reason);
RegisterAnswer Answer(AuthRefusal refusal);
RegisterAnswer Answer(AuthDecision decision);

// The registration events between an AOR's stored bindings and its new ones: contacts that
// appeared (registered), that the request removed (unregistered) and that had expired before it
// (expired). A refresh of a live contact is no event.
std::vector<RegistrationChange> RegistrationChanges(const std::vector<Binding>& stored,
                                                    const std::vector<Binding>& next, WallTime now);

class Registrar final : public RequestHandler {
 public:
  Registrar(RegistrarDeps deps, RegistrarPolicy policy);

  void OnRequest(const IncomingRequest& request, SipEndpoint& endpoint) override;

  // The whole decision for one REGISTER from `source`, which entered the deployment at `entry`
  // (SipEndpoint::EntrySource: what the ban and the guard go by, and the source its registration
  // events tell); blocks on admin, Redis and JetStream (a worker thread calls it).
  RegisterAnswer Handle(const sip::Message& request, const sip::Destination& source,
                        const sip::Destination& entry);

  // Live bindings of (tenant, aor), highest q first. Blocks on Redis.
  Result<std::vector<Binding>> Locate(const TenantId& tenant, std::string_view aor) const;

  // Told about every stored REGISTER (borrowed; nullptr: none). Set it before the registrar
  // handles requests.
  void SetObserver(RegistrationObserver* observer) { observer_ = observer; }

 private:
  // Handle's answer, before it is counted in the metrics.
  RegisterAnswer Decide(const sip::Message& request, const sip::Destination& source,
                        const sip::Destination& entry);
  // The 200 (or the bindings rules' refusal) for an authenticated REGISTER.
  RegisterAnswer Store(const sip::Message& request, const sip::Destination& source,
                       const sip::Destination& entry, const TenantId& tenant,
                       const std::string& aor, const std::vector<Binding>& stored,
                       const AuthDecision& decision);
  // Store's steps: the bindings rules (an answer: their refusal), the events of the change, and
  // the 200 once saved (which tells the observer).
  struct Update {
    std::vector<Binding> next;
    bool changed = false;
    std::vector<std::string> path;
    WallTime now;
  };
  std::variant<RegisterAnswer, Update> Apply(const sip::Message& request,
                                             const sip::Destination& source,
                                             const std::vector<Binding>& stored) const;
  // The events of the change from `stored` to `update` (none without RegistrarDeps::events);
  // contacts registered are told as registered from `entry`.
  std::vector<bus::JsOutbound> Events(const sip::Message& request, const sip::Destination& entry,
                                      const TenantId& tenant, const std::string& aor,
                                      const std::vector<Binding>& stored, const Update& update,
                                      const AuthDecision& decision) const;
  // What the save of `update` checks (the AOR's limit) and parks with it: `events` (none without
  // RegistrarDeps::outbox).
  SaveTerms Terms(const std::vector<bus::JsOutbound>& events, const Update& update) const;
  // The answer to a REGISTER whose save failed.
  static RegisterAnswer Unsaved(const Status& saved);
  // Sends them, then unparks the acknowledged ones; blocks on JetStream and Redis.
  void Publish(const std::vector<bus::JsOutbound>& events) const;
  RegisterAnswer Registered(const sip::Destination& source, const TenantId& tenant,
                            const std::string& aor, const Update& update) const;

  // What the loop thread answers without blocking, the admin answers being cached: a REGISTER
  // without credentials from a source Redis found not banned moments ago gets its 401
  // (protection/clear_sources.h); one with credentials takes Handle's steps with its pipelines on
  // the loop's Redis connection. False: the worker path must take the request.
  bool HandleOnLoop(const IncomingRequest& request, SipEndpoint& endpoint);
  // Checks the credentials (spending their nonce count when they are right) and, when they
  // authenticate, queues the AOR's bindings on `admission` after the account's count
  // (`stored_reply`, its index).
  struct Queued {
    AuthDecision decision;
    std::optional<size_t> stored_reply;  // set when authenticated
  };
  Queued QueueChecks(Admission& admission, const sip::Message& request, const std::string& realm,
                     const sip::DigestCredentials& presented,
                     const Result<ExtensionCredentials>& looked_up, const TenantId& tenant,
                     const std::string& aor) const;
  struct LoopRegister;
  void StoreOnLoop(std::shared_ptr<LoopRegister> state, std::vector<Binding> stored,
                   AuthDecision decision);
  // Counts and sends the answer of a request handled on the loop.
  void Finish(const LoopRegister& state, const RegisterAnswer& answer) const;
  // A 401 is a challenge and goes out statelessly (RFC 3261 §26.3.2.4); the rest through the
  // transaction.
  static void Send(SipEndpoint& endpoint, std::string_view key, const RegisterAnswer& answer);
  void Count(const RegisterAnswer& answer) const;
  RegisterAnswer Challenge(const sip::Message& request, const std::string& realm) const;

  RegistrarDeps deps_;
  RegistrarPolicy policy_;
  RegistrationObserver* observer_ = nullptr;
  core::CounterMetric& ok_;
  core::CounterMetric& challenged_;
  core::CounterMetric& refused_;
  core::CounterMetric& unavailable_;
  core::CounterMetric& loop_challenges_;
  core::CounterMetric& loop_handled_;
};

// "udp:192.0.2.7:40112"
std::string SourceText(const sip::Destination& source);

}  // namespace sb::signaling
