// SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), parsed as views into the text they
// were parsed from: no copy, no allocation. Escapes stay escaped in the views; the *Unescaped()
// helpers decode once (never recursively: "%2541" decodes to "%41"). Comparison follows §19.1.4.
//
//   auto uri = sb::sip::ParseUri("sip:alice%40x@example.com:5070;transport=tcp;lr?Subject=hi");
//   if (!uri.ok()) return uri.status();
//   uri->host;                        // "example.com"
//   uri->port;                        // 5070
//   uri->params().Get("transport");   // "tcp"
//   uri->params().Has("lr");          // true (a parameter without a value)
//   uri->UserUnescaped();             // "alice@x"
//   sb::sip::UriEquivalent(*uri, *other);
//
// Any other scheme ("isbn:...", "http://...") parses as UriScheme::kOther with the text after the
// colon in `opaque`, so that a header naming such a URI still parses; servers answer 416 when the
// Request-URI has one (see message.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::sip {

enum class UriScheme : uint8_t { kSip, kSips, kTel, kOther };

// One parameter of a ";name=value;flag" list (or "name=value&..." for URI headers). `value` is
// empty and has_value false for a parameter without "=". Views are raw (escaped, quotes kept).
struct Param {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

// A view over a parameter list as it appears in the text, e.g. ";lr;transport=tcp". Lookups are
// linear scans (lists are short) with case-insensitive names; quoted values may hold separators.
// Constructed by the parsers; `raw` starts at the first separator or is empty.
class Params {
 public:
  class Iterator;

  Params() = default;
  explicit Params(std::string_view raw, char separator = ';') : raw_(raw), sep_(separator) {}

  // The value of `name` ("" for a parameter without a value), nullopt if absent.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  bool empty() const;
  size_t size() const;
  std::string_view raw() const { return raw_; }

  Iterator begin() const;
  Iterator end() const;

 private:
  std::string_view raw_;
  char sep_ = ';';
};

class Params::Iterator {
 public:
  using value_type = Param;
  using difference_type = std::ptrdiff_t;
  Iterator() = default;
  Iterator(std::string_view rest, char sep) : rest_(rest), sep_(sep) { Advance(); }
  const Param& operator*() const { return current_; }
  const Param* operator->() const { return &current_; }
  Iterator& operator++() {
    Advance();
    return *this;
  }
  bool operator==(const Iterator& o) const {
    return done_ == o.done_ && (done_ || rest_.data() == o.rest_.data());
  }

 private:
  void Advance();
  std::string_view rest_;
  char sep_ = ';';
  bool done_ = true;
  Param current_;
};

struct Uri {
  UriScheme scheme = UriScheme::kOther;
  std::string_view scheme_text;  // as written ("sip", "SIP", "isbn")
  std::string_view user;         // escaped; for tel: the telephone-subscriber number
  std::string_view password;     // escaped; empty if absent
  bool has_user = false;
  bool has_password = false;
  std::string_view host;         // "example.com", "192.0.2.1", "[2001:db8::1]"
  uint16_t port = 0;             // 0 when absent
  std::string_view params_raw;   // ";lr;transport=tcp" (starts at ';'), empty if none
  std::string_view headers_raw;  // "Subject=hi&Route=..." (after '?'), empty if none
  bool has_headers = false;
  std::string_view opaque;  // kOther: everything after "scheme:"
  std::string_view text;    // the whole URI as parsed

  Params params() const { return Params(params_raw, ';'); }
  Params headers() const { return Params(headers_raw, '&'); }
  bool is_sip() const { return scheme == UriScheme::kSip || scheme == UriScheme::kSips; }

  std::string UserUnescaped() const;
  std::string PasswordUnescaped() const;
  // The parameter's value with escapes decoded once; nullopt if absent.
  std::optional<std::string> ParamUnescaped(std::string_view name) const;
  // The exact text (URIs are serialized as they were received; build new ones with UriBuilder).
  std::string ToString() const { return std::string(text); }
};

// Parses a whole string as a URI (no surrounding whitespace, no angle brackets). Errors are
// InvalidArgument with a message naming the problem.
sb::Result<Uri> ParseUri(std::string_view text);

// RFC 3261 §19.1.4: scheme, user and password case-sensitive after unescaping, host and parameter
// names case-insensitive, user/ttl/method/maddr/transport must match when present in either,
// other parameters only when present in both, headers must match. tel: compares the number
// without visual separators, and its parameters.
bool UriEquivalent(const Uri& a, const Uri& b);

// RFC 3966 §5.1.4: the digits to dial for a tel: URI's global number, its visual separators
// dropped ("+15550103" for tel:+1-555-(010).3). nullopt for any other URI, a local number (no
// leading '+'), or one with anything besides digits and separators (*, #, pauses, escapes).
std::optional<std::string> GlobalTelDigits(const Uri& uri);
// The same for a local number (no leading '+'): "1003" for tel:10-03;phone-context=acme.example.
// Its phone-context, which says whose number it is, is the caller's to check.
std::optional<std::string> LocalTelDigits(const Uri& uri);

// Decodes %XX escapes once. Malformed escapes ("%Z4", "%4") are kept literally. A decoded NUL is
// kept (the result is not NUL-terminated data).
std::string Unescape(std::string_view text);

// Which characters stay unescaped when building a URI component (§25.1).
enum class UriComponent : uint8_t { kUser, kPassword, kParam, kHeader };
std::string Escape(std::string_view text, UriComponent component);

// Builds a URI text from parts, escaping user and password.
//   UriBuilder(UriScheme::kSip).User("alice").Host("example.com").Port(5070).Param("lr").Build()
class UriBuilder {
 public:
  explicit UriBuilder(UriScheme scheme) : scheme_(scheme) {}
  UriBuilder& User(std::string_view unescaped_user);
  UriBuilder& Password(std::string_view unescaped_password);
  UriBuilder& Host(std::string_view host);
  UriBuilder& Port(uint16_t port);
  UriBuilder& Param(std::string_view name, std::optional<std::string_view> value = std::nullopt);
  UriBuilder& Header(std::string_view name, std::string_view unescaped_value);
  std::string Build() const;

 private:
  UriScheme scheme_;
  std::string user_, password_, host_, params_, headers_;
  uint16_t port_ = 0;
};

}  // namespace sb::sip
