// Typed header value parsers (RFC 3261 §20, §25.1; RFC 3891, RFC 4028, RFC 6665).
#include "switchboard/sip/headers.h"

#include "internal/scan.h"

namespace sb::sip {
namespace {

using internal::Is;
using internal::IsLws;

Status Bad(std::string_view header, std::string_view problem) {
  std::string m(header);
  m += ": ";
  m += problem;
  return Status::InvalidArgument(std::move(m), std::string(header));
}

size_t SkipLws(std::string_view s, size_t i) {
  while (i < s.size() && IsLws(s[i])) ++i;
  return i;
}

size_t SkipToken(std::string_view s, size_t i) {
  while (i < s.size() && Is(s[i], internal::kTokenChar)) ++i;
  return i;
}

// ";name[=value]" (or "name=value, ..." for sep ',') in one pass, LWS allowed around the
// separators and '='; values are tokens, hosts (IPv6 references included) or quoted strings; no
// empty segments. The same pass records the value of the first parameter named `wanted` in
// `*found` ("" for one without a value), what Params::Get would return on a valid list: the
// branch and tag lookups that every message needs then cost no second walk.
bool ValidHeaderParams(std::string_view raw, char sep, std::string_view wanted = {},
                       std::optional<std::string_view>* found = nullptr) {
  const char* p = raw.data();
  const char* end = p + raw.size();
  auto skip_lws = [&p, end] {
    while (p < end && IsLws(*p)) ++p;
  };
  skip_lws();
  if (p == end) return true;
  if (sep == ';') {
    if (*p != ';') return false;
    ++p;
  }
  for (;;) {
    skip_lws();
    const char* name = p;
    while (p < end && Is(*p, internal::kTokenChar)) ++p;
    if (p == name) return false;
    bool record = found != nullptr && !found->has_value() &&
                  static_cast<size_t>(p - name) == wanted.size() &&
                  core::EqualsIgnoreCase(std::string_view(name, wanted.size()), wanted);
    skip_lws();
    const char* value = p;
    if (p < end && *p == '=') {
      ++p;
      skip_lws();
      value = p;
      if (p < end && *p == '"') {
        size_t close = internal::FindQuoteEnd(std::string_view(p, static_cast<size_t>(end - p)), 0);
        if (close == std::string_view::npos) return false;
        p += close + 1;
      } else {
        while (p < end && Is(*p, internal::kGenValue)) ++p;
        if (p == value) return false;
      }
    }
    if (record) *found = std::string_view(value, static_cast<size_t>(p - value));
    if (p < end && IsLws(*p)) skip_lws();
    if (p == end) return true;
    if (*p != sep) return false;
    ++p;
  }
}

const char* ValidNameAddrParams(NameAddr& na) {
  std::optional<std::string_view> tag;
  if (!ValidHeaderParams(na.params_raw, ';', "tag", &tag)) return "bad parameter";
  na.tag_value = tag.value_or(std::string_view());
  return nullptr;
}

std::string ResolveQuotedPairs(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::string_view TrimLws(std::string_view text) { return internal::Trim(text); }

std::string Unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n') {
      if (out.empty() || out.back() != ' ') out.push_back(' ');
      while (i + 1 < raw.size() && IsLws(raw[i + 1])) ++i;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

bool IsToken(std::string_view text) { return internal::AllOf(text, internal::kTokenChar); }

std::string NameAddr::DisplayNameUnquoted() const {
  if (display_name_quoted) return ResolveQuotedPairs(display_name);
  return Unfold(display_name);
}

const char* internal::ParseNameAddrInto(std::string_view value, NameAddr& na) {
  std::string_view v = internal::Trim(value);
  if (v.empty()) return "empty value";
  size_t uri_begin;
  size_t uri_end;
  size_t after;
  if (v.front() == '"') {
    size_t close = internal::FindQuoteEnd(v, 0);
    if (close == std::string_view::npos) return "unterminated quoted display name";
    na.display_name = v.substr(1, close - 1);
    na.display_name_quoted = true;
    size_t lt = SkipLws(v, close + 1);
    if (lt >= v.size() || v[lt] != '<') return "no <URI> after the display name";
    uri_begin = lt + 1;
  } else {
    // One pass for whichever of '<' and ';' comes first (two finds scanned the value twice).
    size_t first = 0;
    while (first < v.size() && v[first] != '<' && v[first] != ';') ++first;
    size_t lt = first < v.size() && v[first] == '<' ? first : std::string_view::npos;
    size_t semi = first < v.size() && v[first] == ';' ? first : std::string_view::npos;
    if (lt != std::string_view::npos) {
      std::string_view display = internal::TrimRight(v.substr(0, lt));
      for (char c : display) {
        if (!Is(c, internal::kTokenChar) && !IsLws(c)) {
          return "display name with characters outside a token must be quoted";
        }
      }
      na.display_name = display;
      uri_begin = lt + 1;
    } else {
      // addr-spec: the URI ends at the first ';', which starts the header parameters (§20.10).
      uri_end = semi == std::string_view::npos ? v.size() : semi;
      std::string_view uri_text = internal::TrimRight(v.substr(0, uri_end));
      if (uri_text.find('?') != std::string_view::npos ||
          uri_text.find(',') != std::string_view::npos) {
        return "a URI with '?' or ',' must be enclosed in <>";
      }
      if (const char* problem = ParseUriInto(uri_text, na.uri)) return problem;
      na.params_raw = v.substr(uri_end);
      return ValidNameAddrParams(na);
    }
  }
  na.angle_brackets = true;
  uri_end = v.find('>', uri_begin);
  if (uri_end == std::string_view::npos) return "'<' without '>'";
  std::string_view uri_text = v.substr(uri_begin, uri_end - uri_begin);
  if (!uri_text.empty() && (IsLws(uri_text.front()) || IsLws(uri_text.back()))) {
    return "whitespace inside <>";
  }
  if (const char* problem = ParseUriInto(uri_text, na.uri)) return problem;
  after = SkipLws(v, uri_end + 1);
  na.params_raw = v.substr(after);
  return ValidNameAddrParams(na);
}

const char* internal::ParseContactInto(std::string_view value, NameAddr& na) {
  std::string_view v = internal::Trim(value);
  if (v == "*") {
    na.star = true;
    return nullptr;
  }
  return ParseNameAddrInto(v, na);
}

sb::Result<NameAddr> ParseNameAddr(std::string_view value) {
  NameAddr na;
  if (const char* problem = internal::ParseNameAddrInto(value, na))
    return Bad("name-addr", problem);
  return na;
}

sb::Result<NameAddr> ParseContact(std::string_view value) {
  NameAddr na;
  if (const char* problem = internal::ParseContactInto(value, na)) return Bad("name-addr", problem);
  return na;
}

bool Via::HasRfc3261Branch() const {
  std::string_view b = branch();
  return b.size() > 7 && b.substr(0, 7) == "z9hG4bK";
}

const char* internal::ParseViaInto(std::string_view value, Via& via) {
  std::string_view v = internal::Trim(value);
  size_t i = 0;
  std::string_view* parts[3] = {&via.protocol_name, &via.protocol_version, &via.transport};
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      i = SkipLws(v, i);
      if (i >= v.size() || v[i] != '/') return "bad sent-protocol";
      i = SkipLws(v, i + 1);
    }
    size_t end = SkipToken(v, i);
    if (end == i) return "bad sent-protocol";
    *parts[k] = v.substr(i, end - i);
    i = end;
  }
  size_t host_begin = SkipLws(v, i);
  if (host_begin == i) return "no whitespace before sent-by";
  i = host_begin;
  if (i < v.size() && v[i] == '[') {
    size_t close = v.find(']', i);
    if (close == std::string_view::npos) return "unterminated IPv6 reference";
    i = close + 1;
    via.host = v.substr(host_begin, i - host_begin);
    if (via.host.size() <= 2) return "bad host in sent-by";  // "[]"
  } else {
    // A hostname or IPv4 address ends at LWS, ':' or ';'; any other character is not one.
    i += internal::HostNameSpan(v.substr(i));
    if (i == host_begin || (i < v.size() && !IsLws(v[i]) && v[i] != ':' && v[i] != ';')) {
      return "bad host in sent-by";
    }
    via.host = v.substr(host_begin, i - host_begin);
  }
  i = SkipLws(v, i);
  if (i < v.size() && v[i] == ':') {
    i = SkipLws(v, i + 1);
    size_t end = i;
    while (end < v.size() && internal::IsDigit(v[end])) ++end;
    uint64_t port = 0;
    if (!internal::ParseDecimal(v.substr(i, end - i), 65535, &port)) {
      return "bad port in sent-by";
    }
    via.port = static_cast<uint16_t>(port);
    i = SkipLws(v, end);
  }
  via.params_raw = v.substr(i);
  if (!ValidHeaderParams(via.params_raw, ';', "branch", &via.branch_value)) {
    return "bad parameter";
  }
  if (via.branch_value && via.branch_value->empty()) return "empty branch";
  return nullptr;
}

sb::Result<Via> ParseVia(std::string_view value) {
  Via via;
  if (const char* problem = internal::ParseViaInto(value, via)) return Bad("Via", problem);
  return via;
}

sb::Result<CSeq> ParseCSeq(std::string_view value) {
  std::string_view v = internal::Trim(value);
  size_t i = 0;
  while (i < v.size() && internal::IsDigit(v[i])) ++i;
  uint64_t n = 0;
  if (!internal::ParseDecimal(v.substr(0, i), 0xFFFFFFFFull, &n)) {
    return Bad("CSeq", i == 0 ? "no sequence number" : "sequence number above 2**32-1");
  }
  size_t m = SkipLws(v, i);
  if (m == i) return Bad("CSeq", "no method");
  std::string_view method = v.substr(m);
  if (!IsToken(method)) return Bad("CSeq", "bad method");
  return CSeq{static_cast<uint32_t>(n), method};
}

sb::Result<uint32_t> ParseRSeq(std::string_view value) {
  std::string_view v = internal::Trim(value);
  uint64_t n = 0;
  if (!internal::ParseDecimal(v, 0xFFFFFFFFull, &n)) return Bad("RSeq", "not 1*DIGIT below 2**32");
  return static_cast<uint32_t>(n);
}

sb::Result<RAckValue> ParseRAck(std::string_view value) {
  std::string_view v = internal::Trim(value);
  RAckValue rack;
  uint32_t* numbers[2] = {&rack.rseq, &rack.cseq};
  size_t i = 0;
  for (uint32_t* number : numbers) {
    size_t end = i;
    while (end < v.size() && internal::IsDigit(v[end])) ++end;
    uint64_t n = 0;
    if (!internal::ParseDecimal(v.substr(i, end - i), 0xFFFFFFFFull, &n)) {
      return Bad("RAck", "bad response or CSeq number");
    }
    *number = static_cast<uint32_t>(n);
    i = SkipLws(v, end);
    if (i == end) return Bad("RAck", "no whitespace between the fields");
  }
  rack.method = v.substr(i);
  if (!IsToken(rack.method)) return Bad("RAck", "bad method");
  return rack;
}

sb::Result<uint32_t> ParseUint32(std::string_view value) {
  uint64_t n = 0;
  if (!internal::ParseDecimal(internal::Trim(value), 0xFFFFFFFFull, &n)) {
    return Status::InvalidArgument("not a decimal number of at most 2**32-1");
  }
  return static_cast<uint32_t>(n);
}

std::optional<std::string> AuthValue::GetUnquoted(std::string_view name) const {
  auto v = Get(name);
  if (!v) return std::nullopt;
  if (v->size() >= 2 && v->front() == '"' && v->back() == '"') {
    return ResolveQuotedPairs(v->substr(1, v->size() - 2));
  }
  return std::string(*v);
}

sb::Result<AuthValue> ParseAuth(std::string_view value) {
  std::string_view v = internal::Trim(value);
  size_t end = SkipToken(v, 0);
  if (end == 0) return Bad("Authorization", "no scheme");
  AuthValue auth;
  auth.scheme = v.substr(0, end);
  size_t p = SkipLws(v, end);
  if (p == end && p < v.size()) return Bad("Authorization", "no whitespace after the scheme");
  auth.params_raw = v.substr(p);
  if (!auth.params_raw.empty() && !ValidHeaderParams(auth.params_raw, ',')) {
    // token68 credentials (RFC 7235) are one opaque token, not params.
    bool token68 = true;
    for (char c : auth.params_raw) {
      if (!Is(c, internal::kAlnum) &&
          std::string_view("-._~+/=").find(c) == std::string_view::npos) {
        token68 = false;
      }
    }
    if (!token68) return Bad("Authorization", "bad auth-param");
  }
  return auth;
}

bool MediaType::Is(std::string_view t, std::string_view s) const {
  return core::EqualsIgnoreCase(type, t) && core::EqualsIgnoreCase(subtype, s);
}

std::string_view MediaType::boundary() const {
  auto b = params().Get("boundary");
  if (!b) return {};
  std::string_view v = *b;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

sb::Result<MediaType> ParseMediaType(std::string_view value) {
  std::string_view v = internal::Trim(value);
  MediaType mt;
  size_t end = SkipToken(v, 0);
  if (end == 0) return Bad("Content-Type", "no type");
  mt.type = v.substr(0, end);
  size_t i = SkipLws(v, end);
  if (i >= v.size() || v[i] != '/') return Bad("Content-Type", "no '/' after the type");
  i = SkipLws(v, i + 1);
  end = SkipToken(v, i);
  if (end == i) return Bad("Content-Type", "no subtype");
  mt.subtype = v.substr(i, end - i);
  mt.params_raw = v.substr(SkipLws(v, end));
  if (!ValidHeaderParams(mt.params_raw, ';')) return Bad("Content-Type", "bad parameter");
  return mt;
}

sb::Result<EventValue> ParseEvent(std::string_view value) {
  std::string_view v = internal::Trim(value);
  size_t end = SkipToken(v, 0);
  if (end == 0) return Bad("Event", "no event package");
  EventValue ev{v.substr(0, end), v.substr(SkipLws(v, end))};
  if (!ValidHeaderParams(ev.params_raw, ';')) return Bad("Event", "bad parameter");
  return ev;
}

sb::Result<ReplacesValue> ParseReplaces(std::string_view value) {
  std::string_view v = internal::Trim(value);
  size_t end = 0;
  while (end < v.size() && (Is(v[end], internal::kWordChar) || v[end] == '@')) ++end;
  if (end == 0) return Bad("Replaces", "no Call-ID");
  ReplacesValue r;
  r.call_id = v.substr(0, end);
  r.params_raw = v.substr(SkipLws(v, end));
  if (!ValidHeaderParams(r.params_raw, ';')) return Bad("Replaces", "bad parameter");
  Params params(r.params_raw);
  auto to_tag = params.Get("to-tag");
  auto from_tag = params.Get("from-tag");
  if (!to_tag || !from_tag) return Bad("Replaces", "to-tag and from-tag are required");
  r.to_tag = *to_tag;
  r.from_tag = *from_tag;
  r.early_only = params.Has("early-only");
  return r;
}

sb::Result<SessionExpiresValue> ParseSessionExpires(std::string_view value) {
  std::string_view v = internal::Trim(value);
  size_t end = 0;
  while (end < v.size() && internal::IsDigit(v[end])) ++end;
  auto delta = ParseUint32(v.substr(0, end));
  if (!delta.ok()) return Bad("Session-Expires", "bad delta-seconds");
  SessionExpiresValue se;
  se.delta_seconds = *delta;
  se.params_raw = v.substr(SkipLws(v, end));
  if (!ValidHeaderParams(se.params_raw, ';')) return Bad("Session-Expires", "bad parameter");
  se.refresher = Params(se.params_raw).Get("refresher").value_or(std::string_view());
  return se;
}

}  // namespace sb::sip
