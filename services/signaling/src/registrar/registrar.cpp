#include "registrar/registrar.h"

#include <algorithm>
#include <chrono>
#include <variant>

#include "registrar/parked_events.h"
#include "switchboard/core/ascii.h"

namespace sb::signaling {
namespace {

int64_t SecondsLeft(WallTime expires_at, WallTime now) {
  return std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::seconds>(expires_at - now).count());
}

const Binding* Find(const std::vector<Binding>& bindings, std::string_view contact) {
  for (const auto& b : bindings) {
    if (SameContact(b.contact, contact)) return &b;
  }
  return nullptr;
}

}  // namespace

RegisterAnswer Answer(int code, std::string reason) {
  RegisterAnswer a{.code = code, .reason = std::move(reason), .headers = {}};
  if (code == 503) a.headers.emplace_back("Retry-After", "5");
  return a;
}

RegisterAnswer Answer(AuthRefusal refusal) {
  return {.code = refusal.code,
          .reason = std::move(refusal.reason),
          .headers = std::move(refusal.headers)};
}

RegisterAnswer Answer(AuthDecision decision) {
  return {.code = decision.code,
          .reason = std::move(decision.reason),
          .headers = std::move(decision.headers)};
}

std::string SourceText(const sip::Destination& source) {
  return core::AsciiLowered(sip::TransportName(source.transport)) + ":" + source.host + ":" +
         std::to_string(source.port);
}

std::vector<RegistrationChange> RegistrationChanges(const std::vector<Binding>& stored,
                                                    const std::vector<Binding>& next,
                                                    WallTime now) {
  std::vector<RegistrationChange> out;
  for (const auto& b : stored) {
    if (Find(next, b.contact) != nullptr && b.expires_at > now) continue;  // refreshed
    RegistrationChange c;
    c.kind = b.expires_at <= now ? RegistrationChange::Kind::kExpired
                                 : RegistrationChange::Kind::kUnregistered;
    c.contact = b.contact;
    c.source = b.source;
    if (c.kind == RegistrationChange::Kind::kExpired) c.lapsed_at = b.expires_at;
    out.push_back(std::move(c));
  }
  for (const auto& b : next) {
    const Binding* before = Find(stored, b.contact);
    if (before != nullptr && before->expires_at > now) continue;
    RegistrationChange c;
    c.kind = RegistrationChange::Kind::kRegistered;
    c.contact = b.contact;
    c.source = b.source;
    c.path = b.path;
    c.expires_seconds = static_cast<uint32_t>(SecondsLeft(b.expires_at, now));
    out.push_back(std::move(c));
  }
  return out;
}

Registrar::Registrar(RegistrarDeps deps, RegistrarPolicy policy)
    : deps_(deps),
      policy_(policy),
      ok_(deps.metrics.Counter("sb_signaling_register_total", "REGISTER answers",
                               {{"result", "ok"}})),
      challenged_(deps.metrics.Counter("sb_signaling_register_total", "REGISTER answers",
                                       {{"result", "challenged"}})),
      refused_(deps.metrics.Counter("sb_signaling_register_total", "REGISTER answers",
                                    {{"result", "refused"}})),
      unavailable_(deps.metrics.Counter("sb_signaling_register_total", "REGISTER answers",
                                        {{"result", "unavailable"}})),
      loop_challenges_(
          deps.metrics.Counter("sb_signaling_register_loop_challenges_total",
                               "REGISTERs challenged on the SIP loop, without Redis or a worker")),
      loop_handled_(deps.metrics.Counter(
          "sb_signaling_register_loop_total",
          "REGISTERs with credentials decided on the SIP loop through its own Redis connection")) {}

void Registrar::OnRequest(const IncomingRequest& request, SipEndpoint& endpoint) {
  if (request.key.empty()) return;
  if (HandleOnLoop(request, endpoint)) return;
  // The endpoint's copy is shared with the worker, not cloned: the endpoint reads it again only
  // to answer, which the job's completion comes before. (Not so for an INVITE, which a CANCEL
  // answers meanwhile.)
  std::shared_ptr<const sip::Message> message = request.shared;
  auto answer = std::make_shared<RegisterAnswer>();
  const sip::Destination source = request.source;
  const sip::Destination entry = endpoint.EntrySource(request);
  const std::string key = request.key;
  Status queued = deps_.offloader.Run(
      [this, message, answer, source, entry] { *answer = Handle(*message, source, entry); },
      [&endpoint, answer, key] { Send(endpoint, key, *answer); });
  if (!queued.ok()) {
    unavailable_.Inc();
    (void)endpoint.Respond(key, 503, "Service Unavailable", {{"Retry-After", "5"}});
  }
}

void Registrar::Send(SipEndpoint& endpoint, std::string_view key, const RegisterAnswer& answer) {
  if (answer.code == 401) {
    (void)endpoint.RespondStatelessly(key, answer.code, answer.reason, answer.headers);
  } else {
    (void)endpoint.Respond(key, answer.code, answer.reason, answer.headers);
  }
}

