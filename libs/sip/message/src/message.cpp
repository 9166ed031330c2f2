// Message framing and structure (RFC 3261 §7, §18.3): start line, header lines, body.
#include "switchboard/sip/message.h"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal/scan.h"

namespace sb::sip {

namespace {

bool IsSpHt(char c) { return c == ' ' || c == '\t'; }

// "SIP/" 1*DIGIT "." 1*DIGIT, case-insensitive.
bool LooksLikeVersion(std::string_view v) {
  if (v.size() < 7 || !core::EqualsIgnoreCase(v.substr(0, 4), "SIP/")) return false;
  size_t dot = v.find('.', 4);
  if (dot == std::string_view::npos || dot == 4 || dot + 1 == v.size()) return false;
  for (size_t i = 4; i < v.size(); ++i) {
    if (i != dot && !internal::IsDigit(v[i])) return false;
  }
  return true;
}

// The first '\n' at or after `from`, or n. Reads 32-byte blocks (two 16-byte compares: most
// header lines end within one block, a long Authorization within a few), which the buffer's
// padding (internal::kReadPadding) makes safe up to the end; a line costs no call.
size_t FindNewline(const char* buf, size_t from, size_t n) {
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  for (size_t i = from; i < n; i += 32) {
    __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf + i));
    __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf + i + 16));
    uint32_t mask = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(lo, newline))) |
                    (static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(hi, newline))) << 16);
    if (mask != 0) return std::min(n, i + static_cast<size_t>(__builtin_ctz(mask)));
  }
  return n;
#else
  const void* nl = std::memchr(buf + from, '\n', n - from);
  return nl == nullptr ? n : static_cast<size_t>(static_cast<const char*>(nl) - buf);
#endif
}

// The known header name at the start of a line, found without a per-character token check: the
// first ':' among the line's first 32 bytes (two 16-byte compares; the buffer's padding makes the
// reads safe), the name before it without trailing SP/HT, looked up by its words. A known name is
// a token, so a match needs no further check, except for control bytes: the lookup lower-cases by
// OR-ing 0x20, which would let '\r' (0x0D) stand for '-' (0x2D). kOther (the caller then scans
// the name character by character) for an unknown name, a control byte or no ':' in reach.
HeaderId SplitKnownName(const char* line, size_t len, size_t* name_end, size_t* colon) {
#if defined(__SSE2__)
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line + 16));
  const __m128i colons = _mm_set1_epi8(':');
  uint32_t colon_mask =
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(lo, colons))) |
      (static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(hi, colons))) << 16);
  if (len < 32) colon_mask &= (1u << len) - 1;
  if (colon_mask == 0) return HeaderId::kOther;
  size_t c = static_cast<size_t>(__builtin_ctz(colon_mask));
  size_t n = c;
  while (n > 0 && IsSpHt(line[n - 1])) --n;
  if (n == 0) return HeaderId::kOther;
  // Bytes below 0x21 (unsigned max(b, 0x21) != b): controls and spaces have no place in a name.
  const __m128i printable = _mm_set1_epi8(0x21);
  uint32_t visible =
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(lo, printable), lo))) |
      (static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(hi, printable), hi)))
       << 16);
  uint32_t in_name = (1u << n) - 1;  // n <= 31
  if ((visible & in_name) != in_name) return HeaderId::kOther;
  HeaderId id = internal::HeaderIdFromPaddedName(line, n);
  if (id != HeaderId::kOther) {
    *name_end = n;
    *colon = c;
  }
  return id;
#else
  (void)line;
  (void)len;
  (void)name_end;
  (void)colon;
  return HeaderId::kOther;
#endif
}

bool IsSip20(std::string_view v) { return core::EqualsIgnoreCase(v, "SIP/2.0"); }

ParseError Error(int code, std::string reason) {
  ParseError e;
  e.status_code = code;
  e.reason = std::move(reason);
  return e;
}
}  // namespace

std::string ParseError::ToString() const { return std::to_string(status_code) + " " + reason; }

Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;
Message::~Message() = default;

inline bool Message::AddSlot(uint32_t name_offset, uint16_t name_length, uint32_t value_offset,
                             uint32_t value_length, HeaderId id, size_t max_headers) {
  if (header_count_ >= max_headers) return false;
  Slot* s;
  if (header_count_ < kInlineHeaders) {
    s = &inline_[header_count_];
  } else {
    s = &more_.emplace_back();
  }
  s->name_offset = name_offset;
  s->name_length = name_length;
  s->value_offset = value_offset;
  s->value_length = value_length;
  s->id = id;
  if (id != HeaderId::kOther) {
    size_t i = static_cast<size_t>(id);
    if (first_[i] == Message::kNoSlot) first_[i] = static_cast<uint16_t>(header_count_);
    if (count_[i] < 255) ++count_[i];
  }
  ++header_count_;
  return true;
}

