// A parsed SIP request or response (RFC 3261 §7, §20, §25).
//
// Parsing is zero-copy and lazy: Message::Parse copies the bytes once into a buffer the message
// owns, splits the start line and the header lines, and records each header as offsets in a
// fixed inline array of slots (no allocation per header; a message with more than kInlineHeaders
// headers spills into one vector). Header values are parsed into typed views (headers.h) when
// first asked for; From, To, CSeq, Call-ID and the top Via are cached after that. Unknown
// headers are kept byte for byte, in order, folding included.
//
// A parse error is a value: ParseError carries the status a server should answer with (400 with a
// reason naming the problem, 505, 416, 513; 0 = drop silently, e.g. for a broken response) and
// the serialized response itself, built from whatever Via/From/To/Call-ID/CSeq could be read.
//
//   auto parsed = sb::sip::Message::Parse(datagram);
//   if (!parsed.ok()) {
//     if (!parsed.error().response.empty()) transport.Send(parsed.error().response);
//     return;
//   }
//   const sb::sip::Message& m = *parsed;
//   if (m.is_request() && m.method() == sb::sip::Method::kInvite) {
//     auto via = m.TopVia();          // sb::Result<const Via&>-like: check ok()
//     std::string_view branch = via->branch();
//     for (std::string_view c : m.Values(sb::sip::HeaderId::kContact)) { ... ParseContact(c) ... }
//   }
//
// Message is move-only (views point into its heap buffer, which moves with it); Clone() copies.
// It is not thread-safe to call the lazy accessors of one Message from several threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/sip/headers.h"
#include "switchboard/sip/uri.h"

namespace sb::sip {

enum class Method : uint8_t {
  kUnknown,
  kInvite,
  kAck,
  kBye,
  kCancel,
  kOptions,
  kRegister,
  kPrack,
  kSubscribe,
  kNotify,
  kPublish,
  kInfo,
  kRefer,
  kMessage,
  kUpdate,
};
// Methods are case-sensitive (§7.1): "invite" is an unknown method.
Method MethodFromString(std::string_view text);
std::string_view MethodName(Method method);  // "" for kUnknown

// Headers the library knows by name (long and compact forms, case-insensitive). Everything else
// is kOther and kept as received.
enum class HeaderId : uint8_t {
  kOther,
  kVia,
  kFrom,
  kTo,
  kCallId,
  kCSeq,
  kContact,
  kRoute,
  kRecordRoute,
  kMaxForwards,
  kExpires,
  kMinExpires,
  kAuthorization,
  kWwwAuthenticate,
  kProxyAuthenticate,
  kProxyAuthorization,
  kAuthenticationInfo,
  kContentType,
  kContentLength,
  kContentEncoding,
  kContentDisposition,
  kSupported,
  kRequire,
  kProxyRequire,
  kUnsupported,
  kAllow,
  kAllowEvents,
  kAccept,
  kEvent,
  kSubscriptionState,
  kReferTo,
  kReferredBy,
  kReplaces,
  kPAssertedIdentity,
  kPPreferredIdentity,
  kSessionExpires,
  kMinSE,
  kRSeq,
  kRAck,
  kSubject,
  kUserAgent,
  kServer,
  kDate,
  kTimestamp,
  kRetryAfter,
  kWarning,
  kCallInfo,
  kPrivacy,
  kReason,
  kPath,
  kServiceRoute,
  kIdentity,
  kCount,  // not a header: the number of ids
};
// The canonical long name ("Call-ID", "WWW-Authenticate"); "" for kOther.
std::string_view HeaderName(HeaderId id);
// kOther when the name is not known. Accepts compact forms ("i", "v", "m", "l", ...).
HeaderId HeaderIdFromName(std::string_view name);
// Headers whose values are comma-separated lists (§7.3.1), as opposed to the auth family and
// single-valued headers such as Call-ID or Date.
bool IsListHeader(HeaderId id);

// What a server answers when parsing or validation fails.
struct ParseError {
  // 400, 505, 416, 513 ...; 0 means send nothing (a malformed response, or unusable bytes).
  int status_code = 400;
  // The reason phrase of that response, naming the problem ("Missing Call-ID").
  std::string reason;
  // The complete response to send back (§8.2.6, with a To tag), empty when status_code is 0 or
  // the request is too broken to answer.
  std::string response;

