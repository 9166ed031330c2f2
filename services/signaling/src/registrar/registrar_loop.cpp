// The REGISTER path on the SIP loop thread: the challenge of a request without credentials, and
// Decide's steps for one with them, when the admin answers are in the node's cache; pipelines go
// on the loop's Redis connection and the answer from their callbacks. Same precedence, answers,
// metrics and events as the worker path.
#include <utility>

#include "registrar/registrar.h"

namespace sb::signaling {

// What a REGISTER handled on the loop keeps between its pipelines.
struct Registrar::LoopRegister {
  LoopRegister(Registrar& registrar, const IncomingRequest& incoming, SipEndpoint& sip_endpoint)
      : shared(incoming.shared),
        message(*shared),
        source(incoming.source),
        entry(sip_endpoint.EntrySource(incoming)),
        key(incoming.key),
        endpoint(sip_endpoint),
        guard(registrar.deps_.ban, registrar.deps_.account_limit, registrar.deps_.log,
              &registrar.deps_.clear_sources),
        admission(registrar.deps_.redis, guard, entry.host) {}

  // The endpoint's own copy: it reads it again only to answer, after this is done with it.
  const std::shared_ptr<const sip::Message> shared;
  const sip::Message& message;
  const sip::Destination source;
  const sip::Destination entry;  // what the ban goes by (SipEndpoint::EntrySource)
  const std::string key;
  SipEndpoint& endpoint;
  const AuthGuard guard;
  Admission admission;  // refers to guard
  std::string realm;
  TenantId tenant;
  std::string aor;
  std::optional<Queued> queued;
};

bool Registrar::HandleOnLoop(const IncomingRequest& request, SipEndpoint& endpoint) {
  const sip::Message& message = *request.message;
  const std::string realm = RealmOf(message);
  auto aor = AddressOfRecord(message);
  if (realm.empty() || !aor.ok()) return false;
  auto domain = deps_.admin.CachedDomain(realm);
  if (!domain || !domain->ok() || (*domain)->tenant_suspended) return false;
  auto presented = deps_.auth.FindCredentials(message, realm);
  if (!presented) {
    // What Decide answers too, once Redis has said the source is not banned.
    if (!deps_.clear_sources.IsKnownClear(endpoint.EntrySource(request).host)) return false;
    loop_challenges_.Inc();
    challenged_.Inc();
    Send(endpoint, request.key, Challenge(message, realm));
    return true;
  }
  if (deps_.loop_redis == nullptr) return false;
  auto looked_up = deps_.admin.CachedCredentials(realm, presented->username);
  if (!looked_up) return false;

  loop_handled_.Inc();
  auto state = std::make_shared<LoopRegister>(*this, request, endpoint);
  state->realm = realm;
  state->tenant = (*domain)->tenant;
  state->aor = std::move(*aor);
  state->admission.CountAccount(realm, presented->username);
  state->queued = QueueChecks(state->admission, state->message, realm, *presented, *looked_up,
                              state->tenant, state->aor);
  LoopRedis& redis = *deps_.loop_redis;
  state->admission.SendAsync(
      [&redis](std::vector<redis::Command> commands, redis::LoopConnection::Callback done) {
        redis.Send(std::move(commands), std::move(done));
      },
      [this, state](std::optional<AuthRefusal> refused) {
        if (refused) return Finish(*state, Answer(std::move(*refused)));
        AuthDecision& decision = state->queued->decision;
        if (decision.failure) {
          // Counting a failure towards the source's ban blocks on Redis: a worker does it, and
          // the answer waits for it as on the worker path.
          auto answer = std::make_shared<RegisterAnswer>(Answer(std::move(decision)));
          Status queued =
              deps_.offloader.Run([state] { state->guard.Record(state->entry.host, true); },
                                  [this, state, answer] { Finish(*state, *answer); });
          if (!queued.ok()) Finish(*state, Answer(503, "Service Unavailable"));
          return;
        }
        if (!state->queued->stored_reply) return Finish(*state, Answer(std::move(decision)));
        auto stored =
            RedisBindingStore::LoadReply(state->admission.reply(*state->queued->stored_reply));
        if (!stored.ok()) return Finish(*state, Answer(503, "Service Unavailable"));
        StoreOnLoop(state, std::move(*stored), std::move(decision));
      });
  return true;
}

void Registrar::StoreOnLoop(std::shared_ptr<LoopRegister> state, std::vector<Binding> stored,
                            AuthDecision decision) {
  auto applied = Apply(state->message, state->source, stored);
  if (auto* refused = std::get_if<RegisterAnswer>(&applied)) return Finish(*state, *refused);
  auto update = std::make_shared<Update>(std::move(std::get<Update>(applied)));
  auto events = std::make_shared<std::vector<bus::JsOutbound>>(
      Events(state->message, state->entry, state->tenant, state->aor, stored, *update, decision));
  // After the save: publishing the events blocks on JetStream, so a worker does it when there
  // are any (a refresh has none) and the 200 follows, as on the worker path.
  auto registered = [this, state, update, events] {
    if (events->empty())
      return Finish(*state, Registered(state->source, state->tenant, state->aor, *update));
    Status queued = deps_.offloader.Run(
        [this, events] { Publish(*events); },
        [this, state, update] {
          Finish(*state, Registered(state->source, state->tenant, state->aor, *update));
        });
    if (!queued.ok()) Finish(*state, Answer(503, "Service Unavailable"));
  };
  if (!update->changed && events->empty()) return registered();
  deps_.loop_redis->Send(RedisBindingStore::SaveCommands(state->tenant, state->aor, stored,
                                                         update->next, Terms(*events, *update)),
                         [this, state, registered](Result<std::vector<redis::Reply>> replies) {
                           Status saved = RedisBindingStore::SaveReply(replies);
                           if (!saved.ok()) return Finish(*state, Unsaved(saved));
                           registered();
                         });
}

void Registrar::Finish(const LoopRegister& state, const RegisterAnswer& answer) const {
  Count(answer);
  Send(state.endpoint, state.key, answer);
}

}  // namespace sb::signaling