// Builds the Message in steps; the first error is remembered while the header lines are still
// split, so that the error response can copy Via/From/To/Call-ID/CSeq.
class MessageParser {
 public:
  static Parsed<Message> Parse(std::string_view bytes, const ParseOptions& options) {
    // One named result for NRVO: the ~1.7 kB Message is built where the caller receives it.
    Parsed<Message> out(std::in_place, Message::Key());
    if (auto error = ParseInto(bytes, options, out.value())) out = *std::move(error);
    return out;
  }

 private:
  static std::optional<ParseError> ParseInto(std::string_view bytes, const ParseOptions& options,
                                             Message& m);
};

std::optional<ParseError> MessageParser::ParseInto(std::string_view bytes,
                                                   const ParseOptions& options, Message& m) {
  m.first_.fill(Message::kNoSlot);
  const ParseLimits& limits = options.limits;
  // §7.5: CRLFs before the start line are ignored (keep-alives, stray line ends).
  size_t skip = 0;
  while (skip < bytes.size() && (bytes[skip] == '\r' || bytes[skip] == '\n')) ++skip;
  bytes.remove_prefix(skip);
  if (bytes.empty()) return Error(0, "Empty message");

  std::optional<ParseError> error;
  if (bytes.size() > limits.max_message_bytes) {
    error = Error(513, "Message Too Large");
    bytes = bytes.substr(0, limits.max_message_bytes);
  }

  // Not make_unique: it would zero the buffer that memcpy overwrites anyway. The padding lets the
  // line and name scans read whole words without end checks (internal::kReadPadding).
  m.buffer_ = std::unique_ptr<char[]>(new char[bytes.size() + internal::kReadPadding]);
  std::memcpy(m.buffer_.get(), bytes.data(), bytes.size());
  std::memset(m.buffer_.get() + bytes.size(), 0, internal::kReadPadding);
  const char* buf = m.buffer_.get();
  const size_t n = bytes.size();
  std::string_view text(buf, n);

  // Start line.
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos) return Error(0, "No end of the start line");
  size_t line_len = (eol > 0 && buf[eol - 1] == '\r') ? eol - 1 : eol;
  std::string_view line = text.substr(0, line_len);
  m.start_line_ = line;
  auto set_error = [&error](int code, std::string reason) {
    if (!error) error = Error(code, std::move(reason));
  };
  if (line.size() >= 4 && core::EqualsIgnoreCase(line.substr(0, 4), "SIP/")) {
    size_t sp = line.find(' ');
    m.version_ = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    size_t sp2 = rest.find(' ');
    std::string_view code = rest.substr(0, sp2);
    m.reason_ = sp2 == std::string_view::npos ? std::string_view() : rest.substr(sp2 + 1);
    uint64_t value = 0;
    bool code_ok = code.size() == 3 && internal::ParseDecimal(code, 999, &value) && value >= 100 &&
                   value <= 699;
    // A broken response cannot be answered: it is dropped (status 0).
    if (!IsSip20(m.version_)) return Error(0, "Unsupported SIP version in the Status-Line");
    if (!code_ok) return Error(0, "Bad status code");
    m.status_code_ = static_cast<int>(value);
  } else {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) return Error(0, "Not a SIP message");
    m.method_text_ = line.substr(0, sp);
    if (!IsToken(m.method_text_)) return Error(0, "Not a SIP message");
    m.method_ = MethodFromString(m.method_text_);
    std::string_view rest = line.substr(sp + 1);
    std::string_view trimmed = internal::TrimRight(rest);
    size_t sp2 = trimmed.rfind(' ');
    if (sp2 == std::string_view::npos) {
      set_error(400, "Malformed Request-Line");
    } else {
      m.request_uri_text_ = trimmed.substr(0, sp2);
      m.version_ = trimmed.substr(sp2 + 1);
      if (trimmed.size() != rest.size()) set_error(400, "Whitespace after the SIP version");
      if (!m.request_uri_text_.empty() && m.request_uri_text_.front() == ' ') {
        set_error(400, "Extra whitespace in the Request-Line");
      }
      if (!LooksLikeVersion(m.version_)) {
        set_error(400, "Malformed Request-Line");
      } else if (!IsSip20(m.version_)) {
        set_error(505, "Version Not Supported");
      }
      std::string_view uri = internal::Trim(m.request_uri_text_);
      if (uri.find(' ') != std::string_view::npos) {
        set_error(400, "Whitespace in the Request-URI");
      } else if (!uri.empty() && uri.front() == '<') {
        set_error(400, "Request-URI must not be enclosed in <>");
      } else {
        // Parsed in place: no Result<Uri> to copy out of.
        if (internal::ParseUriInto(uri, m.request_uri_) != nullptr) {
          m.request_uri_ = Uri();
          set_error(400, "Bad Request-URI");
        }
      }
    }
  }

  // Header lines.
  size_t pos = eol + 1;
  size_t body_start = n;
  bool headers_done = false;
  while (pos < n) {
    if (pos > limits.max_header_bytes) {
      set_error(513, "Message Too Large");
      break;
    }
    if (buf[pos] == '\r' && pos + 1 < n && buf[pos + 1] == '\n') {
      body_start = pos + 2;
      headers_done = true;
      break;
    }
    if (buf[pos] == '\n') {
      body_start = pos + 1;
      headers_done = true;
      break;
    }
    if (IsSpHt(buf[pos])) {
      set_error(400, "Folded line without a header");
      break;
    }
    // One header: this line plus every following line that starts with whitespace (folding).
    size_t end = pos;
    for (;;) {
      end = FindNewline(buf, end, n);
      if (end + 1 < n && IsSpHt(buf[end + 1])) {
        end += 1;
        continue;
      }
      break;
    }
    std::string_view header = text.substr(pos, end - pos);
    // The name is a token, then optional whitespace, then ':' (§7.3.1).
    size_t name_end = 0;
    size_t colon = 0;
    HeaderId id = SplitKnownName(header.data(), header.size(), &name_end, &colon);
    if (id == HeaderId::kOther) {
      while (name_end < header.size() && internal::Is(header[name_end], internal::kTokenChar)) {
        ++name_end;
      }
      colon = name_end;
      while (colon < header.size() && IsSpHt(header[colon])) ++colon;
      if (colon >= header.size() || header[colon] != ':') {
        set_error(400, header.find(':') == std::string_view::npos ? "Header line without a colon"
                                                                  : "Bad header name");
        break;
      }
      if (name_end == 0 || name_end > 0xFFFF) {
        set_error(400, "Bad header name");
        break;
      }
      id = internal::HeaderIdFromPaddedName(header.data(), name_end);
    }
    std::string_view name = header.substr(0, name_end);
    std::string_view value = internal::Trim(header.substr(colon + 1));
    if (!m.AddSlot(static_cast<uint32_t>(name.data() - buf), static_cast<uint16_t>(name.size()),
                   static_cast<uint32_t>(value.data() - buf), static_cast<uint32_t>(value.size()),
                   id, limits.max_headers)) {
      set_error(513, "Too many header fields");
      break;
    }
    pos = end + 1;
  }
  (void)headers_done;  // a datagram may end without the empty line; the body is then empty

  // Body, framed by Content-Length (§18.3, §20.14).
  std::optional<uint32_t> content_length;
  const size_t cl_id = static_cast<size_t>(HeaderId::kContentLength);
  const size_t cl_from = m.count_[cl_id] == 0 ? m.header_count_ : m.first_[cl_id];
  for (size_t i = cl_from; i < m.header_count_ && !error; ++i) {
    const Message::Slot& s = m.slot(i);
    if (s.id != HeaderId::kContentLength) continue;
    auto cl = ParseUint32(m.SlotValue(s));
    if (!cl.ok()) {
      set_error(400, "Bad Content-Length");
    } else if (content_length && *content_length != *cl) {
      set_error(400, "Conflicting Content-Length headers");
    } else {
      content_length = *cl;
    }
  }
  size_t available = n > body_start ? n - body_start : 0;
  size_t body_len = available;
  if (content_length) {
    if (*content_length > available) {
      set_error(400, "Content-Length larger than the message body");
    } else {
      body_len = *content_length;
    }
  } else if (options.framing == Framing::kStream && available > 0) {
    set_error(400, "Missing Content-Length");
  }
  if (body_len > limits.max_body_bytes) set_error(513, "Message Too Large");
  body_start = std::min(body_start, n);
  body_len = std::min(body_len, n - body_start);
  m.body_ = text.substr(body_start, body_len);
  m.size_ = body_start + body_len;

  if (error) {
    if (m.is_request() && error->status_code != 0 && error->response.empty()) {
      error->response = BuildErrorResponse(m, error->status_code, error->reason);
    }
    if (m.is_response()) error->status_code = 0;
    return error;
  }
  m.content_length_ = content_length;
  if (options.validate) return ValidateMessage(m);
  return std::nullopt;
}

