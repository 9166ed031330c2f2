// Transaction matching keys (§17.1.3, §17.2.3), RFC 3581 Via stamping and response routing
// (§18.2.2), and the CANCEL request of §9.1.
#include <charconv>
#include <utility>

#include "switchboard/core/ascii.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/transaction_manager.h"

namespace sb::sip {
namespace {

std::optional<std::string_view> TopViaText(const Message& m) {
  auto vias = m.Values(HeaderId::kVia);
  if (vias.begin() == vias.end()) return std::nullopt;
  return *vias.begin();
}

// Where the sender of `via` was seen by the server that stamped it (received and rport, RFC 3581
// §4), else what it claimed (sent-by, 5060 without a port).
Destination StampedSender(const Via& via, Transport transport) {
  Destination d;
  d.transport = transport;
  d.host = std::string(via.received().value_or(via.host));
  d.port = via.port != 0 ? via.port : 5060;
  if (auto rport = via.rport(); rport && !rport->empty()) {
    uint16_t port = 0;
    auto [ptr, ec] = std::from_chars(rport->data(), rport->data() + rport->size(), port);
    if (ec == std::errc() && ptr == rport->data() + rport->size() && port != 0) d.port = port;
  }
  return d;
}

}  // namespace

std::optional<std::string> ServerTransactionKey(const Message& request) {
  auto via = request.TopVia();
  auto cseq = request.GetCSeq();
  if (!via.ok() || !cseq.ok()) return std::nullopt;
  std::string_view method =
      request.method() == Method::kAck ? std::string_view("INVITE") : request.method_text();
  if ((*via)->HasRfc3261Branch()) {
    // Branch comparison is case-sensitive; sent-by host is not (§17.2.3, §19.1.4).
    std::string key = "s|";
    key.append((*via)->branch());
    key += '|';
    key += core::AsciiLowered((*via)->host);
    key += ':' + std::to_string((*via)->port);
    key += '|';
    key.append(method);
    return key;
  }
  // RFC 2543 clients: Request-URI, From tag, Call-ID, CSeq number, top Via and method. The To
  // tag is left out so that the ACK of a 3xx-6xx (which carries our To tag) still matches.
  auto from = request.From();
  auto call_id = request.CallId();
  auto top = TopViaText(request);
  if (!from.ok() || !call_id.ok() || !top) return std::nullopt;
  std::string key = "s2543|";
  key.append(request.request_uri_text());
  key += '|';
  key.append((*from)->tag());
  key += '|';
  key.append(*call_id);
  key += '|' + std::to_string((*cseq)->number) + '|';
  key.append(*top);
  key += '|';
  key.append(method);
  return key;
}

std::optional<std::string> ClientTransactionKey(const Message& message) {
  auto via = message.TopVia();
  auto cseq = message.GetCSeq();
  if (!via.ok() || !cseq.ok() || (*via)->branch().empty()) return std::nullopt;
  std::string key = "c|";
  key.append((*via)->branch());
  key += '|';
  key.append((*cseq)->method);
  return key;
}

Result<Message> StampTopVia(Message&& request, const Destination& source) {
  auto top = TopViaText(request);
  auto via = request.TopVia();
  if (!top || !via.ok()) return Status::InvalidArgument("request without a Via", "Via");
  bool wants_rport = (*via)->rport().has_value();
  bool host_differs = !core::EqualsIgnoreCase((*via)->host, source.host);
  if (!wants_rport && !host_differs) return std::move(request);

  std::string_view text = *top;
  std::string_view params = (*via)->params_raw;
  // The parsed Via's views point into the same buffer as the raw element text.
  bool inside = !params.empty() && params.data() >= text.data() &&
                params.data() + params.size() <= text.data() + text.size();
  size_t params_at = inside ? static_cast<size_t>(params.data() - text.data()) : text.size();
  std::string stamped(text.substr(0, params_at));
  stamped.reserve(text.size() + source.host.size() + 24);
  for (const Param& p : (*via)->params()) {
    if (core::EqualsIgnoreCase(p.name, "received")) continue;  // replaced below
    stamped += ';';
    if (core::EqualsIgnoreCase(p.name, "rport")) {
      stamped += "rport=";
      stamped += std::to_string(source.port);
      continue;
    }
    stamped.append(p.name);
    if (p.has_value) {
      stamped += '=';
      stamped.append(p.value);
    }
  }
  // RFC 3581 §4: received is added whenever rport is, even when the host matches.
  stamped += ";received=";
  stamped += source.host;
  // The stamped element replaces the received one in the message's own bytes, without a second
  // parse. Values() views always lie in those bytes (folded lines included).
  const size_t at = static_cast<size_t>(text.data() - request.raw().data());
  Status replaced = request.ReplaceInHeaderValue(at, text.size(), stamped);
  if (!replaced.ok()) return Status::InvalidArgument(replaced.message(), "Via");
  return std::move(request);
}

Destination ResponseDestination(const Message& request, const Destination& source) {
  // Over a stream the response goes back on the connection the request came in on.
  if (IsReliable(source.transport)) return source;
  auto via = request.TopVia();
  if (!via.ok()) return source;
  if (auto maddr = (*via)->maddr()) {
    return Destination{std::string(*maddr), (*via)->port != 0 ? (*via)->port : uint16_t{5060},
                       source.transport};
  }
  return StampedSender(**via, source.transport);
}

Destination EntrySource(const Message& request, const Destination& source,
                        const std::function<bool(std::string_view host)>& trusted) {
  // The top Via is the last proxy's own; each one below it carries what the proxy above saw
  // (client -> P2 -> P1 -> here: P1's Via, P2's as P1 stamped it, the client's as P2 did).
  Destination entry = source;
  bool top = true;
  for (std::string_view value : request.Values(HeaderId::kVia)) {
    if (!trusted(entry.host)) break;
    if (std::exchange(top, false)) continue;
    auto via = ParseVia(value);
    if (!via.ok()) break;
    entry = StampedSender(*via, TransportFromName(via->transport).value_or(entry.transport));
  }
  return entry;
}

std::optional<Destination> ReconnectDestination(const Message& response, Transport transport) {
  auto via = response.TopVia();
  if (!via.ok()) return std::nullopt;
  return Destination{std::string((*via)->received().value_or((*via)->host)),
                     (*via)->port != 0 ? (*via)->port : static_cast<uint16_t>(5060), transport};
}

std::string BuildCancel(const Message& invite) {
  MessageBuilder cancel = MessageBuilder::Request("CANCEL", invite.request_uri_text());
  if (auto top = TopViaText(invite)) cancel.AddHeader("Via", *top);
  cancel.AddHeader("Max-Forwards", "70");
  for (std::string_view route : invite.Values(HeaderId::kRoute)) cancel.AddHeader("Route", route);
  if (auto from = invite.Header(HeaderId::kFrom)) cancel.AddHeader("From", *from);
  if (auto to = invite.Header(HeaderId::kTo)) cancel.AddHeader("To", *to);
  if (auto call_id = invite.Header(HeaderId::kCallId)) cancel.AddHeader("Call-ID", *call_id);
  auto cseq = invite.GetCSeq();
  if (cseq.ok()) cancel.AddHeader("CSeq", std::to_string((*cseq)->number) + " CANCEL");
  return cancel.Build();
}

}  // namespace sb::sip