  // "400 Missing Call-ID"
  std::string ToString() const;
};

// Either a T or the ParseError a server would act on.
template <typename T>
class [[nodiscard]] Parsed {
 public:
  // Rvalue and const& overloads rather than by-value: a Message is large, one move is enough.
  Parsed(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Parsed(const T& value)                                               // NOLINT: implicit
      requires std::is_copy_constructible_v<T> : v_(std::in_place_index<0>, value) {}
  Parsed(ParseError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  // Builds the T in place: a parser fills it where it will be returned, without a move.
  template <typename... Args>
  explicit Parsed(std::in_place_t, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ParseError& error() const { return std::get<ParseError>(v_); }

 private:
  std::variant<T, ParseError> v_;
};

struct ParseLimits {
  size_t max_message_bytes = 65535;  // whole message (§18.1.1: one UDP datagram at most)
  size_t max_header_bytes = 16384;   // start line + headers + the empty line
  size_t max_body_bytes = 65535;
  size_t max_headers = 256;
};

// How the message arrived: datagram bodies may lack Content-Length (the body is the rest of the
// datagram, §18.3); stream messages come from StreamFramer (framer.h), already cut by
// Content-Length.
enum class Framing : uint8_t { kDatagram, kStream };

struct ParseOptions {
  ParseLimits limits;
  Framing framing = Framing::kDatagram;
  // Server-side checks (§8.2.1-§8.2.2, §16.3, RFC 4475): mandatory headers present once, values of
  // Via/From/To/Contact/CSeq/Max-Forwards well formed, CSeq method = request method, SIP/2.0,
  // Request-URI scheme supported (else 416). Off: only the framing and the start line are
  // checked and every header is parsed lazily.
  bool validate = true;
};

// One header line as received. `value` excludes the leading and trailing whitespace and may
// contain folded line breaks.
struct HeaderField {
  HeaderId id = HeaderId::kOther;
  std::string_view name;  // as written: "v", "VIA", "X-Foo"
  std::string_view value;
};

class Message;

// The comma-separated elements of every header line with one id, in order (e.g. all Via values of
// "Via: a, b" and "v: c"), trimmed. Splits at commas outside quotes and angle brackets. For
// headers that are not lists (IsListHeader false) each line is one element.
class ValueList {
 public:
  class Iterator;
  ValueList(const Message* message, HeaderId id) : message_(message), id_(id) {}
  Iterator begin() const;
  Iterator end() const;
  size_t size() const;
  bool empty() const;

 private:
  const Message* message_;
  HeaderId id_;
};

class ValueList::Iterator {
 public:
  using value_type = std::string_view;
  using difference_type = std::ptrdiff_t;
  Iterator() = default;
  Iterator(const Message* m, HeaderId id, size_t slot);
  std::string_view operator*() const { return current_; }
  Iterator& operator++();
  bool operator==(const Iterator& o) const {
    return slot_ == o.slot_ && current_.data() == o.current_.data() && pending_ == o.pending_;
  }

 private:
  void NextSlot();
  void TakeElement();
  const Message* message_ = nullptr;
  HeaderId id_ = HeaderId::kOther;
  size_t slot_ = 0;
  std::string_view rest_;
  std::string_view current_;
  bool pending_ = false;  // more elements in the current line
};

class Message {
 public:
  static constexpr size_t kInlineHeaders = 40;

  // Only the parser can make an empty Message; the key lets it do so in place (Parsed<Message>).
  // Not delegating to a defaulted Message(): that value-initializes, i.e. zeroes all ~2 kB
  // (the inline header slots included) before the member initializers run.
  class Key {
    Key() = default;
    friend class MessageParser;
  };
  explicit Message(Key) {}

  // Parses one whole message (one datagram, or one message cut by StreamFramer). For a datagram,
  // bytes after Content-Length are ignored (RFC 4475 §3.1.1.8).
  static Parsed<Message> Parse(std::string_view bytes, const ParseOptions& options = {});

  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();
  Message Clone() const;  // ParseAgain(raw())
  // What a Message's raw() held, parsed back into one: bytes that parsed once parse again to the
  // same structure, whatever options and limits they first met. For a holder that keeps only the
  // bytes of a message it may need parsed later. Not for bytes from anywhere else.
  static Message ParseAgain(std::string_view raw);
  // ParseAgain's options for `size` bytes: no validation, and limits no such bytes exceed.
  static ParseOptions TrustedParseOptions(size_t size);

  bool is_request() const { return status_code_ == 0; }
  bool is_response() const { return status_code_ != 0; }

  // Requests.
  Method method() const { return method_; }
  std::string_view method_text() const { return method_text_; }
  std::string_view request_uri_text() const { return request_uri_text_; }
  // Parsed at Parse time; for an unknown scheme scheme == kOther.
  const Uri& request_uri() const { return request_uri_; }

  // Responses.
  int status_code() const { return status_code_; }
  std::string_view reason_phrase() const { return reason_; }

  std::string_view version() const { return version_; }
  std::string_view start_line() const { return start_line_; }

  // Every header line, in order.
  size_t header_count() const { return header_count_; }
  HeaderField header(size_t index) const;

  // The first header line with this id / name (case-insensitive, compact forms match), raw.
  // Inline: validation and every typed accessor start here.
  std::optional<std::string_view> Header(HeaderId id) const {
    size_t i = static_cast<size_t>(id);
    if (id == HeaderId::kOther || i >= first_.size() || first_[i] == kNoSlot) return std::nullopt;
    return SlotValue(slot(first_[i]));
  }
  std::optional<std::string_view> Header(std::string_view name) const;
  size_t CountHeaders(HeaderId id) const {
    size_t i = static_cast<size_t>(id);
    if (id == HeaderId::kOther || i >= count_.size()) return 0;
    return count_[i] < 255 ? count_[i] : CountSlots(id);
  }
  ValueList Values(HeaderId id) const { return ValueList(this, id); }

  // Typed access, parsed on first use. The pointers stay valid as long as the message.
  sb::Result<const Via*> TopVia() const;
  sb::Result<const NameAddr*> From() const;
  sb::Result<const NameAddr*> To() const;
  sb::Result<const CSeq*> GetCSeq() const;
  sb::Result<std::string_view> CallId() const;
  // nullopt when absent (the caller picks the default: 70 for Max-Forwards, none for Expires).
  sb::Result<std::optional<uint32_t>> MaxForwards() const;
  sb::Result<std::optional<uint32_t>> Expires() const;
  // Read once while framing the body: no second parse.
  sb::Result<std::optional<uint32_t>> ContentLength() const;
  sb::Result<std::optional<MediaType>> ContentType() const;
  sb::Result<std::optional<EventValue>> Event() const;
  sb::Result<std::optional<NameAddr>> ReferTo() const;
  sb::Result<std::optional<NameAddr>> ReferredBy() const;
  sb::Result<std::optional<ReplacesValue>> Replaces() const;
  sb::Result<std::optional<SessionExpiresValue>> SessionExpires() const;
  // The first Contact element (also "*"), parsed once and cached; NotFound when absent.
  sb::Result<const NameAddr*> FirstContact() const;
  // RFC 3262: RSeq of a reliable provisional response, RAck of a PRACK.
  sb::Result<std::optional<uint32_t>> RSeq() const;
  sb::Result<std::optional<RAckValue>> RAck() const;
  // Every element of Contact / Route / Record-Route / P-Asserted-Identity, parsed.
  sb::Result<std::vector<NameAddr>> NameAddrs(HeaderId id) const;
  // Each header line of the auth family is one credentials/challenge value.
  sb::Result<std::vector<AuthValue>> Auths(HeaderId id) const;
  // Supported, Require, Proxy-Require, Unsupported, Allow, Allow-Events: the tokens.
  std::vector<std::string_view> Tokens(HeaderId id) const;
  bool HasToken(HeaderId id, std::string_view token) const;

  std::string_view body() const { return body_; }
  // The message's bytes (start line through body) exactly as received, without any trailing
  // bytes of the datagram.
  std::string_view raw() const { return {buffer_.get(), size_}; }
  std::string Serialize() const { return std::string(raw()); }

  // Replaces the `length` bytes of raw() at `at`, which must lie inside one header line's value,
  // with `text`: the message then is what parsing its new bytes without validation gives, at
  // the cost of a copy instead of a second parse (the transaction layer's received/rport on
  // the top Via, RFC 3581, for every request). Views taken before are invalid afterwards.
  // InvalidArgument when the range is not inside a single header value.
  Status ReplaceInHeaderValue(size_t at, size_t length, std::string_view text);

 private:
  friend class ValueList;
  friend class ValueList::Iterator;
  struct Slot {
    uint32_t name_offset;
    uint32_t value_offset;
    uint32_t value_length;
    uint16_t name_length;
    HeaderId id;
  };
  static constexpr uint16_t kNoSlot = 0xFFFF;  // first_ of an id without a line
  // CountHeaders past the saturated per-id counter.
  size_t CountSlots(HeaderId id) const;
  const Slot& slot(size_t i) const {
    return i < kInlineHeaders ? inline_[i] : more_[i - kInlineHeaders];
  }
  Slot& slot(size_t i) { return i < kInlineHeaders ? inline_[i] : more_[i - kInlineHeaders]; }
  std::string_view SlotValue(const Slot& s) const {
    return {buffer_.get() + s.value_offset, s.value_length};
  }
  // Fields by value, written straight into the slot: a Slot built on the stack and copied as one
  // 16-byte load stalled on store forwarding (the profile's hottest instruction).
  bool AddSlot(uint32_t name_offset, uint16_t name_length, uint32_t value_offset,
               uint32_t value_length, HeaderId id, size_t max_headers);
  sb::Result<const NameAddr*> CachedNameAddr(HeaderId id, std::optional<NameAddr>& cache) const;
  // What Values(id).begin() yields (the first element of the first line), without the iterator.
  std::optional<std::string_view> FirstElement(HeaderId id) const;
  friend class MessageParser;

  std::unique_ptr<char[]> buffer_;
  size_t size_ = 0;
  std::string_view start_line_, method_text_, request_uri_text_, version_, reason_, body_;
  Method method_ = Method::kUnknown;
  int status_code_ = 0;
  Uri request_uri_;
  // Index of the first slot per known id (or 0xFFFF): the common lookups are O(1).
  // Filled by the parser first thing (not zeroed and then filled).
  std::array<uint16_t, static_cast<size_t>(HeaderId::kCount)> first_;
  std::array<uint8_t, static_cast<size_t>(HeaderId::kCount)> count_{};  // saturates at 255
  size_t header_count_ = 0;
  std::array<Slot, kInlineHeaders> inline_;
  std::vector<Slot> more_;
  // Typed values parsed on first access (views into buffer_).
  mutable std::optional<Via> top_via_;
  mutable std::optional<NameAddr> from_, to_;
  mutable std::optional<CSeq> cseq_;
  mutable std::optional<NameAddr> contact_;
  mutable bool call_id_checked_ = false;  // the Call-ID's characters were found valid
  std::optional<uint32_t> content_length_;
};

// Checks a parsed request the way a UAS or proxy must before acting on it (what
// ParseOptions::validate runs). Exposed so that a message parsed with validate=false can be
// checked later. nullopt when the request is acceptable.
std::optional<ParseError> ValidateMessage(const Message& message);

// RFC 3261 §8.2.2.3: 420 Bad Extension with an Unsupported header listing every Require option
// not in `supported`; nullopt when all are supported. `proxy` checks Proxy-Require instead.
std::optional<ParseError> CheckRequire(const Message& request,
                                       const std::vector<std::string_view>& supported,
                                       bool proxy = false);

// The response a server sends for an error it found itself (e.g. 416, 420, 483), built from the
// request per §8.2.6; `extra_headers` are complete lines without CRLF ("Unsupported: foo").
std::string BuildErrorResponse(const Message& request, int status_code, std::string_view reason,
                               const std::vector<std::string>& extra_headers = {});

}  // namespace sb::sip