Parsed<Message> Message::Parse(std::string_view bytes, const ParseOptions& options) {
  return MessageParser::Parse(bytes, options);
}

Message Message::Clone() const { return ParseAgain(raw()); }

namespace {

// Where the views of a message's bytes go when [at, at + removed) of them becomes `added` new
// bytes: a view before the range keeps its offset, one after it moves by the difference.
struct Rebase {
  const char* old_bytes;
  size_t old_size;
  const char* new_bytes;
  size_t at, removed, added;

  void operator()(std::string_view& v) const {
    // Views of other memory (literals, nullptr) stay as they are; an empty one at the end of
    // the bytes (a body that is absent) moves with them.
    if (v.data() == nullptr || v.data() < old_bytes || v.data() > old_bytes + old_size) return;
    size_t offset = static_cast<size_t>(v.data() - old_bytes);
    if (offset >= at + removed) offset = offset - removed + added;
    v = std::string_view(new_bytes + offset, v.size());
  }
  void operator()(std::optional<std::string_view>& v) const {
    if (v) (*this)(*v);
  }
  void operator()(Uri& u) const {
    for (auto* v : {&u.scheme_text, &u.user, &u.password, &u.host, &u.params_raw, &u.headers_raw,
                    &u.opaque, &u.text}) {
      (*this)(*v);
    }
  }
  void operator()(std::optional<NameAddr>& n) const {
    if (!n) return;
    (*this)(n->display_name);
    (*this)(n->uri);
    (*this)(n->params_raw);
    (*this)(n->tag_value);
  }
  void operator()(std::optional<CSeq>& c) const {
    if (c) (*this)(c->method);
  }
  void operator()(std::optional<Via>& v) const {
    if (!v) return;
    for (auto* part :
         {&v->protocol_name, &v->protocol_version, &v->transport, &v->host, &v->params_raw}) {
      (*this)(*part);
    }
    (*this)(v->branch_value);
  }
};

}  // namespace

