// SipEndpoint as a user agent core: client transactions and their responses, CANCEL, ACK for
// 2xx, forks, dialogs on both sides and requests inside them (RFC 3261 §8.1, §9.1, §12, §13).
#include <algorithm>
#include <utility>

#include "switchboard/sip/headers.h"
#include "transport/sip_endpoint.h"

namespace sb::signaling {
namespace {

sip::ParseOptions Lenient() {
  sip::ParseOptions options;
  options.validate = false;
  return options;
}

}  // namespace

std::string SipEndpoint::ContactUri(sip::Transport transport) const {
  std::string uri =
      "sip:" + config_.advertised_host + ":" + std::to_string(config_.advertised_port);
  if (transport == sip::Transport::kTcp) uri += ";transport=tcp";
  return uri;
}

const sip::Dialog* SipEndpoint::FindDialog(const sip::DialogId& id) { return dialogs_.Find(id); }

std::optional<sip::Destination> SipEndpoint::DialogPeer(const sip::DialogId& id) const {
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  return it->second;
}

std::optional<sip::Destination> SipEndpoint::DialogEntry(const sip::DialogId& id) const {
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void SipEndpoint::SetDialogEntry(const sip::DialogId& id, const sip::Destination& via,
                                 const sip::Destination& entry) {
  if (!peers_.count(id) || !core::Cidr::AnyContains(config_.trusted_proxies, via.host)) return;
  entries_[id] = entry;
}

void SipEndpoint::ForgetDialog(const sip::DialogId& id) {
  if (sip::Dialog* dialog = dialogs_.Find(id)) dialog->Terminate();
  dialogs_.Collect();
  peers_.erase(id);
  entries_.erase(id);
  // Keyed by (dialog, CSeq): the dialog's ACKs are one contiguous range.
  acks_.erase(acks_.lower_bound({id, 0}), acks_.upper_bound({id, UINT32_MAX}));
}

Status SipEndpoint::RestoreDialog(sip::Dialog::Description description,
                                  const sip::Destination& peer,
                                  const std::optional<sip::Destination>& entry) {
  auto dialog = sip::Dialog::Restore(std::move(description));
  if (!dialog.ok()) return dialog.status();
  const sip::DialogId id = dialog->id();
  Status added = dialogs_.Add(std::move(*dialog));
  if (!added.ok()) return added;
  peers_[id] = peer;
  if (entry) entries_[id] = *entry;
  return added;
}

void SipEndpoint::CreateUasDialog(const Pending& pending, int code) {
  auto id = sip::DialogIdOfReceivedRequest(*pending.request);
  auto call_id = pending.request->CallId();
  auto from = pending.request->From();
  if (!call_id.ok() || !from.ok()) return;
  sip::DialogId dialog_id{std::string(*call_id), pending.to_tag, std::string((*from)->tag())};
  if (id) return;  // a re-INVITE: its dialog exists already
  if (sip::Dialog* existing = dialogs_.Find(dialog_id)) {
    if (code < 200 || existing->state() == sip::DialogState::kConfirmed) return;
    // An early dialog confirmed by our 2xx: the library builds UAS dialogs in their final state,
    // so the early one is replaced (it has sent nothing of its own yet).
    existing->Terminate();
    dialogs_.Collect();
  }
  // §8.1.1.5: our first CSeq is random, below 2**31.
  uint32_t cseq = static_cast<uint32_t>(rng_() % 0x7fffffffu) + 1;
  auto added = dialogs_.AddUas(*pending.request, pending.to_tag, code,
                               ContactUri(pending.source.transport), cseq);
  if (!added.ok()) return;
  peers_[*added] = sip::ResponseDestination(*pending.request, pending.source);
  sip::Destination entry = EntrySource(*pending.request, pending.source);
  if (entry != pending.source) entries_[*added] = std::move(entry);
}

Result<std::string> SipEndpoint::Start(sip::MessageBuilder request,
                                       const sip::Destination& destination,
                                       ResponseCallback callback) {
  if (!request.GetHeader("Max-Forwards")) request.AddHeader("Max-Forwards", "70");
  // A placeholder Via lets the request parse; the branch needs its Request-URI, Call-ID, From
  // tag and CSeq, which only the parsed request gives.
  request.RemoveHeader("Via");
  request.PrependHeader("Via", "SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKplaceholder");
  auto parsed = request.BuildMessage(Lenient());
  if (!parsed.ok())
    return Status::InvalidArgument("request does not parse: " + parsed.error().ToString());
  auto call_id = parsed->CallId();
  auto from = parsed->From();
  auto cseq = parsed->GetCSeq();
  if (!call_id.ok() || !from.ok() || !cseq.ok()) {
    return Status::InvalidArgument("request without Call-ID, From or CSeq");
  }
  std::string via =
      "SIP/2.0/" + std::string(sip::TransportName(destination.transport)) + " " +
      config_.advertised_host + ":" + std::to_string(config_.advertised_port) + ";branch=" +
      NewBranch(parsed->request_uri_text(), *call_id, (*from)->tag(), (*cseq)->number) + ";rport";
  request.RemoveHeader("Via");
  request.PrependHeader("Via", via);
  auto built = request.BuildMessage(Lenient());
  if (!built.ok())
    return Status::InvalidArgument("request does not parse: " + built.error().ToString());
  sip::Message copy = built->Clone();
  sip::TransactionOutput out;
  auto key = tm_.SendRequest(std::move(*built), destination, out);
  if (!key.ok()) return key.status();
  if (!key->empty()) {
    clients_.insert_or_assign(*key, MakeClient(std::move(copy), destination, std::move(callback)));
  }
  Append(std::move(out));
  return key;
}

Result<std::string> SipEndpoint::SendRequest(const sip::MessageBuilder& request,
                                             const sip::Destination& destination,
                                             ResponseCallback callback) {
  return Start(request, destination, std::move(callback));
}

Result<std::string> SipEndpoint::SendInDialog(
    const sip::DialogId& id, std::string_view method, ResponseCallback callback,
    std::string_view body, std::string_view content_type,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  sip::Dialog* dialog = dialogs_.Find(id);
  auto peer = peers_.find(id);
  if (dialog == nullptr || peer == peers_.end()) {
    return Status::NotFound("no dialog " + id.call_id + " here");
  }
  auto request = dialog->MakeRequest(method, "SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKplaceholder");
  if (!request.ok()) return request.status();
  for (const auto& [name, value] : headers) request->AddHeader(name, value);
  if (!body.empty()) request->SetBody(body, content_type);
  return Start(std::move(*request), peer->second, std::move(callback));
}

void SipEndpoint::SendPrack(const sip::DialogId& id, const sip::Message& response) {
  sip::Dialog* dialog = dialogs_.Find(id);
  auto peer = peers_.find(id);
  if (dialog == nullptr || peer == peers_.end()) return;
  auto prack = dialog->MakePrack(response, "SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKplaceholder");
  // A PRACK that cannot be sent leaves the 1xx unacknowledged: the callee ends the INVITE 5xx.
  if (prack.ok()) (void)Start(std::move(*prack), peer->second, nullptr);
}

Status SipEndpoint::Cancel(std::string_view key) {
  auto it = clients_.find(key);
  if (it == clients_.end() || !it->second.invite || it->second.final) {
    return Status::NotFound("no pending INVITE " + std::string(key));
  }
  Client& client = it->second;
  client.cancel_wanted = true;
  if (client.provisional && !client.cancel_sent) SendCancel(client);
  return Status::Ok();
}

void SipEndpoint::SendCancel(Client& client) {
  client.cancel_sent = true;
  StartCancel(ParsedRequest(client), client.destination);
}

void SipEndpoint::StartCancel(const sip::Message& invite, const sip::Destination& destination) {
  auto cancel = sip::Message::Parse(sip::BuildCancel(invite), Lenient());
  if (!cancel.ok()) return;
  sip::Message copy = cancel->Clone();
  sip::TransactionOutput out;
  // The CANCEL's own transaction reports to nobody: the INVITE's 487 is what matters.
  auto key = tm_.SendRequest(std::move(*cancel), destination, out);
  if (key.ok() && !key->empty()) {
    clients_.insert_or_assign(*key, MakeClient(std::move(copy), destination, nullptr));
  }
  Append(std::move(out));
}

std::string SipEndpoint::SentRequest(std::string_view key) {
  auto it = clients_.find(key);
  if (it == clients_.end()) return {};
  return it->second.request ? it->second.request->Serialize() : it->second.bytes;
}

Status SipEndpoint::CancelSent(std::string_view invite, const sip::Destination& destination) {
  auto parsed = sip::Message::Parse(invite, Lenient());
  if (!parsed.ok() || !parsed->is_request() || parsed->method() != sip::Method::kInvite) {
    return Status::InvalidArgument("not an INVITE");
  }
  StartCancel(*parsed, destination);
  return Status::Ok();
}

Status SipEndpoint::AnswerReceived(std::string_view invite, const sip::Destination& source,
                                   int code, std::string_view reason) {
  if (code < 300 || code > 699) return Status::InvalidArgument("not a final failure code");
  // Anything else would leave a server transaction nobody answers.
  auto parsed = sip::Message::Parse(invite, Lenient());
  if (!parsed.ok() || !parsed->is_request() || parsed->method() != sip::Method::kInvite) {
    return Status::InvalidArgument("not an INVITE");
  }
  sip::TransactionOutput out = tm_.OnReceived(invite, source);
  std::string key;
  for (auto& event : out.events) {
    if (event.kind == sip::TuEvent::Kind::kRequest && event.message && !event.key.empty() &&
        event.message->method() == sip::Method::kInvite) {
      key = event.key;
      pending_.emplace(key, Pending{std::move(event.message), NewTag(), source});
    }
  }
  // Nothing goes to a handler: the call this INVITE began is over.
  out.events.clear();
  if (key.empty()) {
    Append(std::move(out));  // a retransmission's answer, if this node has one
    return Status::FailedPrecondition("that INVITE's transaction is here already");
  }
  // No 100 Trying after the ringing the caller heard from the other node.
  out.sends.clear();
  Append(std::move(out));
  return Respond(key, code, reason);
}

SipEndpoint::Client SipEndpoint::MakeClient(sip::Message request,
                                            const sip::Destination& destination,
                                            ResponseCallback callback) {
  Client client;
  client.invite = request.method() == sip::Method::kInvite;
  client.request = std::make_unique<sip::Message>(std::move(request));
  client.destination = destination;
  client.callback = std::move(callback);
  return client;
}

const sip::Message& SipEndpoint::ParsedRequest(Client& client) {
  if (!client.request) {
    client.request = std::make_unique<sip::Message>(sip::Message::ParseAgain(client.bytes));
  }
  return *client.request;
}

void SipEndpoint::SendAck(const sip::DialogId& id, uint32_t invite_cseq) {
  sip::Dialog* dialog = dialogs_.Find(id);
  auto peer = peers_.find(id);
  if (dialog == nullptr || peer == peers_.end()) return;
  auto call_id = id.call_id;
  std::string via =
      "SIP/2.0/" + std::string(sip::TransportName(peer->second.transport)) + " " +
      config_.advertised_host + ":" + std::to_string(config_.advertised_port) +
      ";branch=" + NewBranch(dialog->remote_target(), call_id, id.local_tag, invite_cseq) +
      ";rport";
  auto ack = dialog->MakeAck(invite_cseq, via);
  if (!ack.ok()) return;
  sip::action::Send send{ack->Build(), peer->second};
  sends_.push_back(send);
  acks_[{id, invite_cseq}] = std::move(send);
}

void SipEndpoint::OnClientResponse(sip::TuEvent event) {
  auto it = clients_.find(event.key);
  if (it == clients_.end()) return;
  Client& client = it->second;
  ClientResponse report;
  report.key = event.key;
  if (event.kind == sip::TuEvent::Kind::kTimeout || !event.message) {
    report.timed_out = true;
    ResponseCallback callback = std::move(client.callback);
    clients_.erase(it);
    if (callback) callback(report, *this);
    return;
  }
  const sip::Message& response = *event.message;
  const int code = response.status_code();
  report.response = &response;
  if (client.invite) {
    const sip::Message& invite = ParsedRequest(client);
    report.dialog = dialogs_.OnUacResponse(invite, response);
    if (report.dialog && !peers_.count(*report.dialog)) peers_[*report.dialog] = client.destination;
    if (code >= 200 && code < 300) {
      auto cseq = invite.GetCSeq();
      const uint32_t number = cseq.ok() ? (*cseq)->number : 0;
      if (report.dialog) {
        if (auto ack = acks_.find({*report.dialog, number}); ack != acks_.end()) {
          // A retransmission of a 2xx already ACKed (§13.2.2.4): the same ACK, nothing new.
          sends_.push_back(ack->second);
          if (client.final) client.request.reset();  // its bytes are kept (Client)
          return;
        }
        SendAck(*report.dialog, number);
      }
    }
    if (code > 100 && code < 200) {
      client.provisional = true;
      if (client.cancel_wanted && !client.cancel_sent) SendCancel(client);
      switch (pracks_.OnProvisional(response)) {
        case sip::PrackTracker::Verdict::kPrack:
          if (report.dialog) SendPrack(*report.dialog, response);
          break;
        case sip::PrackTracker::Verdict::kDiscard:
        case sip::PrackTracker::Verdict::kMalformed:
          return;  // RFC 3262 §4: a retransmission or out of order; the TU saw it already
        case sip::PrackTracker::Verdict::kNotReliable:
          break;
      }
    }
    if (code >= 200) {
      auto cseq = invite.GetCSeq();
      auto call_id = invite.CallId();
      if (cseq.ok() && call_id.ok()) pracks_.Finish(*call_id, (*cseq)->number);
    }
    if (code == 100) client.provisional = true;  // §9.1: any provisional response allows CANCEL
    if (code >= 200) client.final = true;
    // INVITE clients stay until their transaction ends (Timer M) for forked 2xx; a failure ends
    // everything the INVITE started.
    ResponseCallback callback = client.callback;
    if (code >= 300) {
      dialogs_.Collect();
      clients_.erase(it);
    } else if (code >= 200) {
      client.bytes = invite.raw();
      client.request.reset();
    }
    if (callback) callback(report, *this);
    return;
  }
  if (code < 200) {
    if (client.callback) client.callback(report, *this);
    return;
  }
  ResponseCallback callback = std::move(client.callback);
  clients_.erase(it);
  if (callback) callback(report, *this);
}

void SipEndpoint::OnStray2xx(const sip::Message& response) {
  // A 2xx retransmitted after the INVITE transaction ended: re-send the ACK we sent for it.
  auto id = sip::DialogIdOfReceivedResponse(response);
  auto cseq = response.GetCSeq();
  if (!id || !cseq.ok()) return;
  if (auto ack = acks_.find({*id, (*cseq)->number}); ack != acks_.end()) {
    sends_.push_back(ack->second);
  }
}

}  // namespace sb::signaling
