// URI parsing, escaping and comparison (RFC 3261 §19.1, §25.1; RFC 3966 for tel).
#include "switchboard/sip/uri.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "internal/scan.h"

namespace sb::sip {
namespace {

using core::EqualsIgnoreCase;
using internal::AllOf;
using internal::Is;
using internal::IsHex;

Status Bad(std::string message) { return Status::InvalidArgument(std::move(message), "uri"); }

// Characters of `cls` or %XX escapes; an empty text fails.
bool ValidEscaped(std::string_view s, uint16_t cls) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) return false;
      i += 2;
    } else if (!Is(s[i], cls)) {
      return false;
    }
  }
  return true;
}

bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!IsHex(c) && c != ':' && c != '.') return false;
    }
    return true;
  }
  for (char c : host) {
    if (!internal::Is(c, internal::kAlnum) && c != '-' && c != '.') return false;
  }
  return true;
}

// ";name[=value]" segments of a URI in one pass: names and values paramchars or escapes, no
// empty name, no empty value after '='.
bool ValidUriParams(std::string_view raw) {
  const char* p = raw.data();
  const char* end = p + raw.size();
  while (p < end) {
    if (*p != ';') return false;
    ++p;
    for (int part = 0; part < 2; ++part) {
      const char* begin = p;
      while (p < end && *p != ';' && *p != '=') {
        if (*p == '%') {
          if (end - p < 3 || !IsHex(p[1]) || !IsHex(p[2])) return false;
          p += 3;
        } else if (Is(*p, internal::kParamChar)) {
          ++p;
        } else {
          return false;
        }
      }
      if (p == begin) return false;
      if (part == 0 && p < end && *p == '=') {
        ++p;
        continue;
      }
      if (p < end && *p == '=') return false;
      break;
    }
  }
  return true;
}

bool ValidUriHeaders(std::string_view raw) {
  if (raw.empty()) return false;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t end = raw.find('&', i);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view seg = raw.substr(i, end - i);
    size_t eq = seg.find('=');
    if (eq == std::string_view::npos) return false;
    if (!ValidEscaped(seg.substr(0, eq), internal::kHeaderChar)) return false;
    std::string_view value = seg.substr(eq + 1);
    if (!value.empty() && !ValidEscaped(value, internal::kHeaderChar)) return false;
    i = end + 1;
  }
  return true;
}

