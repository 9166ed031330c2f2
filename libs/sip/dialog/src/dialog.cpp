#include "switchboard/sip/dialog.h"

#include <algorithm>

namespace sb::sip {
namespace {

bool IsTargetRefresh(std::string_view method) { return method == "INVITE" || method == "UPDATE"; }

bool CarriesContact(std::string_view method) {
  return method == "INVITE" || method == "UPDATE" || method == "SUBSCRIBE" || method == "NOTIFY" ||
         method == "REFER";
}

// A From/To value without its tag parameter, everything else as written.
std::string WithoutTag(std::string_view value) {
  auto parsed = ParseNameAddr(value);
  if (!parsed.ok() || parsed->params_raw.empty()) return std::string(TrimLws(value));
  std::string_view params = parsed->params_raw;
  std::string out(TrimLws(value.substr(0, static_cast<size_t>(params.data() - value.data()))));
  for (const Param& p : parsed->params()) {
    if (p.name.size() == 3 && (p.name[0] | 0x20) == 't' && (p.name[1] | 0x20) == 'a' &&
        (p.name[2] | 0x20) == 'g') {
      continue;
    }
    out += ';';
    out.append(p.name);
    if (p.has_value) {
      out += '=';
      out.append(p.value);
    }
  }
  return out;
}

std::optional<std::string> FirstContactUri(const Message& m) {
  auto contacts = m.NameAddrs(HeaderId::kContact);
  if (!contacts.ok() || contacts->empty() || contacts->front().star) return std::nullopt;
  return std::string(contacts->front().uri.text);
}

Result<std::vector<std::string>> RecordRoutes(const Message& m) {
  std::vector<std::string> out;
  for (std::string_view rr : m.Values(HeaderId::kRecordRoute)) {
    if (!ParseNameAddr(rr).ok()) return Status::InvalidArgument("bad Record-Route", "Record-Route");
    out.emplace_back(rr);
  }
  return out;
}

}  // namespace

std::string_view DialogStateName(DialogState state) {
  switch (state) {
    case DialogState::kEarly:
      return "early";
    case DialogState::kConfirmed:
      return "confirmed";
    case DialogState::kTerminated:
      return "terminated";
  }
  return "terminated";
}

std::optional<DialogId> DialogIdOfReceivedRequest(const Message& request) {
  auto call_id = request.CallId();
  auto from = request.From();
  auto to = request.To();
  if (!call_id.ok() || !from.ok() || !to.ok() || (*to)->tag().empty()) return std::nullopt;
  return DialogId{std::string(*call_id), std::string((*to)->tag()), std::string((*from)->tag())};
}

std::optional<DialogId> DialogIdOfReceivedResponse(const Message& response) {
  auto call_id = response.CallId();
  auto from = response.From();
  auto to = response.To();
  if (!call_id.ok() || !from.ok() || !to.ok() || (*to)->tag().empty()) return std::nullopt;
  return DialogId{std::string(*call_id), std::string((*from)->tag()), std::string((*to)->tag())};
}

Result<Dialog> Dialog::CreateUac(const Message& request, const Message& response) {
  int code = response.status_code();
  if (code <= 100 || code >= 300) {
    return Status::InvalidArgument("only a 101-299 response creates a dialog", "response");
  }
  auto id = DialogIdOfReceivedResponse(response);
  if (!id) return Status::InvalidArgument("response without a To tag", "To");
  auto cseq = request.GetCSeq();
  auto from = request.Header(HeaderId::kFrom);
  auto to = response.Header(HeaderId::kTo);
  if (!cseq.ok() || !from || !to) return Status::InvalidArgument("request without CSeq/From/To");
  auto routes = RecordRoutes(response);
  if (!routes.ok()) return routes.status();

  Dialog d;
  d.id_ = std::move(*id);
  d.uac_ = true;
  d.state_ = code < 200 ? DialogState::kEarly : DialogState::kConfirmed;
  d.secure_ = request.request_uri().scheme == UriScheme::kSips;
  d.local_uri_ = WithoutTag(*from);
  d.remote_uri_ = WithoutTag(*to);
  d.local_target_ = FirstContactUri(request).value_or("");
  // A 1xx may omit Contact (§12.1.2 asks for one); until a response names the peer, requests go
  // where the INVITE went.
  d.remote_target_ = FirstContactUri(response).value_or(std::string(request.request_uri_text()));
  d.route_set_ = std::move(*routes);
  std::reverse(d.route_set_.begin(), d.route_set_.end());  // UAC: reversed (§12.1.2)
  d.local_cseq_ = (*cseq)->number;
  d.initial_method_ = std::string(request.method_text());
  d.peer_allows_update_ = response.HasToken(HeaderId::kAllow, "UPDATE");
  return d;
}

Result<Dialog> Dialog::CreateUas(const Message& request, std::string_view local_tag,
                                 int status_code, std::string_view local_contact,
                                 uint32_t initial_local_cseq) {
  if (status_code <= 100 || status_code >= 300) {
    return Status::InvalidArgument("only a 101-299 response creates a dialog", "status_code");
  }
  if (local_tag.empty()) return Status::InvalidArgument("a UAS dialog needs a local tag", "tag");
  auto call_id = request.CallId();
  auto cseq = request.GetCSeq();
  auto from = request.From();
  auto from_text = request.Header(HeaderId::kFrom);
  auto to_text = request.Header(HeaderId::kTo);
  if (!call_id.ok() || !cseq.ok() || !from.ok() || !from_text || !to_text) {
    return Status::InvalidArgument("request without Call-ID/CSeq/From/To");
  }
  auto contact = FirstContactUri(request);
  if (!contact)
    return Status::InvalidArgument("dialog-creating request without Contact", "Contact");
  auto routes = RecordRoutes(request);
  if (!routes.ok()) return routes.status();

  Dialog d;
  // A From without tag (RFC 2543) gives an empty remote tag (§12.1.1).
  d.id_ = DialogId{std::string(*call_id), std::string(local_tag), std::string((*from)->tag())};
  d.uac_ = false;
  d.state_ = status_code < 200 ? DialogState::kEarly : DialogState::kConfirmed;
  d.secure_ = request.request_uri().scheme == UriScheme::kSips;
  d.local_uri_ = WithoutTag(*to_text);
  d.remote_uri_ = WithoutTag(*from_text);
  d.local_target_ = std::string(local_contact);
  d.remote_target_ = std::move(*contact);
  d.route_set_ = std::move(*routes);  // UAS: in order (§12.1.1)
  d.remote_cseq_ = (*cseq)->number;
  d.local_cseq_ = std::nullopt;
  d.initial_method_ = std::string(request.method_text());
  d.local_cseq_base_ = initial_local_cseq;
  d.peer_allows_update_ = request.HasToken(HeaderId::kAllow, "UPDATE");
  return d;
}

Result<Dialog> Dialog::Restore(Description description) {
  if (description.id.call_id.empty() || description.id.local_tag.empty()) {
    return Status::InvalidArgument("a restored dialog needs its Call-ID and local tag", "id");
  }
  if (description.remote_target.empty()) {
    return Status::InvalidArgument("a restored dialog needs the peer's target", "remote_target");
  }
  if (description.next_local_cseq == 0) {
    return Status::InvalidArgument("CSeq numbers start at 1", "next_local_cseq");
  }
  Dialog d;
  d.id_ = std::move(description.id);
  d.uac_ = description.uac;
  d.state_ = DialogState::kConfirmed;
  d.local_uri_ = std::move(description.local_uri);
  d.remote_uri_ = std::move(description.remote_uri);
  d.local_target_ = std::move(description.local_target);
  d.remote_target_ = std::move(description.remote_target);
  d.secure_ = d.remote_target_.starts_with("sips:");
  d.route_set_ = std::move(description.route_set);
  d.local_cseq_base_ = description.next_local_cseq;
  d.initial_method_ = "INVITE";
  d.peer_allows_update_ = description.peer_allows_update;
  return d;
}

void Dialog::OnResponse(const Message& response) {
  if (state_ == DialogState::kTerminated) return;
  auto cseq = response.GetCSeq();
  if (!cseq.ok()) return;
  std::string_view method = (*cseq)->method;
  int code = response.status_code();
  bool to_initial = state_ == DialogState::kEarly && method == initial_method_;
  if (to_initial && code >= 300) {
    state_ = DialogState::kTerminated;  // §12.3: a failure ends the early dialog
    return;
  }
  if (code == 481 || code == 408) {
    state_ = DialogState::kTerminated;  // §12.2.1.2
    return;
  }
  if (code >= 200 && method == "UPDATE" && negotiation_ == Negotiation::kLocalOffer) {
    // RFC 3311 §5.1: a 2xx carries the answer, any other final response refuses the offer.
    negotiation_ = Negotiation::kIdle;
  }
  if (code < 200 || code >= 300) return;
  if (response.Header(HeaderId::kAllow)) {
    peer_allows_update_ = response.HasToken(HeaderId::kAllow, "UPDATE");
  }
  if (to_initial) {
    state_ = DialogState::kConfirmed;
    // §13.2.2.4: the 2xx's Record-Route is the route set from now on.
    if (auto routes = RecordRoutes(response); routes.ok()) {
      route_set_ = std::move(*routes);
      std::reverse(route_set_.begin(), route_set_.end());
    }
  }
  if (IsTargetRefresh(method) || to_initial) {
    if (auto contact = FirstContactUri(response)) remote_target_ = std::move(*contact);
  }
}

RequestCheck Dialog::OnRequest(const Message& request) {
  if (state_ == DialogState::kTerminated) {
    return {481, "Call/Transaction Does Not Exist"};
  }
  auto cseq = request.GetCSeq();
  if (!cseq.ok()) return {400, "Bad CSeq"};
  // ACK and CANCEL carry the CSeq number of the INVITE they belong to.
  if (request.method() == Method::kAck || request.method() == Method::kCancel) return {};
  uint32_t n = (*cseq)->number;
  if (remote_cseq_ && n < *remote_cseq_) return {500, "CSeq Out Of Order"};  // §12.2.2
  remote_cseq_ = n;
  if (request.Header(HeaderId::kAllow)) {
    peer_allows_update_ = request.HasToken(HeaderId::kAllow, "UPDATE");
  }
  if (IsTargetRefresh(request.method_text())) {
    if (auto contact = FirstContactUri(request)) remote_target_ = std::move(*contact);
  }
  return {};
}

MessageBuilder Dialog::Skeleton(std::string_view method, std::string_view via,
                                uint32_t cseq) const {
  std::string request_uri = remote_target_;
  std::vector<std::string> routes = route_set_;
  if (!routes.empty()) {
    auto first = ParseNameAddr(routes.front());
    bool loose = first.ok() && first->uri.params().Has("lr");
    if (!loose && first.ok()) {
      // §12.2.1.1 strict routing: the first route becomes the Request-URI (without URI
      // headers, which a Request-URI may not carry), the remote target the last Route.
      std::string_view uri = first->uri.text;
      if (size_t q = uri.find('?'); q != std::string_view::npos) uri = uri.substr(0, q);
      request_uri = std::string(uri);
      routes.erase(routes.begin());
      routes.push_back("<" + remote_target_ + ">");
    }
  }
  MessageBuilder b = MessageBuilder::Request(method, request_uri);
  b.AddHeader("Via", via);
  b.AddHeader("Max-Forwards", "70");
  for (const auto& r : routes) b.AddHeader("Route", r);
  b.AddHeader("From", local_uri_ + ";tag=" + id_.local_tag);
  b.AddHeader("To", id_.remote_tag.empty() ? remote_uri_ : remote_uri_ + ";tag=" + id_.remote_tag);
  b.AddHeader("Call-ID", id_.call_id);
  b.AddHeader("CSeq", std::to_string(cseq) + " " + std::string(method));
  return b;
}

Result<MessageBuilder> Dialog::MakeRequest(std::string_view method, std::string_view via) {
  if (state_ == DialogState::kTerminated) {
    return Status::FailedPrecondition("dialog " + id_.call_id + " is terminated");
  }
  if (method == "ACK" || method == "CANCEL") {
    return Status::InvalidArgument("ACK and CANCEL are not built with MakeRequest", "method");
  }
  uint32_t next = local_cseq_ ? *local_cseq_ + 1 : local_cseq_base_;
  if (local_cseq_ && *local_cseq_ == UINT32_MAX) {
    return Status::ResourceExhausted("local CSeq space exhausted");
  }
  local_cseq_ = next;
  MessageBuilder b = Skeleton(method, via, next);
  if (CarriesContact(method) && !local_target_.empty()) {
    b.AddHeader("Contact", "<" + local_target_ + ">");
  }
  return b;
}

Result<MessageBuilder> Dialog::MakePrack(const Message& reliable_provisional,
                                         std::string_view via) {
  auto rseq = reliable_provisional.RSeq();
  auto cseq = reliable_provisional.GetCSeq();
  if (!rseq.ok() || !rseq->has_value() || !cseq.ok()) {
    return Status::InvalidArgument("a PRACK needs a 1xx with RSeq and CSeq", "response");
  }
  auto id = DialogIdOfReceivedResponse(reliable_provisional);
  if (!id || *id != id_) {
    return Status::InvalidArgument("the 1xx does not belong to this dialog", "response");
  }
  std::string rack = std::to_string(**rseq) + " " + std::to_string((*cseq)->number) + " " +
                     std::string((*cseq)->method);
  auto prack = MakeRequest("PRACK", via);
  if (!prack.ok()) return prack.status();
  prack->AddHeader("RAck", rack);
  return prack;
}

Status Dialog::StartLocalOffer() {
  if (state_ == DialogState::kTerminated) {
    return Status::FailedPrecondition("dialog " + id_.call_id + " is terminated");
  }
  if (negotiation_ != Negotiation::kIdle) {
    return Status::FailedPrecondition(negotiation_ == Negotiation::kLocalOffer
                                          ? "our previous offer is not answered yet"
                                          : "the peer's offer is not answered yet");
  }
  negotiation_ = Negotiation::kLocalOffer;
  return Status::Ok();
}

RequestCheck Dialog::TakeRemoteOffer() {
  switch (negotiation_) {
    case Negotiation::kLocalOffer:
      return {491, "Request Pending"};
    case Negotiation::kRemoteOffer:
      return {500, "Previous Offer Not Answered"};
    case Negotiation::kIdle:
      break;
  }
  negotiation_ = Negotiation::kRemoteOffer;
  return {};
}

Result<MessageBuilder> Dialog::MakeAck(uint32_t invite_cseq, std::string_view via) const {
  // Built in any state: a 2xx for a dialog we already ended must still be ACKed (then BYEd).
  return Skeleton("ACK", via, invite_cseq);
}

}  // namespace sb::sip
