// Message's typed accessors: each parses its header on first use; the per-transaction ones
// (top Via, From, To, CSeq) are cached because every layer above asks for them.
#include "internal/scan.h"
#include "switchboard/sip/message.h"

namespace sb::sip {
namespace {

Status Missing(HeaderId id) {
  return Status::NotFound("missing " + std::string(HeaderName(id)) + " header");
}

// The same Status the public parsers give ("Via: bad host in sent-by", field "Via").
Status Invalid(std::string_view what, const char* problem) {
  std::string m(what);
  m += ": ";
  m += problem;
  return Status::InvalidArgument(std::move(m), std::string(what));
}

template <typename T, typename F>
sb::Result<std::optional<T>> Optional(const Message& m, HeaderId id, F parse) {
  auto raw = m.Header(id);
  if (!raw) return std::optional<T>();
  auto v = parse(*raw);
  if (!v.ok()) return v.status();
  return std::optional<T>(*v);
}

}  // namespace

sb::Result<const Via*> Message::TopVia() const {
  if (top_via_) return &*top_via_;
  auto first = FirstElement(HeaderId::kVia);
  if (!first) return Missing(HeaderId::kVia);
  top_via_.emplace();
  if (const char* problem = internal::ParseViaInto(*first, *top_via_)) {
    top_via_.reset();
    return Invalid("Via", problem);
  }
  return &*top_via_;
}

sb::Result<const NameAddr*> Message::From() const { return CachedNameAddr(HeaderId::kFrom, from_); }

sb::Result<const NameAddr*> Message::To() const { return CachedNameAddr(HeaderId::kTo, to_); }

sb::Result<const CSeq*> Message::GetCSeq() const {
  if (cseq_) return &*cseq_;
  auto raw = Header(HeaderId::kCSeq);
  if (!raw) return Missing(HeaderId::kCSeq);
  auto v = ParseCSeq(*raw);
  if (!v.ok()) return v.status();
  cseq_ = *v;
  return &*cseq_;
}

sb::Result<std::string_view> Message::CallId() const {
  auto raw = Header(HeaderId::kCallId);
  if (!raw) return Missing(HeaderId::kCallId);
  std::string_view v = internal::Trim(*raw);
  if (call_id_checked_) return v;
  size_t at = v.find('@');
  std::string_view left = v.substr(0, at);
  std::string_view right = at == std::string_view::npos ? std::string_view("x") : v.substr(at + 1);
  if (!internal::AllOf(left, internal::kWordChar) || !internal::AllOf(right, internal::kWordChar)) {
    return Status::InvalidArgument("Call-ID: not word [\"@\" word]", "Call-ID");
  }
  call_id_checked_ = true;
  return v;
}

sb::Result<const NameAddr*> Message::FirstContact() const {
  if (contact_) return &*contact_;
  auto first = FirstElement(HeaderId::kContact);
  if (!first) return Missing(HeaderId::kContact);
  contact_.emplace();
  if (const char* problem = internal::ParseContactInto(*first, *contact_)) {
    contact_.reset();
    return Invalid("name-addr", problem);
  }
  return &*contact_;
}

sb::Result<const NameAddr*> Message::CachedNameAddr(HeaderId id,
                                                    std::optional<NameAddr>& cache) const {
  if (cache) return &*cache;
  auto raw = Header(id);
  if (!raw) return Missing(id);
  cache.emplace();
  if (const char* problem = internal::ParseNameAddrInto(*raw, *cache)) {
    cache.reset();
    return Invalid("name-addr", problem);
  }
  return &*cache;
}

sb::Result<std::optional<uint32_t>> Message::MaxForwards() const {
  return Optional<uint32_t>(
      *this, HeaderId::kMaxForwards, [](std::string_view v) -> sb::Result<uint32_t> {
        auto n = ParseUint32(v);
        if (!n.ok() || *n > 255)
          return Status::InvalidArgument("Max-Forwards: not 0..255", "Max-Forwards");
        return *n;
      });
}

sb::Result<std::optional<uint32_t>> Message::Expires() const {
  return Optional<uint32_t>(*this, HeaderId::kExpires, ParseUint32);
}

sb::Result<std::optional<uint32_t>> Message::ContentLength() const {
  // Parse refuses a message whose Content-Length does not parse, so the framing value is it.
  return content_length_;
}

sb::Result<std::optional<MediaType>> Message::ContentType() const {
  return Optional<MediaType>(*this, HeaderId::kContentType, ParseMediaType);
}

sb::Result<std::optional<EventValue>> Message::Event() const {
  return Optional<EventValue>(*this, HeaderId::kEvent, ParseEvent);
}

sb::Result<std::optional<uint32_t>> Message::RSeq() const {
  return Optional<uint32_t>(*this, HeaderId::kRSeq, ParseRSeq);
}

sb::Result<std::optional<RAckValue>> Message::RAck() const {
  return Optional<RAckValue>(*this, HeaderId::kRAck, ParseRAck);
}

sb::Result<std::optional<NameAddr>> Message::ReferTo() const {
  return Optional<NameAddr>(*this, HeaderId::kReferTo, ParseNameAddr);
}

sb::Result<std::optional<NameAddr>> Message::ReferredBy() const {
  return Optional<NameAddr>(*this, HeaderId::kReferredBy, ParseNameAddr);
}

sb::Result<std::optional<ReplacesValue>> Message::Replaces() const {
  return Optional<ReplacesValue>(*this, HeaderId::kReplaces, ParseReplaces);
}

sb::Result<std::optional<SessionExpiresValue>> Message::SessionExpires() const {
  return Optional<SessionExpiresValue>(*this, HeaderId::kSessionExpires, ParseSessionExpires);
}

sb::Result<std::vector<NameAddr>> Message::NameAddrs(HeaderId id) const {
  std::vector<NameAddr> out;
  for (std::string_view v : Values(id)) {
    auto na = id == HeaderId::kContact ? ParseContact(v) : ParseNameAddr(v);
    if (!na.ok()) return na.status();
    out.push_back(*na);
  }
  return out;
}

sb::Result<std::vector<AuthValue>> Message::Auths(HeaderId id) const {
  std::vector<AuthValue> out;
  for (std::string_view v : Values(id)) {
    auto a = ParseAuth(v);
    if (!a.ok()) return a.status();
    out.push_back(*a);
  }
  return out;
}

std::vector<std::string_view> Message::Tokens(HeaderId id) const {
  std::vector<std::string_view> out;
  for (std::string_view v : Values(id)) {
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

bool Message::HasToken(HeaderId id, std::string_view token) const {
  for (std::string_view v : Values(id)) {
    if (core::EqualsIgnoreCase(v, token)) return true;
  }
  return false;
}

}  // namespace sb::sip
