// Typed SIP header values (RFC 3261 §20, §25.1 and the extensions Switchboard uses), parsed from
// ONE header value (one element of a comma-separated list) as views into that text: nothing is
// copied or allocated. Message (message.h) finds the values and caches the common ones; these
// free functions are what it calls, and are usable on any text (e.g. a Refer-To's embedded URI).
//
//   auto from = sb::sip::ParseNameAddr("\"Alice\" <sip:alice@example.com>;tag=1928");
//   from->DisplayNameUnquoted();   // "Alice"
//   from->uri.host;                // "example.com"
//   from->tag();                   // "1928"
//
//   auto via = sb::sip::ParseVia("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport");
//   via->transport; via->host; via->port; via->branch(); via->params().Has("rport");
//
// Values may contain folded lines (CRLF followed by whitespace) exactly as received: every parser
// treats them as linear whitespace (§7.3.1). Errors are sb::Status InvalidArgument naming the
// problem; the message layer maps them to "400 Bad <Header>".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"
#include "switchboard/sip/uri.h"

namespace sb::sip {

// name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route, Refer-To,
// Referred-By, P-Asserted-Identity, Reply-To. In the addr-spec form (no angle brackets) the URI
// ends at the first ';' and everything after it is a header parameter (§20.10).
struct NameAddr {
  std::string_view display_name;  // raw: inside the quotes for a quoted-string, else the tokens
  bool display_name_quoted = false;
  bool angle_brackets = false;
  bool star = false;  // Contact: *
  Uri uri;
  std::string_view params_raw;  // ";tag=1;expires=60"

  Params params() const { return Params(params_raw, ';'); }
  std::string_view tag() const { return tag_value; }
  // Display name with quoted-pairs resolved ("\\\"" -> "\"").
  std::string DisplayNameUnquoted() const;
  // The first tag parameter's value ("" when absent), recorded by the parser in its one pass over
  // the parameters: every transaction and dialog lookup reads it.
  std::string_view tag_value;
};
sb::Result<NameAddr> ParseNameAddr(std::string_view value);
// Contact also accepts "*".
sb::Result<NameAddr> ParseContact(std::string_view value);

// Via: sent-protocol sent-by *(;via-params) (§20.42). Transport is kept as written ("UDP",
// "TCP", "TLS", "SCTP", "WS", or any token).
struct Via {
  std::string_view protocol_name;     // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;         // "UDP"
  std::string_view host;
  uint16_t port = 0;  // 0 when absent
  std::string_view params_raw;

  Params params() const { return Params(params_raw, ';'); }
  std::string_view branch() const { return branch_value.value_or(std::string_view()); }
  std::optional<std::string_view> received() const { return params().Get("received"); }
  // RFC 3581: nullopt when absent, "" for a bare ";rport", the port a server filled in otherwise.
  std::optional<std::string_view> rport() const { return params().Get("rport"); }
  std::optional<std::string_view> maddr() const { return params().Get("maddr"); }
  // The RFC 3261 magic cookie (branch starts with "z9hG4bK") with a non-empty id after it.
  bool HasRfc3261Branch() const;
  // The first branch parameter's value (nullopt when absent), recorded by the parser in its one
  // pass over the parameters: every message's transaction lookup reads it.
  std::optional<std::string_view> branch_value;
};
sb::Result<Via> ParseVia(std::string_view value);

struct CSeq {
  uint32_t number = 0;
  std::string_view method;
};
// Rejects numbers above 2**32-1 (§8.1.1.5) and a missing method.
sb::Result<CSeq> ParseCSeq(std::string_view value);

// Unsigned decimal of at most 2**32-1 (Expires, Min-Expires, Content-Length, Max-Forwards).
sb::Result<uint32_t> ParseUint32(std::string_view value);

// Authorization, Proxy-Authorization (credentials) and WWW-Authenticate, Proxy-Authenticate
// (challenges): a scheme and comma-separated auth-params (§20.7, §20.27, §20.28, §20.44;
// RFC 7616). Unknown schemes parse too ("NoOneKnowsThisScheme opaque-data=here").
struct AuthValue {
  std::string_view scheme;      // "Digest"
  std::string_view params_raw;  // "username=\"bob\", realm=\"x\", nc=00000001"

  Params params() const { return Params(params_raw, ','); }
  // Raw value as written, quotes included; nullopt if absent.
  std::optional<std::string_view> Get(std::string_view name) const { return params().Get(name); }
  // The value with surrounding quotes removed and quoted-pairs resolved.
  std::optional<std::string> GetUnquoted(std::string_view name) const;
};
sb::Result<AuthValue> ParseAuth(std::string_view value);

// Content-Type (and each element of Accept): type "/" subtype *(;param), case-insensitive.
struct MediaType {
  std::string_view type;     // "application"
  std::string_view subtype;  // "sdp"
  std::string_view params_raw;

  Params params() const { return Params(params_raw, ';'); }
  bool Is(std::string_view type, std::string_view subtype) const;
  // The boundary parameter without quotes (multipart bodies).
  std::string_view boundary() const;
};
sb::Result<MediaType> ParseMediaType(std::string_view value);

// Event (RFC 6665 §8.2.1): package *(.template) *(;param), e.g. "refer;id=93809824".
struct EventValue {
  std::string_view package;
  std::string_view params_raw;
  Params params() const { return Params(params_raw, ';'); }
  std::string_view id() const { return params().Get("id").value_or(std::string_view()); }
};
sb::Result<EventValue> ParseEvent(std::string_view value);

// Replaces (RFC 3891): callid ;to-tag= ;from-tag= [;early-only].
struct ReplacesValue {
  std::string_view call_id;
  std::string_view to_tag;
  std::string_view from_tag;
  bool early_only = false;
  std::string_view params_raw;
};
sb::Result<ReplacesValue> ParseReplaces(std::string_view value);

// Session-Expires (RFC 4028): delta-seconds [;refresher=uac|uas].
struct SessionExpiresValue {
  uint32_t delta_seconds = 0;
  std::string_view refresher;  // "uac", "uas" or empty
  std::string_view params_raw;
};
sb::Result<SessionExpiresValue> ParseSessionExpires(std::string_view value);

// RSeq (RFC 3262 §7.1): the response number of a reliable provisional response, 1*DIGIT up to
// 2**32-1 (the first of a transaction is at most 2**31-1, which the sender enforces).
sb::Result<uint32_t> ParseRSeq(std::string_view value);

// RAck (RFC 3262 §7.2): response-num LWS CSeq-num LWS Method, naming the provisional a PRACK
// acknowledges.
struct RAckValue {
  uint32_t rseq = 0;
  uint32_t cseq = 0;
  std::string_view method;
};
sb::Result<RAckValue> ParseRAck(std::string_view value);

// A token (Supported, Require, Allow, Proxy-Require elements): non-empty, token characters only.
bool IsToken(std::string_view text);

// Removes leading and trailing linear whitespace, folded line breaks included.
std::string_view TrimLws(std::string_view text);

// The unfolded, whitespace-normalised text of a raw header value: each CRLF + whitespace becomes
// one space (for display and JSON; parsing never needs it).
std::string Unfold(std::string_view raw_value);

}  // namespace sb::sip
