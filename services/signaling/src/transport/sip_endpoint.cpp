#include "transport/sip_endpoint.h"

#include <strings.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "switchboard/sip/framer.h"
#include "switchboard/sip/headers.h"
#include "switchboard/sip/session_timer.h"

namespace sb::signaling {
namespace {

constexpr std::string_view kBranchPrefix = "z9hG4bK-sb";

uint64_t Fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // A separator so that ("ab","c") and ("a","bc") hash differently.
  h ^= 0xff;
  h *= 1099511628211ull;
  return h;
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Methods whose requests this node answers itself rather than forwards: Max-Forwards 0 is no
// reason to refuse them (§16.3 item 3 concerns forwarding; §11 lets OPTIONS be answered).
bool AnsweredLocally(sip::Method method) {
  return method == sip::Method::kOptions || method == sip::Method::kRegister;
}

// RFC 3261 §8.2.3 for a new INVITE, whose offer and answer are SDP: 415 when its body is of a
// type the B2BUA cannot read (multipart is left to the handler: carriers put SDP in one part),
// 406 when its Accept rules out the SDP of our answer; 0 when the exchange can go on.
int ContentRefusal(const sip::Message& invite) {
  if (!invite.body().empty()) {
    auto type = invite.ContentType();
    if (type.ok() && type->has_value()) {
      const sip::MediaType& body = **type;
      const bool multipart =
          body.type.size() == 9 && strncasecmp(body.type.data(), "multipart", 9) == 0;
      if (!multipart && !body.Is("application", "sdp")) return 415;
    }
  }
  if (!invite.Header(sip::HeaderId::kAccept)) return 0;
  for (std::string_view value : invite.Values(sip::HeaderId::kAccept)) {
    auto accepted = sip::ParseMediaType(value);
    if (!accepted.ok()) continue;
    if (accepted->Is("application", "sdp") || accepted->Is("application", "*") ||
        accepted->Is("*", "*")) {
      return 0;
    }
  }
  return 406;
}

}  // namespace

std::string LoopHash(std::string_view request_uri, std::string_view call_id,
                     std::string_view from_tag, uint32_t cseq) {
  uint64_t h = 14695981039346656037ull;
  h = Fnv1a(h, request_uri);
  h = Fnv1a(h, call_id);
  h = Fnv1a(h, from_tag);
  h = Fnv1a(h, std::to_string(cseq));
  return Hex64(h);
}

SipEndpoint::SipEndpoint(const core::Clock& clock, core::MetricsRegistry& metrics,
                         EndpointConfig config)
    : clock_(clock),
      config_(std::move(config)),
      tm_(clock, config_.timers, config_.max_transactions),
      rng_(config_.seed != 0 ? config_.seed : std::random_device{}()),
      limiter_(clock, config_.source_limits),
      retransmit_(clock, config_.timers),
      reliable_(clock, config_.timers, [this] { return static_cast<uint32_t>(rng_()); }),
      received_(metrics.Counter("sb_signaling_messages_received_total",
                                "SIP messages handed to the endpoint")),
      rate_limited_(metrics.Counter("sb_signaling_rate_limited_total",
                                    "messages dropped by the per-source rate limit")),
      keepalives_(metrics.Counter("sb_signaling_keepalives_received_total",
                                  "CRLF keep-alive datagrams ignored")),
      too_large_(metrics.Counter("sb_signaling_rejected_total", "requests refused before a handler",
                                 {{"reason", "too_large"}})),
      loops_(metrics.Counter("sb_signaling_rejected_total", "requests refused before a handler",
                             {{"reason", "loop"}})),
      unsupported_content_(metrics.Counter("sb_signaling_rejected_total",
                                           "requests refused before a handler",
                                           {{"reason", "unsupported_content"}})),
      too_many_hops_(metrics.Counter("sb_signaling_rejected_total",
                                     "requests refused before a handler",
                                     {{"reason", "max_forwards"}})),
      not_implemented_(metrics.Counter("sb_signaling_rejected_total",
                                       "requests refused before a handler",
                                       {{"reason", "not_implemented"}})),
      transactions_full_(metrics.Counter("sb_signaling_rejected_total",
                                         "requests refused before a handler",
                                         {{"reason", "transactions_full"}})) {}

void SipEndpoint::SetHandler(sip::Method method, RequestHandler* handler) {
  if (handler == nullptr) {
    handlers_.erase(method);
  } else {
    handlers_[method] = handler;
  }
}

std::vector<sip::action::Send> SipEndpoint::TakeSends() { return std::exchange(sends_, {}); }

void SipEndpoint::Append(sip::TransactionOutput out) {
  if (out.refused_full) transactions_full_.Inc();
  for (auto& send : out.sends) sends_.push_back(std::move(send));
  for (auto& event : out.events) Dispatch(std::move(event));
  // A forked INVITE's client stays past its first 2xx (Timer M) and goes when its transaction
  // does; the others went when their final response or timeout was dispatched above.
  for (const auto& key : out.ended) clients_.erase(key);
}

sip::Destination SipEndpoint::EntrySource(const sip::Message& request,
                                          const sip::Destination& source) const {
  if (config_.trusted_proxies.empty()) return source;
  return sip::EntrySource(request, source, [this](std::string_view host) {
    return core::Cidr::AnyContains(config_.trusted_proxies, host);
  });
}

void SipEndpoint::OnReceived(std::string_view bytes, const sip::Destination& source) {
  received_.Inc();
  if (!limiter_.Allow(source.host)) {
    rate_limited_.Inc();
    return;
  }
  if (sip::IsKeepAlive(bytes)) {
    // A phone keeping its NAT mapping open (CRLF over UDP): nothing to parse or answer.
    keepalives_.Inc();
    return;
  }
  if (bytes.size() > config_.limits.max_message_bytes) {
    // The transaction layer parses with the library's limits; ours may be tighter. Parsing with
    // ours yields the 513 the message layer builds from whatever headers it could read.
    too_large_.Inc();
    sip::ParseOptions options;
    options.limits = config_.limits;
    options.framing =
        sip::IsReliable(source.transport) ? sip::Framing::kStream : sip::Framing::kDatagram;
    auto parsed = sip::Message::Parse(bytes, options);
    if (!parsed.ok() && !parsed.error().response.empty()) {
      sends_.push_back({parsed.error().response, source});
    }
    return;
  }
  Append(tm_.OnReceived(bytes, source));
}

void SipEndpoint::OnTimers() {
  Append(tm_.OnTimers());
  auto out = retransmit_.OnTimers();
  for (auto& send : out.sends) sends_.push_back(std::move(send));
  for (const auto& id : out.gave_up) {
    if (dialog_handler_ != nullptr) dialog_handler_->OnAckTimeout(id, *this);
  }
  auto reliable = reliable_.OnTimers();
  for (auto& send : reliable.sends) sends_.push_back(std::move(send));
  for (const auto& gave_up : reliable.gave_up) OnPrackTimeout(gave_up.dialog);
  // Due timers are taken out first: a firing timer may start or stop others.
  const auto now = clock_.Now();
  std::vector<std::function<void()>> due;
  while (!tu_deadlines_.empty() && tu_deadlines_.begin()->first <= now) {
    auto timer = tu_timers_.find(tu_deadlines_.begin()->second);
    tu_deadlines_.erase(tu_deadlines_.begin());
    due.push_back(std::move(timer->second.fire));
    tu_timers_.erase(timer);
  }
  for (auto& fire : due) fire();
}

void SipEndpoint::StopTimer(uint64_t id) {
  auto timer = tu_timers_.find(id);
  if (timer == tu_timers_.end()) return;
  tu_deadlines_.erase(timer->second.deadline);
  tu_timers_.erase(timer);
}

uint64_t SipEndpoint::StartTimer(std::chrono::milliseconds after, std::function<void()> fire) {
  uint64_t id = next_timer_id_++;
  auto deadline = tu_deadlines_.emplace(clock_.Now() + after, id);
  tu_timers_.emplace(id, TuTimer{deadline, std::move(fire)});
  return id;
}

std::optional<core::Clock::TimePoint> SipEndpoint::NextDeadline() const {
  std::optional<core::Clock::TimePoint> next = tm_.NextDeadline();
  auto earliest = [&next](std::optional<core::Clock::TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  earliest(retransmit_.NextDeadline());
  earliest(reliable_.NextDeadline());
  if (!tu_deadlines_.empty()) earliest(tu_deadlines_.begin()->first);
  return next;
}

void SipEndpoint::Dispatch(sip::TuEvent event) {
  switch (event.kind) {
    case sip::TuEvent::Kind::kResponse:
    case sip::TuEvent::Kind::kTimeout:
      OnClientResponse(std::move(event));
      return;
    case sip::TuEvent::Kind::kStray2xx:
      if (event.message) OnStray2xx(*event.message);
      return;
    case sip::TuEvent::Kind::kRequest:
      break;
  }
  if (!event.message) return;
  if (!event.cancels.empty()) {
    // §9.2: the CANCEL itself is answered 200; the INVITE it matched, if still unanswered, 487.
    pending_.emplace(event.key, Pending{std::move(event.message), NewTag(), event.peer});
    (void)Respond(event.key, 200);
    auto invite = pending_.find(event.cancels);
    if (invite == pending_.end()) return;
    const sip::Method method = invite->second.request->method();
    if (!Respond(event.cancels, 487).ok()) return;
    if (auto it = handlers_.find(method); it != handlers_.end()) {
      it->second->OnCancelled(event.cancels, *this);
    }
    return;
  }
  auto to = event.message->To();
  // REGISTER never belongs to a dialog (§10.2), even when a phone echoes the To tag of its last
  // 200 in a refresh: it stays with the registrar.
  if (to.ok() && !(*to)->tag().empty() && event.message->method() != sip::Method::kRegister) {
    OnDialogRequest(std::move(event.key), std::move(event.message), event.peer);
    return;
  }
  OnNewRequest(std::move(event.key), std::move(event.message), event.peer);
}

void SipEndpoint::OnDialogRequest(std::string key, std::shared_ptr<sip::Message> owned,
                                  const sip::Destination& source) {
  sip::Message& request = *owned;  // stays where it is when `owned` moves into pending_
  const bool is_ack = request.method() == sip::Method::kAck;
  if (is_ack) (void)retransmit_.OnAck(request);
  if (request.method() == sip::Method::kPrack) {
    OnPrack(std::move(key), std::move(owned), source);
    return;
  }
  std::optional<sip::DialogId> id;
  if (sip::Dialog* dialog = dialogs_.Match(request)) {
    id = dialog->id();
    if (!is_ack) {
      sip::RequestCheck check = dialog->OnRequest(request);
      if (check.reject_code != 0) {
        pending_.emplace(key, Pending{std::move(owned), NewTag(), source});
        (void)Respond(key, check.reject_code, check.reason);
        return;
      }
    }
  }
  if (dialog_handler_ == nullptr) {
    if (is_ack) {
      if (auto it = handlers_.find(sip::Method::kAck); it != handlers_.end()) {
        it->second->OnRequest({std::string(), &request, source, {}, id, owned}, *this);
      }
      return;
    }
    // §12.2.2: a request for a dialog nobody here knows.
    pending_.emplace(key, Pending{std::move(owned), NewTag(), source});
    (void)Respond(key, 481);
    return;
  }
  if (is_ack) {
    dialog_handler_->OnDialogRequest({std::string(), &request, source, {}, id, owned}, *this);
    return;
  }
  // In-dialog requests keep the To tag they came with; Respond copies it.
  auto [it, inserted] = pending_.emplace(key, Pending{std::move(owned), std::string(), source});
  if (!inserted) return;
  const sip::Message& req = *it->second.request;
  auto to = req.To();
  std::string tag = to.ok() ? std::string((*to)->tag()) : std::string();
  dialog_handler_->OnDialogRequest({key, &req, source, tag, id, it->second.request}, *this);
}

void SipEndpoint::OnNewRequest(std::string key, std::shared_ptr<sip::Message> owned,
                               const sip::Destination& source) {
  sip::Message& request = *owned;
  const sip::Method method = request.method();
  if (key.empty()) {
    // An ACK for a 2xx: it has no transaction and never gets a response.
    if (auto it = handlers_.find(method); it != handlers_.end()) {
      it->second->OnRequest({std::string(), &request, source, {}, std::nullopt, owned}, *this);
    }
    return;
  }
  if (method == sip::Method::kAck) return;
  auto [pending, inserted] = pending_.emplace(key, Pending{std::move(owned), NewTag(), source});
  if (!inserted) return;  // the transaction layer passes each new request once
  const sip::Message& req = *pending->second.request;

  auto max_forwards = req.MaxForwards();
  if (max_forwards.ok() && max_forwards->has_value() && **max_forwards == 0 &&
      !AnsweredLocally(method)) {
    too_many_hops_.Inc();
    (void)Respond(key, 483);
    return;
  }
  if (IsLoop(req)) {
    loops_.Inc();
    (void)Respond(key, 482);
    return;
  }
  if (method != sip::Method::kCancel) {
    std::vector<std::string_view> required = req.Tokens(sip::HeaderId::kRequire);
    std::string unsupported;
    for (std::string_view tag : required) {
      // RFC 3262: reliable provisionals are the endpoint's job for every INVITE handler.
      if (method == sip::Method::kInvite && tag == sip::kOption100rel) continue;
      // RFC 4028: session timers are the B2BUA's, on the requests that set or refresh them.
      if ((method == sip::Method::kInvite || method == sip::Method::kUpdate) &&
          tag == sip::kOptionTimer) {
        continue;
      }
      if (!unsupported.empty()) unsupported += ", ";
      unsupported += tag;
    }
    if (!unsupported.empty()) {
      (void)Respond(key, 420, {}, {{"Unsupported", unsupported}});
      return;
    }
  }
  // Before the handler spends an authentication round trip on a call that cannot be set up.
  if (method == sip::Method::kInvite) {
    if (int refusal = ContentRefusal(req); refusal != 0) {
      unsupported_content_.Inc();
      (void)Respond(key, refusal, {}, {{"Accept", "application/sdp"}});
      return;
    }
  }
  // Requests with a To tag never get here (OnDialogRequest): every INVITE here is a new call.
  if (draining() && (method == sip::Method::kOptions || method == sip::Method::kInvite)) {
    (void)Respond(key, 503, "Draining", {{"Retry-After", "30"}});
    return;
  }
  if (auto it = handlers_.find(method); it != handlers_.end()) {
    it->second->OnRequest(
        {key, &req, source, pending->second.to_tag, std::nullopt, pending->second.request}, *this);
    return;
  }
  if (method == sip::Method::kOptions) {
    (void)Respond(key, 200, {}, {{"Allow", AllowHeader()}, {"Accept", "application/sdp"}});
    return;
  }
  not_implemented_.Inc();
  (void)Respond(key, 501, {}, {{"Allow", AllowHeader()}});
}

bool SipEndpoint::IsLoop(const sip::Message& request) const {
  std::optional<std::string> hash;
  for (std::string_view value : request.Values(sip::HeaderId::kVia)) {
    auto via = sip::ParseVia(value);
    if (!via.ok()) continue;
    uint16_t port = via->port != 0 ? via->port : 5060;
    std::string_view branch = via->branch();
    if (via->host != config_.advertised_host || port != config_.advertised_port ||
        branch.substr(0, kBranchPrefix.size()) != kBranchPrefix) {
      continue;
    }
    if (!hash) {
      auto from = request.From();
      auto cseq = request.GetCSeq();
      auto call_id = request.CallId();
      if (!from.ok() || !cseq.ok() || !call_id.ok()) return false;
      hash = LoopHash(request.request_uri_text(), *call_id, (*from)->tag(), (*cseq)->number);
    }
    size_t dash = branch.rfind('-');
    // A different hash is a spiral (the request was retargeted on its way back), not a loop.
    if (dash != std::string_view::npos && branch.substr(dash + 1) == *hash) return true;
  }
  return false;
}

std::string SipEndpoint::AllowHeader() const {
  std::string allow = "OPTIONS";
  for (const auto& [method, handler] : handlers_) {
    if (method == sip::Method::kOptions) continue;
    allow += ", ";
    allow += sip::MethodName(method);
  }
  return allow;
}

Status SipEndpoint::Respond(std::string_view key, int code, std::string_view reason,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::string_view body, std::string_view content_type) {
  auto it = pending_.find(key);
  if (it == pending_.end())
    return Status::NotFound("no unanswered transaction " + std::string(key));
  const sip::Message& request = *it->second.request;
  const bool invite = request.method() == sip::Method::kInvite;
  // RFC 3262 §3: the caller requires reliable provisionals.
  const bool rel100 = invite && sip::Rel100Of(request) == sip::Rel100::kRequired;
  const bool reliable = rel100 && code > 100 && code < 300;
  std::optional<sip::DialogId> uas_dialog;
  uint32_t invite_cseq = 0;
  if (rel100) {
    auto call_id = request.CallId();
    auto from = request.From();
    auto cseq = request.GetCSeq();
    if (call_id.ok() && from.ok() && cseq.ok()) {
      uas_dialog =
          sip::DialogId{std::string(*call_id), it->second.to_tag, std::string((*from)->tag())};
      invite_cseq = (*cseq)->number;
    }
  }
  auto hold = [&] {
    held_[std::string(key)].push_back(
        {code, std::string(reason), headers, std::string(body), std::string(content_type)});
    return Status::Ok();
  };
  // Held responses go out in order: nothing overtakes them.
  if (reliable && held_.count(key)) return hold();
  if (reliable && code >= 200 && uas_dialog && reliable_.Blocks2xx(*uas_dialog, invite_cseq)) {
    return hold();
  }
  sip::MessageBuilder response =
      sip::MakeResponse(request, code, reason, code == 100 ? "" : it->second.to_tag);
  const bool dialog_response = invite && code > 100 && code < 300;
  if (dialog_response) {
    // §12.1.1: copied in order, so that the caller's ACK, BYE and re-INVITEs come back through
    // the proxies that asked (the balancer in front of the replicas), not straight to Contact.
    for (std::string_view route : request.Values(sip::HeaderId::kRecordRoute)) {
      response.AddHeader("Record-Route", route);
    }
  }
  bool has_contact = false;
  for (const auto& [name, value] : headers) {
    response.AddHeader(name, value);
    if (sip::HeaderIdFromName(name) == sip::HeaderId::kContact) has_contact = true;
  }
  if (dialog_response && !has_contact) {
    // Appended, not `"<" + ...`: GCC 12 warns (-Wrestrict) on that inlined insert.
    std::string contact = "<";
    contact += ContactUri(it->second.source.transport);
    contact += '>';
    response.AddHeader("Contact", contact);
  }
  if (!body.empty()) response.SetBody(body, content_type);
  sip::TransactionOutput out;
  Status sent = Status::Ok();
  if (!dialog_response) {
    // Nothing here reads this response again: it goes out as built, without a parse.
    sent = tm_.SendResponse(key, code, response.Build(), out);
  } else {
    sip::ParseOptions lenient;
    lenient.validate = false;
    Result<sip::Message> built = Status::Internal("not built");
    if (reliable && code < 200 && uas_dialog) {
      built = reliable_.Prepare(std::move(response),
                                sip::ResponseDestination(request, it->second.source));
      if (!built.ok() && built.status().code() == StatusCode::kFailedPrecondition) return hold();
      if (!built.ok()) return built.status();
      reliable_invites_[*uas_dialog] = std::string(key);
    } else {
      auto message = response.BuildMessage(lenient);
      if (!message.ok()) {
        return Status::Internal("response does not parse: " + message.error().ToString());
      }
      built = std::move(*message);
    }
    sent = tm_.SendResponse(key, *built, out);
    if (sent.ok()) {
      CreateUasDialog(it->second, code);
      if (code >= 200) {
        // The first copy went out through the transaction; the retransmitter only repeats it.
        (void)retransmit_.Start(*built, sip::ResponseDestination(request, it->second.source));
      }
    }
  }
  if (code >= 200) {
    if (uas_dialog) {
      reliable_.Finish(*uas_dialog, invite_cseq);
      reliable_invites_.erase(*uas_dialog);
    }
    if (auto held = held_.find(key); held != held_.end()) held_.erase(held);
    pending_.erase(it);
  }
  Append(std::move(out));
  return sent;
}

Status SipEndpoint::RespondStatelessly(
    std::string_view key, int code, std::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto it = pending_.find(key);
  if (it == pending_.end())
    return Status::NotFound("no unanswered transaction " + std::string(key));
  if (it->second.request->method() == sip::Method::kInvite || code < 200) {
    return Status::FailedPrecondition("only a non-INVITE request's final response is stateless");
  }
  sip::MessageBuilder response =
      sip::MakeResponse(*it->second.request, code, reason, it->second.to_tag);
  for (const auto& [name, value] : headers) response.AddHeader(name, value);
  sip::TransactionOutput out;
  Status sent = tm_.SendStatelessResponse(key, code, response.Build(), out);
  pending_.erase(it);
  Append(std::move(out));
  return sent;
}

void SipEndpoint::OnPrack(std::string key, std::shared_ptr<sip::Message> owned,
                          const sip::Destination& source) {
  // In-dialog requests keep the To tag they came with; Respond copies it.
  auto [it, inserted] = pending_.emplace(key, Pending{std::move(owned), std::string(), source});
  if (!inserted) return;
  sip::ReliableProvisionalSender::PrackAnswer answer = reliable_.OnPrack(*it->second.request);
  (void)Respond(key, answer.status_code, answer.reason);
  if (answer.status_code == 200 && answer.dialog) ReleaseHeld(*answer.dialog);
}

void SipEndpoint::ReleaseHeld(const sip::DialogId& dialog) {
  auto invite = reliable_invites_.find(dialog);
  if (invite == reliable_invites_.end()) return;
  const std::string key = invite->second;
  auto held = held_.find(key);
  if (held == held_.end()) return;
  std::vector<Held> responses = std::move(held->second);
  held_.erase(held);
  // Each goes through Respond again: the next reliable 1xx is sent and those after it held.
  for (const auto& r : responses) {
    (void)Respond(key, r.code, r.reason, r.headers, r.body, r.content_type);
  }
}

void SipEndpoint::OnPrackTimeout(const sip::DialogId& dialog) {
  auto invite = reliable_invites_.find(dialog);
  if (invite == reliable_invites_.end()) return;
  const std::string key = invite->second;
  // RFC 3262 §3: the UAS SHOULD reject the original request with a 5xx.
  if (!Respond(key, 500, "Provisional Response Not Acknowledged").ok()) return;
  if (auto handler = handlers_.find(sip::Method::kInvite); handler != handlers_.end()) {
    handler->second->OnPrackTimeout(key, *this);
  }
}

std::string SipEndpoint::NewTag() { return Hex64(rng_()).substr(0, 12); }

std::string SipEndpoint::NewBranch(std::string_view request_uri, std::string_view call_id,
                                   std::string_view from_tag, uint32_t cseq) {
  return std::string(kBranchPrefix) + Hex64(rng_()) + "-" +
         LoopHash(request_uri, call_id, from_tag, cseq);
}

}  // namespace sb::signaling