Status Message::ReplaceInHeaderValue(size_t at, size_t length, std::string_view text) {
  Slot* target = nullptr;
  for (size_t i = 0; i < header_count_; ++i) {
    Slot& s = slot(i);
    if (s.value_offset <= at && at + length <= size_t{s.value_offset} + s.value_length) {
      target = &s;
      break;
    }
  }
  if (target == nullptr) {
    return Status::InvalidArgument("the bytes to replace are not inside one header value");
  }
  if (target->id == HeaderId::kContentLength) {
    return Status::InvalidArgument("Content-Length frames the body: not replaceable");
  }
  const size_t new_size = size_ - length + text.size();
  if (new_size > UINT32_MAX) return Status::InvalidArgument("message too large");
  auto bytes = std::unique_ptr<char[]>(new char[new_size + internal::kReadPadding]);
  const char* old_bytes = buffer_.get();
  std::memcpy(bytes.get(), old_bytes, at);
  std::memcpy(bytes.get() + at, text.data(), text.size());
  std::memcpy(bytes.get() + at + text.size(), old_bytes + at + length, size_ - at - length);
  std::memset(bytes.get() + new_size, 0, internal::kReadPadding);

  const Rebase rebase{old_bytes, size_, bytes.get(), at, length, text.size()};
  for (auto* v : {&start_line_, &method_text_, &request_uri_text_, &version_, &reason_, &body_}) {
    rebase(*v);
  }
  rebase(request_uri_);
  rebase(top_via_);
  rebase(from_);
  rebase(to_);
  rebase(contact_);
  rebase(cseq_);
  // What was parsed from the header the bytes were in is parsed again when asked for.
  switch (target->id) {
    case HeaderId::kVia:
      top_via_.reset();
      break;
    case HeaderId::kFrom:
      from_.reset();
      break;
    case HeaderId::kTo:
      to_.reset();
      break;
    case HeaderId::kContact:
      contact_.reset();
      break;
    case HeaderId::kCSeq:
      cseq_.reset();
      break;
    case HeaderId::kCallId:
      call_id_checked_ = false;
      break;
    default:
      break;
  }
  target->value_length = static_cast<uint32_t>(target->value_length - length + text.size());
  for (size_t i = 0; i < header_count_; ++i) {
    Slot& s = slot(i);
    if (s.name_offset >= at + length)
      s.name_offset = static_cast<uint32_t>(s.name_offset - length + text.size());
    if (s.value_offset >= at + length)
      s.value_offset = static_cast<uint32_t>(s.value_offset - length + text.size());
  }
  buffer_ = std::move(bytes);
  size_ = new_size;
  return Status::Ok();
}

