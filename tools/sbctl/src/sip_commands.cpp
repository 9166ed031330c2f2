// sbctl sip ...: reading SIP traces.
//
//   sbctl sip parse invite.sip          # one message (a datagram) -> JSON
//   sbctl sip parse --stream - < tcp.bin  # a TCP byte stream -> one JSON object per message
//   sbctl sip parse --lenient msg.sip   # structure only, no server-side checks
//
// Exit code 0 when every message parsed, 1 when one did not (its JSON then has "error" with the
// status, reason and the response a server would send), 2 when the input cannot be read.
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "switchboard/sip/framer.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/multipart.h"

namespace sb::sbctl {
namespace {

using nlohmann::json;
using sip::HeaderId;

std::string S(std::string_view v) { return std::string(v); }

json ParamsJson(const sip::Params& params) {
  json out = json::object();
  for (const sip::Param& p : params) {
    out[S(p.name)] = p.has_value ? json(S(p.value)) : json(nullptr);
  }
  return out;
}

json UriJson(const sip::Uri& uri) {
  json out = {{"text", S(uri.text)}, {"scheme", S(uri.scheme_text)}};
  if (uri.scheme == sip::UriScheme::kOther) {
    out["opaque"] = S(uri.opaque);
    return out;
  }
  if (uri.has_user) out["user"] = uri.UserUnescaped();
  if (uri.has_password) out["password"] = uri.PasswordUnescaped();
  if (!uri.host.empty()) out["host"] = S(uri.host);
  if (uri.port != 0) out["port"] = uri.port;
  if (!uri.params_raw.empty()) out["params"] = ParamsJson(uri.params());
  if (uri.has_headers) out["headers"] = ParamsJson(uri.headers());
  return out;
}

json NameAddrJson(const sip::NameAddr& na) {
  if (na.star) return "*";
  json out = {{"uri", UriJson(na.uri)}};
  if (!na.display_name.empty()) out["display_name"] = na.DisplayNameUnquoted();
  if (!na.params_raw.empty()) out["params"] = ParamsJson(na.params());
  return out;
}

// A typed value as JSON, or {"error": ...} when that header is malformed (lenient mode).
template <typename T, typename F>
json Typed(const sb::Result<T>& r, F to_json) {
  if (!r.ok()) return json{{"error", r.status().message()}};
  return to_json(*r);
}

json MessageJson(const sip::Message& m) {
  json out;
  if (m.is_request()) {
    out["type"] = "request";
    out["method"] = S(m.method_text());
    out["request_uri"] = UriJson(m.request_uri());
  } else {
    out["type"] = "response";
    out["status"] = m.status_code();
    out["reason"] = S(m.reason_phrase());
  }
  out["version"] = S(m.version());
  json headers = json::array();
  for (size_t i = 0; i < m.header_count(); ++i) {
    sip::HeaderField h = m.header(i);
    headers.push_back({{"name", S(h.name)}, {"value", sip::Unfold(h.value)}});
  }
  out["headers"] = headers;

  json vias = json::array();
  for (std::string_view v : m.Values(HeaderId::kVia)) {
    vias.push_back(Typed(sip::ParseVia(v), [](const sip::Via& via) {
      json j = {{"transport", S(via.transport)}, {"host", S(via.host)}};
      if (via.port != 0) j["port"] = via.port;
      if (!via.params_raw.empty()) j["params"] = ParamsJson(via.params());
      return j;
    }));
  }
  out["via"] = vias;
  if (m.Header(HeaderId::kFrom))
    out["from"] = Typed(m.From(), [](auto* na) { return NameAddrJson(*na); });
  if (m.Header(HeaderId::kTo))
    out["to"] = Typed(m.To(), [](auto* na) { return NameAddrJson(*na); });
  if (m.Header(HeaderId::kCallId))
    out["call_id"] = Typed(m.CallId(), [](auto v) { return json(S(v)); });
  if (m.Header(HeaderId::kCSeq)) {
    out["cseq"] = Typed(m.GetCSeq(), [](const sip::CSeq* c) {
      return json{{"number", c->number}, {"method", S(c->method)}};
    });
  }
  for (auto [id, key] : {std::pair{HeaderId::kContact, "contact"},
                         {HeaderId::kRoute, "route"},
                         {HeaderId::kRecordRoute, "record_route"},
                         {HeaderId::kPAssertedIdentity, "p_asserted_identity"}}) {
    if (!m.Header(id)) continue;
    out[key] = Typed(m.NameAddrs(id), [](const std::vector<sip::NameAddr>& list) {
      json a = json::array();
      for (const auto& na : list) a.push_back(NameAddrJson(na));
      return a;
    });
  }
  auto number = [](const sb::Result<std::optional<uint32_t>>& r) -> json {
    if (!r.ok()) return json{{"error", r.status().message()}};
    return r->has_value() ? json(**r) : json(nullptr);
  };
  if (m.Header(HeaderId::kMaxForwards)) out["max_forwards"] = number(m.MaxForwards());
  if (m.Header(HeaderId::kExpires)) out["expires"] = number(m.Expires());
  if (m.Header(HeaderId::kContentLength)) out["content_length"] = number(m.ContentLength());
  for (HeaderId id : {HeaderId::kAuthorization, HeaderId::kProxyAuthorization,
                      HeaderId::kWwwAuthenticate, HeaderId::kProxyAuthenticate}) {
    if (!m.Header(id)) continue;
    std::string key(sip::HeaderName(id));
    out[key] = Typed(m.Auths(id), [](const std::vector<sip::AuthValue>& list) {
      json a = json::array();
      for (const auto& v : list) {
        json params = json::object();
        for (const sip::Param& p : v.params()) params[S(p.name)] = *v.GetUnquoted(p.name);
        a.push_back({{"scheme", S(v.scheme)}, {"params", params}});
      }
      return a;
    });
  }
  auto type = m.ContentType();
  if (type.ok() && type->has_value()) {
    const sip::MediaType& mt = **type;
    out["content_type"] = S(mt.type) + "/" + S(mt.subtype);
  }
  out["body"] = S(m.body());
  if (type.ok() && type->has_value() && (*type)->Is("multipart", (*type)->subtype)) {
    auto parts = sip::SplitMultipart(m.body(), (*type)->boundary());
    if (parts.ok()) {
      json a = json::array();
      for (const auto& p : *parts) {
        a.push_back({{"content_type", S(p.content_type)}, {"body", S(p.body)}});
      }
      out["parts"] = a;
    }
  }
  return out;
}

json ErrorJson(const sip::ParseError& e) {
  json err = {{"status", e.status_code}, {"reason", e.reason}};
  err["action"] = e.status_code == 0 ? "drop" : "respond";
  if (!e.response.empty()) err["response"] = e.response;
  return json{{"error", err}};
}

void Print(CommandContext& ctx, const json& j) {
  // Bodies and reason phrases may hold bytes that are not UTF-8: replace, never throw.
  ctx.out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

void Parse(CommandContext& ctx, const std::string& file, bool lenient, bool stream) {
  std::string bytes;
  if (file == "-") {
    bytes.assign(std::istreambuf_iterator<char>(ctx.in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      ctx.err << "sbctl: cannot read " << file << "\n";
      ctx.exit_code = 2;
      return;
    }
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  sip::ParseOptions options;
  options.validate = !lenient;
  if (!stream) {
    auto m = sip::Message::Parse(bytes, options);
    Print(ctx, m.ok() ? MessageJson(*m) : ErrorJson(m.error()));
    if (!m.ok()) ctx.exit_code = 1;
    return;
  }
  options.framing = sip::Framing::kStream;
  sip::StreamFramer framer(options.limits);
  framer.Append(bytes);
  for (size_t guard = 0; guard <= bytes.size(); ++guard) {
    auto next = framer.Next();
    if (!next.ok()) {
      Print(ctx, ErrorJson(next.error()));
      ctx.exit_code = 1;
      return;
    }
    if (!next->has_value()) break;
    auto m = sip::Message::Parse(**next, options);
    Print(ctx, m.ok() ? MessageJson(*m) : ErrorJson(m.error()));
    if (!m.ok()) ctx.exit_code = 1;
  }
  if (framer.mid_message()) {
    ctx.err << "sbctl: the stream ends inside a message (" << framer.buffered() << " bytes)\n";
    ctx.exit_code = 1;
  }
}

}  // namespace

void RegisterSipCommands(CLI::App& app, CommandContext& context) {
  CLI::App* sip = app.add_subcommand("sip", "SIP tools (offline)");
  sip->require_subcommand(1);
  CLI::App* parse = sip->add_subcommand("parse", "Parse a SIP message and print it as JSON");
  auto file = std::make_shared<std::string>();
  auto lenient = std::make_shared<bool>(false);
  auto stream = std::make_shared<bool>(false);
  parse->add_option("file", *file, "message file, or - for stdin")->required();
  parse->add_flag("--lenient", *lenient, "structure only: skip the checks a server makes");
  parse->add_flag("--stream", *stream, "input is a TCP stream: frame by Content-Length");
  parse->callback([&context, file, lenient, stream] { Parse(context, *file, *lenient, *stream); });
}

}  // namespace sb::sbctl