bool ValidTelNumber(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (c == '+' && i == 0) continue;
    if (IsHex(c) || c == '*' || c == '#' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    if (c == 'p' || c == 'w' || c == 'P' || c == 'W') continue;
    if (c == '%' && i + 2 < n.size() && IsHex(n[i + 1]) && IsHex(n[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// Returns the problem, or nullptr: a Status (two strings) per call would cost more than the
// parse itself on the hot path.
const char* ParseSipPart(std::string_view rest, size_t at, Uri& uri) {
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    uri.user = userinfo.substr(0, colon);
    uri.has_user = true;
    if (!ValidEscaped(uri.user, internal::kUserChar)) return "bad user part in URI";
    if (colon != std::string_view::npos) {
      uri.password = userinfo.substr(colon + 1);
      uri.has_password = true;
      if (!uri.password.empty() && !ValidEscaped(uri.password, internal::kPasswordChar)) {
        return "bad password in URI";
      }
    }
    rest.remove_prefix(at + 1);
  }
  size_t host_end = 0;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return "unterminated IPv6 reference in URI";
    host_end = close + 1;
    if (!ValidHost(rest.substr(0, host_end))) return "bad host in URI";
  } else {
    host_end = internal::HostNameSpan(rest);
    if (host_end == 0) return "bad host in URI";
  }
  if (host_end < rest.size() && rest[host_end] != ':' && rest[host_end] != ';' &&
      rest[host_end] != '?') {
    return "bad host in URI";
  }
  uri.host = rest.substr(0, host_end);
  rest.remove_prefix(host_end);
  if (!rest.empty() && rest.front() == ':') {
    size_t port_end = 1;
    while (port_end < rest.size() && internal::IsDigit(rest[port_end])) ++port_end;
    uint64_t port = 0;
    if (!internal::ParseDecimal(rest.substr(1, port_end - 1), 65535, &port)) {
      return "bad port in URI";
    }
    uri.port = static_cast<uint16_t>(port);
    rest.remove_prefix(port_end);
  }
  size_t q = rest.find('?');
  uri.params_raw = rest.substr(0, q);
  if (!uri.params_raw.empty() && !ValidUriParams(uri.params_raw)) return "bad parameter in URI";
  if (q != std::string_view::npos) {
    uri.headers_raw = rest.substr(q + 1);
    uri.has_headers = true;
    if (!ValidUriHeaders(uri.headers_raw)) return "bad header in URI";
  }
  return nullptr;
}

std::string CanonicalTelNumber(std::string_view n) {
  std::string out;
  for (char c : n) {
    if (c == '-' || c == '.' || c == '(' || c == ')') continue;
    out.push_back(core::AsciiLower(c));
  }
  return out;
}

std::optional<std::string> FindParam(const Uri& u, std::string_view unescaped_name) {
  for (const Param& p : u.params()) {
    if (EqualsIgnoreCase(Unescape(p.name), unescaped_name)) return Unescape(p.value);
  }
  return std::nullopt;
}

bool ParamsEquivalent(const Uri& a, const Uri& b) {
  static constexpr std::string_view kMustMatch[] = {"user", "ttl", "method", "maddr", "transport"};
  for (std::string_view name : kMustMatch) {
    auto pa = FindParam(a, name);
    auto pb = FindParam(b, name);
    if (pa.has_value() != pb.has_value()) return false;
    if (pa && !EqualsIgnoreCase(*pa, *pb)) return false;
  }
  for (const Param& p : a.params()) {
    std::string name = Unescape(p.name);
    auto other = FindParam(b, name);
    if (other && !EqualsIgnoreCase(Unescape(p.value), *other)) return false;
  }
  return true;
}

bool HeadersEquivalent(const Uri& a, const Uri& b) {
  auto contained = [](const Uri& x, const Uri& y) {
    for (const Param& h : x.headers()) {
      bool found = false;
      for (const Param& g : y.headers()) {
        if (EqualsIgnoreCase(Unescape(h.name), Unescape(g.name)) &&
            Unescape(h.value) == Unescape(g.value)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  };
  return contained(a, b) && contained(b, a);
}

// Whether a URI text contains a character no URI holds unescaped (whitespace, controls, <>").
bool HasBadUriChar(std::string_view rest) {
  for (char c : rest) {
    if (!Is(c, internal::kUriChar)) return true;
  }
  return false;
}
constexpr const char* kBadUriChar = "URI contains whitespace or a character that must be escaped";

// The part of a sip/sips URI after "scheme:".
const char* ParseSipRest(std::string_view rest, Uri& uri) {
  if (rest.empty()) return "empty URI after the scheme";
  // Every component of a sip URI is checked against its own character class, none of which
  // holds whitespace, controls or <>", so the whole-text check only words the error.
  const void* at_ptr = std::memchr(rest.data(), '@', rest.size());
  size_t at = at_ptr == nullptr
                  ? std::string_view::npos
                  : static_cast<size_t>(static_cast<const char*>(at_ptr) - rest.data());
  if (const char* problem = ParseSipPart(rest, at, uri)) {
    return HasBadUriChar(rest) ? kBadUriChar : problem;
  }
  return nullptr;
}

// "sip:" in any case, the scheme of nearly every URI, in one 4-byte compare instead of the scheme
// scan: OR-ing 0x20 lower-cases the letters (and only letters become "sip"); ':' is compared
// exactly.
bool StartsWithSipColon(std::string_view text) {
  if (text.size() < 4) return false;
  uint32_t w;
  std::memcpy(&w, text.data(), 4);
  uint32_t sip;
  std::memcpy(&sip, "sip:", 4);
  return (w | 0x00202020u) == sip;
}

// The digits of a tel: URI's number, its visual separators dropped: a global one (its '+' kept)
// when `global`, a local one otherwise; nullopt for the other kind, or anything but digits.
std::optional<std::string> TelDigits(const Uri& uri, bool global) {
  if (uri.scheme != UriScheme::kTel || uri.user.starts_with('+') != global) return std::nullopt;
  std::string number = CanonicalTelNumber(uri.user);
  const size_t first = global ? 1 : 0;
  if (number.size() < first + 1 || !std::all_of(number.begin() + first, number.end(),
                                                [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return number;
}

}  // namespace

std::optional<std::string> GlobalTelDigits(const Uri& uri) { return TelDigits(uri, true); }

std::optional<std::string> LocalTelDigits(const Uri& uri) { return TelDigits(uri, false); }

const char* internal::ParseUriInto(std::string_view text, Uri& uri) {
  uri.text = text;
  if (StartsWithSipColon(text)) {
    uri.scheme_text = text.substr(0, 3);
    uri.scheme = UriScheme::kSip;
    return ParseSipRest(text.substr(4), uri);
  }
  size_t colon = 0;
  while (colon < text.size() && Is(text[colon], internal::kSchemeChar)) ++colon;
  if (colon == text.size() || text[colon] != ':' || colon == 0) return "URI has no scheme";
  uri.scheme_text = text.substr(0, colon);
  if (!Is(uri.scheme_text[0], internal::kAlnum) || internal::IsDigit(uri.scheme_text[0]) ||
      !AllOf(uri.scheme_text, internal::kSchemeChar)) {
    return "bad URI scheme";
  }
  std::string_view rest = text.substr(colon + 1);
  if (EqualsIgnoreCase(uri.scheme_text, "sip") || EqualsIgnoreCase(uri.scheme_text, "sips")) {
    uri.scheme = EqualsIgnoreCase(uri.scheme_text, "sip") ? UriScheme::kSip : UriScheme::kSips;
    return ParseSipRest(rest, uri);
  }
  if (rest.empty()) return "empty URI after the scheme";
  if (HasBadUriChar(rest)) return kBadUriChar;
  if (EqualsIgnoreCase(uri.scheme_text, "tel")) {
    uri.scheme = UriScheme::kTel;
    size_t semi = rest.find(';');
    uri.user = rest.substr(0, semi);
    uri.has_user = true;
    if (!ValidTelNumber(uri.user)) return "bad telephone number in tel URI";
    if (semi != std::string_view::npos) {
      uri.params_raw = rest.substr(semi);
      if (!ValidUriParams(uri.params_raw)) return "bad parameter in tel URI";
    }
    return nullptr;
  }
  uri.scheme = UriScheme::kOther;
  uri.opaque = rest;
  return nullptr;
}

sb::Result<Uri> ParseUri(std::string_view text) {
  Uri uri;
  if (const char* problem = internal::ParseUriInto(text, uri)) return Bad(problem);
  return uri;
}

std::string Uri::UserUnescaped() const { return Unescape(user); }
std::string Uri::PasswordUnescaped() const { return Unescape(password); }
std::optional<std::string> Uri::ParamUnescaped(std::string_view name) const {
  return FindParam(*this, name);
}

bool UriEquivalent(const Uri& a, const Uri& b) {
  if (a.scheme != b.scheme) return false;
  if (a.scheme == UriScheme::kOther) {
    return EqualsIgnoreCase(a.scheme_text, b.scheme_text) && a.opaque == b.opaque;
  }
  if (a.scheme == UriScheme::kTel) {
    if (CanonicalTelNumber(a.user) != CanonicalTelNumber(b.user)) return false;
    if (a.params().size() != b.params().size()) return false;
    for (const Param& p : a.params()) {
      auto other = FindParam(b, Unescape(p.name));
      if (!other || !EqualsIgnoreCase(Unescape(p.value), *other)) return false;
    }
    return true;
  }
  if (a.has_user != b.has_user || a.has_password != b.has_password) return false;
  if (Unescape(a.user) != Unescape(b.user)) return false;
  if (Unescape(a.password) != Unescape(b.password)) return false;
  if (!EqualsIgnoreCase(a.host, b.host)) return false;
  if (a.port != b.port) return false;
  return ParamsEquivalent(a, b) && HeadersEquivalent(a, b);
}

std::string Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && IsHex(text[i + 1]) && IsHex(text[i + 2])) {
      out.push_back(static_cast<char>(internal::HexValue(text[i + 1]) * 16 +
                                      internal::HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string Escape(std::string_view text, UriComponent component) {
  uint16_t cls = internal::kUserChar;
  switch (component) {
    case UriComponent::kUser:
      cls = internal::kUserChar;
      break;
    case UriComponent::kPassword:
      cls = internal::kPasswordChar;
      break;
    case UriComponent::kParam:
      cls = internal::kParamChar;
      break;
    case UriComponent::kHeader:
      cls = internal::kHeaderChar;
      break;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (Is(c, cls) && c != '%') {
      out.push_back(c);
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

UriBuilder& UriBuilder::User(std::string_view u) {
  user_ = scheme_ == UriScheme::kTel ? std::string(u) : Escape(u, UriComponent::kUser);
  return *this;
}
UriBuilder& UriBuilder::Password(std::string_view p) {
  password_ = Escape(p, UriComponent::kPassword);
  return *this;
}
UriBuilder& UriBuilder::Host(std::string_view h) {
  host_ = h;
  return *this;
}
UriBuilder& UriBuilder::Port(uint16_t p) {
  port_ = p;
  return *this;
}
UriBuilder& UriBuilder::Param(std::string_view name, std::optional<std::string_view> value) {
  params_ += ';';
  params_ += Escape(name, UriComponent::kParam);
  if (value) {
    params_ += '=';
    params_ += Escape(*value, UriComponent::kParam);
  }
  return *this;
}
UriBuilder& UriBuilder::Header(std::string_view name, std::string_view value) {
  headers_ += headers_.empty() ? '?' : '&';
  headers_ += Escape(name, UriComponent::kHeader);
  headers_ += '=';
  headers_ += Escape(value, UriComponent::kHeader);
  return *this;
}
std::string UriBuilder::Build() const {
  std::string out;
  switch (scheme_) {
    case UriScheme::kSip:
      out = "sip:";
      break;
    case UriScheme::kSips:
      out = "sips:";
      break;
    case UriScheme::kTel:
      out = "tel:";
      break;
    case UriScheme::kOther:
      break;
  }
  if (scheme_ == UriScheme::kTel) return out + user_ + params_;
  if (!user_.empty()) {
    out += user_;
    if (!password_.empty()) out += ':' + password_;
    out += '@';
  }
  out += host_;
  if (port_ != 0) out += ':' + std::to_string(port_);
  return out + params_ + headers_;
}

}  // namespace sb::sip