Message Message::ParseAgain(std::string_view raw) {
  return Parse(raw, TrustedParseOptions(raw.size())).value();
}

ParseOptions Message::TrustedParseOptions(size_t size) {
  ParseOptions options;
  options.validate = false;
  // No count or size can exceed the bytes themselves.
  options.limits.max_message_bytes = size + 1;
  options.limits.max_header_bytes = size + 1;
  options.limits.max_body_bytes = size + 1;
  options.limits.max_headers = size + 1;
  return options;
}

HeaderField Message::header(size_t index) const {
  const Slot& s = slot(index);
  return {s.id, std::string_view(buffer_.get() + s.name_offset, s.name_length), SlotValue(s)};
}

std::optional<std::string_view> Message::Header(std::string_view name) const {
  HeaderId id = HeaderIdFromName(name);
  if (id != HeaderId::kOther) return Header(id);
  for (size_t i = 0; i < header_count_; ++i) {
    const Slot& s = slot(i);
    if (s.id == HeaderId::kOther &&
        core::EqualsIgnoreCase(std::string_view(buffer_.get() + s.name_offset, s.name_length),
                               name)) {
      return SlotValue(s);
    }
  }
  return std::nullopt;
}

size_t Message::CountSlots(HeaderId id) const {
  size_t count = 0;
  for (size_t i = first_[static_cast<size_t>(id)]; i < header_count_; ++i) {
    if (slot(i).id == id) ++count;
  }
  return count;
}

// ValueList ------------------------------------------------------------------------------------

ValueList::Iterator::Iterator(const Message* m, HeaderId id, size_t slot)
    : message_(m), id_(id), slot_(slot) {
  if (id_ != HeaderId::kOther && id_ < HeaderId::kCount && slot_ == 0) {
    uint16_t first = m->first_[static_cast<size_t>(id_)];
    slot_ = first == Message::kNoSlot ? m->header_count_ : first;
  }
  NextSlot();
}

void ValueList::Iterator::NextSlot() {
  while (slot_ < message_->header_count_ && message_->slot(slot_).id != id_) ++slot_;
  if (slot_ >= message_->header_count_ || id_ == HeaderId::kOther) {
    slot_ = message_->header_count_;
    current_ = {};
    pending_ = false;
    return;
  }
  rest_ = message_->SlotValue(message_->slot(slot_));
  TakeElement();
}

namespace {
// Cuts the first comma-separated element off `rest` into `current` (trimmed; an empty element is an
// empty view at its place) and leaves in `rest` what follows its comma. False when no comma
// followed: the element was the line's last.
bool SplitElement(HeaderId id, std::string_view& rest, std::string_view& current) {
  // Most list values hold one element: a vectorised memchr rules out a comma before the
  // quote-aware scan runs.
  bool maybe_list =
      IsListHeader(id) && !rest.empty() && std::memchr(rest.data(), ',', rest.size()) != nullptr;
  size_t comma = maybe_list ? internal::FindTopLevel(rest, ',', 0, true) : std::string_view::npos;
  if (comma == std::string_view::npos) {
    current = internal::Trim(rest);
    if (current.empty()) current = rest.substr(0, 0);
    return false;
  }
  current = internal::Trim(rest.substr(0, comma));
  if (current.empty()) current = rest.substr(comma, 0);
  rest = rest.substr(comma + 1);
  return true;
}
}  // namespace

std::optional<std::string_view> Message::FirstElement(HeaderId id) const {
  auto line = Header(id);
  if (!line) return std::nullopt;
  std::string_view first;
  SplitElement(id, *line, first);
  return first;
}

void ValueList::Iterator::TakeElement() { pending_ = SplitElement(id_, rest_, current_); }

ValueList::Iterator& ValueList::Iterator::operator++() {
  if (pending_) {
    TakeElement();
  } else {
    ++slot_;
    NextSlot();
  }
  return *this;
}

ValueList::Iterator ValueList::begin() const { return Iterator(message_, id_, 0); }
ValueList::Iterator ValueList::end() const {
  return Iterator(message_, id_, message_->header_count_);
}
bool ValueList::empty() const { return begin() == end(); }

size_t ValueList::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

}  // namespace sb::sip
