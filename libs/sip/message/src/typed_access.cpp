// Message's typed accessors: each parses its header on first use; the per-transaction ones
// (top Via, From, To, CSeq) are cached because every layer above asks for them.
#include "internal/scan.h"
#include "switchboard/sip/message.h"

namespace sb::sip {
namespace {

Status Missing(HeaderId id) {
  return Status::NotFound("missing " + std::string(HeaderName(id)) + " header");
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
  auto values = Values(HeaderId::kVia);
  auto it = values.begin();
  if (it == values.end()) return Missing(HeaderId::kVia);
  auto via = ParseVia(*it);
  if (!via.ok()) return via.status();
  top_via_ = *via;
  return &*top_via_;
}

sb::Result<const NameAddr*> Message::From() const {
  if (from_) return &*from_;
  auto raw = Header(HeaderId::kFrom);
  if (!raw) return Missing(HeaderId::kFrom);
  auto v = ParseNameAddr(*raw);
  if (!v.ok()) return v.status();
  from_ = *v;
  return &*from_;
}

sb::Result<const NameAddr*> Message::To() const {
  if (to_) return &*to_;
  auto raw = Header(HeaderId::kTo);
  if (!raw) return Missing(HeaderId::kTo);
  auto v = ParseNameAddr(*raw);
  if (!v.ok()) return v.status();
  to_ = *v;
  return &*to_;
}

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
  size_t at = v.find('@');
  std::string_view left = v.substr(0, at);
  std::string_view right = at == std::string_view::npos ? std::string_view("x") : v.substr(at + 1);
  if (!internal::AllOf(left, internal::kWordChar) || !internal::AllOf(right, internal::kWordChar)) {
    return Status::InvalidArgument("Call-ID: not word [\"@\" word]", "Call-ID");
  }
  return v;
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
  return Optional<uint32_t>(*this, HeaderId::kContentLength, ParseUint32);
}

sb::Result<std::optional<MediaType>> Message::ContentType() const {
  return Optional<MediaType>(*this, HeaderId::kContentType, ParseMediaType);
}

sb::Result<std::optional<EventValue>> Message::Event() const {
  return Optional<EventValue>(*this, HeaderId::kEvent, ParseEvent);
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
    if (internal::EqualsNoCase(v, token)) return true;
  }
  return false;
}

}  // namespace sb::sip