RegisterAnswer Registrar::Challenge(const sip::Message& request, const std::string& realm) const {
  auto d = deps_.auth.Challenge(request, realm);
  return {.code = d.code, .reason = d.reason, .headers = d.headers};
}

void Registrar::Count(const RegisterAnswer& answer) const {
  switch (answer.code) {
    case 200:
      ok_.Inc();
      break;
    case 401:
      challenged_.Inc();
      break;
    case 503:
      unavailable_.Inc();
      break;
    default:
      refused_.Inc();
  }
}

RegisterAnswer Registrar::Handle(const sip::Message& request, const sip::Destination& source,
                                 const sip::Destination& entry) {
  RegisterAnswer answer = Decide(request, source, entry);
  Count(answer);
  return answer;
}

RegisterAnswer Registrar::Decide(const sip::Message& request, const sip::Destination& source,
                                 const sip::Destination& entry) {
  const AuthGuard guard(deps_.ban, deps_.account_limit, deps_.log, &deps_.clear_sources);
  Admission admission(deps_.redis, guard, entry.host);
  // An answer found without Redis still yields to a refusal of the checks queued before it.
  auto after_checks = [&admission](RegisterAnswer answer) {
    if (auto refused = admission.Send()) return Answer(std::move(*refused));
    return answer;
  };

  const std::string realm = RealmOf(request);
  auto aor = AddressOfRecord(request);
  if (realm.empty() || !aor.ok()) {
    return after_checks(Answer(400, "Bad Request (To is not a SIP AOR)"));
  }
  auto domain = deps_.admin.CachedDomain(realm);
  if (!domain) {
    if (auto refused = admission.Send()) return Answer(std::move(*refused));
    domain = deps_.admin.Domain(realm);
  }
  if (!domain->ok()) {
    if (domain->status().code() == StatusCode::kNotFound) {
      return after_checks(Answer(404, "Not Found"));
    }
    return after_checks(Answer(503, "Service Unavailable"));
  }
  if ((*domain)->tenant_suspended) return after_checks(Answer(403, "Forbidden (tenant suspended)"));
  const TenantId tenant = (*domain)->tenant;

  auto presented = deps_.auth.FindCredentials(request, realm);
  if (!presented) return after_checks(Challenge(request, realm));
  admission.CountAccount(realm, presented->username);
  auto looked_up = deps_.admin.CachedCredentials(realm, presented->username);
  if (!looked_up) {
    if (auto refused = admission.Send()) return Answer(std::move(*refused));
    looked_up = deps_.admin.Credentials(realm, presented->username);
  }

  Queued queued = QueueChecks(admission, request, realm, *presented, *looked_up, tenant, *aor);
  if (auto refused = admission.Send()) return Answer(std::move(*refused));
  AuthDecision& decision = queued.decision;
  guard.Record(entry.host, decision.failure);
  if (!queued.stored_reply) return Answer(std::move(decision));

  auto stored = RedisBindingStore::LoadReply(admission.reply(*queued.stored_reply));
  if (!stored.ok()) return Answer(503, "Service Unavailable");
  return Store(request, source, entry, tenant, *aor, *stored, decision);
}

Registrar::Queued Registrar::QueueChecks(Admission& admission, const sip::Message& request,
                                         const std::string& realm,
                                         const sip::DigestCredentials& presented,
                                         const Result<ExtensionCredentials>& looked_up,
                                         const TenantId& tenant, const std::string& aor) const {
  // The credentials are checked here (with their nonce count, in memory); the AOR's bindings
  // travel with the guard's checks.
  Queued queued{.decision = deps_.auth.Verify(request, realm, presented, looked_up),
                .stored_reply = std::nullopt};
  if (queued.decision.authenticated()) {
    queued.stored_reply = admission.Queue(RedisBindingStore::LoadCommand(tenant, aor));
  }
  return queued;
}

RegisterAnswer Registrar::Store(const sip::Message& request, const sip::Destination& source,
                                const sip::Destination& entry, const TenantId& tenant,
                                const std::string& aor, const std::vector<Binding>& stored,
                                const AuthDecision& decision) {
  auto applied = Apply(request, source, stored);
  if (auto* refused = std::get_if<RegisterAnswer>(&applied)) return std::move(*refused);
  const Update& update = std::get<Update>(applied);
  auto events = Events(request, entry, tenant, aor, stored, update, decision);
  if (update.changed || !events.empty()) {
    Status saved = deps_.bindings.Save(tenant, aor, stored, update.next, Terms(events, update));
    if (!saved.ok()) return Unsaved(saved);
  }
  Publish(events);
  return Registered(source, tenant, aor, update);
}

