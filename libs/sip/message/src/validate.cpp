// Server-side checks of a parsed request (RFC 3261 §8.2, §16.3; RFC 4475 §3.1.2, §3.3) and the
// error responses that go with them (§8.2.6).
#include <cstring>

#include "internal/scan.h"
#include "switchboard/sip/message.h"

namespace sb::sip {
namespace {

std::optional<ParseError> Fail(const Message& m, int code, std::string reason) {
  ParseError e;
  e.status_code = m.is_request() ? code : 0;
  e.reason = std::move(reason);
  if (m.is_request()) e.response = BuildErrorResponse(m, code, e.reason);
  return e;
}

// A stateless To tag: the same request always gets the same tag, so that retransmissions of a
// bad request get identical responses without the server keeping state.
std::string StatelessTag(const Message& m) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
  };
  mix(m.Header(HeaderId::kCallId).value_or(""));
  mix(m.Header(HeaderId::kFrom).value_or(""));
  mix(m.Header(HeaderId::kVia).value_or(""));
  mix(m.Header(HeaderId::kCSeq).value_or(""));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "sb";
  for (int i = 0; i < 12; ++i) tag.push_back(kHex[(h >> (i * 4)) & 15]);
  return tag;
}

// Whether the header may have a second element: another line, or a comma in the first (perhaps
// inside quotes). Most messages have one Via and one Contact, whose iteration is then skipped.
bool MayHoldMore(const Message& m, HeaderId id) {
  if (m.CountHeaders(id) > 1) return true;
  auto line = m.Header(id);
  return line && std::memchr(line->data(), ',', line->size()) != nullptr;
}

}  // namespace

std::string BuildErrorResponse(const Message& request, int status_code, std::string_view reason,
                               const std::vector<std::string>& extra_headers) {
  std::string out = "SIP/2.0 " + std::to_string(status_code) + " ";
  out += reason;
  out += "\r\n";
  for (size_t i = 0; i < request.header_count(); ++i) {
    HeaderField h = request.header(i);
    if (h.id == HeaderId::kVia) {
      out += "Via: ";
      out += h.value;
      out += "\r\n";
    }
  }
  auto copy = [&](HeaderId id) {
    auto v = request.Header(id);
    if (!v) return;
    out += HeaderName(id);
    out += ": ";
    out += *v;
    if (id == HeaderId::kTo && status_code != 100) {
      auto to = ParseNameAddr(*v);
      if (to.ok() && to->tag().empty()) out += ";tag=" + StatelessTag(request);
    }
    out += "\r\n";
  };
  copy(HeaderId::kFrom);
  copy(HeaderId::kTo);
  copy(HeaderId::kCallId);
  copy(HeaderId::kCSeq);
  for (const std::string& line : extra_headers) {
    out += line;
    out += "\r\n";
  }
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

std::optional<ParseError> ValidateMessage(const Message& m) {
  if (m.is_request()) {
    const Uri& ruri = m.request_uri();
    if (ruri.scheme == UriScheme::kOther) return Fail(m, 416, "Unsupported URI Scheme");
    if (ruri.has_headers) return Fail(m, 400, "Request-URI must not carry headers");
  }
  static constexpr HeaderId kMandatory[] = {HeaderId::kVia, HeaderId::kFrom, HeaderId::kTo,
                                            HeaderId::kCallId, HeaderId::kCSeq};
  for (HeaderId id : kMandatory) {
    if (!m.Header(id)) return Fail(m, 400, "Missing " + std::string(HeaderName(id)) + " header");
  }
  static constexpr HeaderId kSingle[] = {HeaderId::kFrom,        HeaderId::kTo,
                                         HeaderId::kCallId,      HeaderId::kCSeq,
                                         HeaderId::kMaxForwards, HeaderId::kContentLength,
                                         HeaderId::kContentType};
  for (HeaderId id : kSingle) {
    if (m.CountHeaders(id) > 1) {
      return Fail(m, 400, "Multiple " + std::string(HeaderName(id)) + " headers");
    }
  }
  if (!m.CallId().ok()) return Fail(m, 400, "Bad Call-ID header");
  if (!m.From().ok()) return Fail(m, 400, "Bad From header");
  if (!m.To().ok()) return Fail(m, 400, "Bad To header");
  auto cseq = m.GetCSeq();
  if (!cseq.ok()) return Fail(m, 400, "Bad CSeq header");
  if (m.is_request() && (*cseq)->method != m.method_text()) {
    return Fail(m, 400, "CSeq method does not match the request method");
  }
  auto top = m.TopVia();
  if (!top.ok()) return Fail(m, 400, "Bad Via header");
  // The top Via is parsed and cached above; check the others of a request, which a server copies
  // into its responses. A response's receiver reads only the top Via (§18.1.2) and a proxy
  // forwards the rest untouched, so there they are left for whoever asks (parse on access).
  if (m.is_request() && MayHoldMore(m, HeaderId::kVia)) {
    auto vias = m.Values(HeaderId::kVia);
    for (auto it = ++vias.begin(); it != vias.end(); ++it) {
      Via via;
      if (internal::ParseViaInto(*it, via) != nullptr) return Fail(m, 400, "Bad Via header");
    }
  }
  if ((*top)->branch() == "z9hG4bK") return Fail(m, 400, "Bad Via branch");
  if (!m.MaxForwards().ok()) return Fail(m, 400, "Bad Max-Forwards header");
  // The first Contact is parsed into the cache (every UA layer asks for it); the others are
  // checked.
  if (m.Header(HeaderId::kContact)) {
    if (!m.FirstContact().ok()) return Fail(m, 400, "Bad Contact header");
    auto contacts = m.Values(HeaderId::kContact);
    for (auto c = MayHoldMore(m, HeaderId::kContact) ? ++contacts.begin() : contacts.end();
         c != contacts.end(); ++c) {
      NameAddr contact;
      if (internal::ParseContactInto(*c, contact) != nullptr) {
        return Fail(m, 400, "Bad Contact header");
      }
    }
  }
  if (m.Header(HeaderId::kContentType) && !m.ContentType().ok()) {
    return Fail(m, 400, "Bad Content-Type header");
  }
  return std::nullopt;
}

std::optional<ParseError> CheckRequire(const Message& request,
                                       const std::vector<std::string_view>& supported, bool proxy) {
  std::string unsupported;
  for (std::string_view option :
       request.Values(proxy ? HeaderId::kProxyRequire : HeaderId::kRequire)) {
    if (option.empty()) continue;
    bool known = false;
    for (std::string_view s : supported) known = known || core::EqualsIgnoreCase(s, option);
    if (!known) {
      if (!unsupported.empty()) unsupported += ", ";
      unsupported += option;
    }
  }
  if (unsupported.empty()) return std::nullopt;
  ParseError e;
  e.status_code = 420;
  e.reason = "Bad Extension";
  e.response = BuildErrorResponse(request, 420, e.reason, {"Unsupported: " + unsupported});
  return e;
}

}  // namespace sb::sip