std::variant<RegisterAnswer, Registrar::Update> Registrar::Apply(
    const sip::Message& request, const sip::Destination& source,
    const std::vector<Binding>& stored) const {
  const WallTime now = deps_.clock.WallNow();
  auto outcome = ApplyRegister(request, stored, now, policy_, SourceText(source));
  if (auto* error = std::get_if<RegisterError>(&outcome)) {
    return RegisterAnswer{.code = error->code, .reason = error->reason, .headers = error->headers};
  }
  auto& next = std::get<RegisterOutcome>(outcome);
  Update update{.next = std::move(next.bindings), .changed = next.changed, .path = {}, .now = now};

  // The contacts this request registered or refreshed carry its Path (RFC 3327 §5.3).
  for (std::string_view p : request.Values(sip::HeaderId::kPath)) update.path.emplace_back(p);
  auto call_id = request.CallId();
  auto cseq = request.GetCSeq();
  if (call_id.ok() && cseq.ok()) {
    for (auto& b : update.next) {
      if (b.call_id == *call_id && b.cseq == (*cseq)->number && b.path != update.path) {
        b.path = update.path;
        update.changed = true;
      }
    }
  }
  return update;
}

std::vector<bus::JsOutbound> Registrar::Events(const sip::Message& request,
                                               const sip::Destination& entry,
                                               const TenantId& tenant, const std::string& aor,
                                               const std::vector<Binding>& stored,
                                               const Update& update,
                                               const AuthDecision& decision) const {
  if (deps_.events == nullptr) return {};
  auto changes = RegistrationChanges(stored, update.next, update.now);
  if (changes.empty()) return {};
  auto user_agent = request.Header(sip::HeaderId::kUserAgent);
  for (auto& c : changes) {
    c.tenant = tenant;
    c.aor = aor;
    // The binding keeps the packet's source, which behind the balancer is the balancer (where
    // requests for the phone go); the event tells where the phone registered from.
    if (c.kind == RegistrationChange::Kind::kRegistered) c.source = SourceText(entry);
    c.extension_id = decision.credentials ? decision.credentials->extension_id : "";
    if (user_agent) c.user_agent = std::string(*user_agent);
  }
  auto call_id = request.CallId();
  auto messages = deps_.events->Messages(changes, call_id.ok() ? *call_id : "");
  if (!messages.ok()) {
    // The binding is stored all the same: the phone is registered whether or not its event can
    // be told.
    deps_.log.Warn("registration event not built", {{"error", messages.status().ToString()}});
    return {};
  }
  return std::move(*messages);
}

SaveTerms Registrar::Terms(const std::vector<bus::JsOutbound>& events, const Update& update) const {
  SaveTerms terms{.max_contacts = policy_.max_contacts, .now = update.now, .parked = {}};
  if (deps_.outbox != nullptr && !events.empty()) {
    terms.parked = deps_.outbox->ParkingOf(events, update.now);
  }
  return terms;
}

RegisterAnswer Registrar::Unsaved(const Status& saved) {
  // Phones of the AOR that registered meanwhile took the room this one's contact needed: what
  // ApplyRegister answers when it sees them.
  if (saved.code() == StatusCode::kResourceExhausted)
    return Answer(403, std::string(kTooManyContacts));
  return Answer(503, "Service Unavailable");
}

void Registrar::Publish(const std::vector<bus::JsOutbound>& events) const {
  if (events.empty()) return;
  // The binding is stored: the phone is registered whether or not the event got out, so a
  // publish failure is logged, not answered; a parked event is sent again by a sweep.
  Status published = PublishParked(*deps_.events, deps_.outbox, events);
  if (!published.ok()) {
    deps_.log.Warn(deps_.outbox != nullptr ? "registration event not published yet (parked)"
                                           : "registration event not published",
                   {{"error", published.ToString()}});
  }
}

RegisterAnswer Registrar::Registered(const sip::Destination& source, const TenantId& tenant,
                                     const std::string& aor, const Update& update) const {
  if (observer_ != nullptr) observer_->OnRegistered(tenant, aor, update.next, SourceText(source));
  RegisterAnswer answer{.code = 200, .reason = "OK", .headers = {}};
  for (auto& contact : ContactHeaders(update.next, update.now)) {
    answer.headers.emplace_back("Contact", std::move(contact));
  }
  for (const auto& p : update.path) answer.headers.emplace_back("Path", p);
  return answer;
}

Result<std::vector<Binding>> Registrar::Locate(const TenantId& tenant, std::string_view aor) const {
  auto stored = deps_.bindings.Load(tenant, aor);
  if (!stored.ok()) return stored.status();
  const WallTime now = deps_.clock.WallNow();
  std::vector<Binding> live;
  for (auto& b : *stored) {
    if (b.expires_at > now) live.push_back(std::move(b));
  }
  std::stable_sort(live.begin(), live.end(),
                   [](const Binding& a, const Binding& b) { return a.q_milli > b.q_milli; });
  return live;
}

}  // namespace sb::signaling
