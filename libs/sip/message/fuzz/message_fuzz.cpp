// libFuzzer target: the message parser with validation, every typed accessor, re-serialization,
// the response builder and the stream framer must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "switchboard/sip/builder.h"
#include "switchboard/sip/framer.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/multipart.h"

namespace {

void Exercise(const sb::sip::Message& m) {
  using sb::sip::HeaderId;
  (void)m.TopVia();
  (void)m.From();
  (void)m.To();
  (void)m.GetCSeq();
  (void)m.CallId();
  (void)m.MaxForwards();
  (void)m.Expires();
  (void)m.Event();
  (void)m.ReferTo();
  (void)m.ReferredBy();
  (void)m.Replaces();
  (void)m.SessionExpires();
  (void)m.RSeq();
  (void)m.RAck();
  if (auto contact = m.FirstContact(); contact.ok()) {
    // The cached first Contact is the first element a fresh parse gives.
    auto again = sb::sip::ParseContact(*m.Values(HeaderId::kContact).begin());
    if (!again.ok() || again->uri.text != (*contact)->uri.text) __builtin_trap();
  }
  if (auto length = m.ContentLength(); length.ok() && length->has_value()) {
    // The framing value: the body is never longer than Content-Length says.
    if (m.body().size() > **length) __builtin_trap();
  }
  for (HeaderId id : {HeaderId::kContact, HeaderId::kRoute, HeaderId::kRecordRoute,
                      HeaderId::kPAssertedIdentity}) {
    (void)m.NameAddrs(id);
  }
  for (HeaderId id : {HeaderId::kAuthorization, HeaderId::kWwwAuthenticate,
                      HeaderId::kProxyAuthenticate, HeaderId::kProxyAuthorization}) {
    if (auto auths = m.Auths(id); auths.ok()) {
      for (const auto& a : *auths) (void)a.GetUnquoted("nonce");
    }
  }
  (void)m.Tokens(HeaderId::kSupported);
  for (std::string_view v : m.Values(HeaderId::kVia)) (void)sb::sip::ParseVia(v);
  if (auto type = m.ContentType(); type.ok() && type->has_value()) {
    (void)sb::sip::SplitMultipart(m.body(), (*type)->boundary());
  }
  if (m.is_request()) {
    (void)sb::sip::MakeResponse(m, 200, {}, "t").BuildMessage();
    (void)sb::sip::CheckRequire(m, {"timer"});
  }
  (void)sb::sip::MessageBuilder::FromMessage(m).Build();
}

// The transaction layer's received stamp on the top Via: the message with bytes replaced in
// place reads exactly as its new bytes parsed again, typed values cached before included.
void CheckReplaced(sb::sip::Message& m) {
  using sb::sip::HeaderId;
  auto vias = m.Values(HeaderId::kVia);
  if (vias.begin() == vias.end()) return;
  const std::string_view top = *vias.begin();
  const std::string_view raw = m.raw();
  if (top.data() < raw.data() || top.data() + top.size() > raw.data() + raw.size()) return;
  (void)m.TopVia();
  (void)m.From();
  (void)m.To();
  (void)m.GetCSeq();
  (void)m.FirstContact();
  const size_t at = static_cast<size_t>(top.data() - raw.data());
  const std::string stamped = std::string(top) + ";received=192.0.2.1";
  std::string expected(raw);
  expected.replace(at, top.size(), stamped);
  if (!m.ReplaceInHeaderValue(at, top.size(), stamped).ok()) __builtin_trap();
  if (m.raw() != expected) __builtin_trap();
  auto again =
      sb::sip::Message::Parse(expected, sb::sip::Message::TrustedParseOptions(expected.size()));
  if (!again.ok()) return;
  if (again->header_count() != m.header_count() || again->body() != m.body() ||
      again->request_uri_text() != m.request_uri_text()) {
    __builtin_trap();
  }
  for (size_t i = 0; i < m.header_count(); ++i) {
    if (again->header(i).name != m.header(i).name || again->header(i).value != m.header(i).value) {
      __builtin_trap();
    }
  }
  auto same_uri = [](const auto& a, const auto& b) {
    return a.ok() == b.ok() &&
           (!a.ok() || ((*a)->uri.text == (*b)->uri.text && (*a)->params_raw == (*b)->params_raw));
  };
  if (!same_uri(m.From(), again->From()) || !same_uri(m.To(), again->To()) ||
      !same_uri(m.FirstContact(), again->FirstContact())) {
    __builtin_trap();
  }
  auto via = m.TopVia();
  auto via_again = again->TopVia();
  if (via.ok() != via_again.ok() || (via.ok() && (*via)->params_raw != (*via_again)->params_raw)) {
    __builtin_trap();
  }
  Exercise(m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto strict = sb::sip::Message::Parse(bytes);
  if (strict.ok()) {
    Exercise(*strict);
    CheckReplaced(*strict);
  }
  sb::sip::ParseOptions lenient;
  lenient.validate = false;
  auto m = sb::sip::Message::Parse(bytes, lenient);
  if (m.ok()) {
    Exercise(*m);
    (void)sb::sip::ValidateMessage(*m);
  }
  // The same bytes as a TCP stream cut in two reads.
  sb::sip::StreamFramer framer;
  framer.Append(bytes.substr(0, size / 2));
  for (int i = 0; i < 2; ++i) {
    for (int guard = 0; guard < 64; ++guard) {
      auto next = framer.Next();
      if (!next.ok() || !next->has_value()) break;
      sb::sip::ParseOptions stream;
      stream.framing = sb::sip::Framing::kStream;
      (void)sb::sip::Message::Parse(**next, stream);
    }
    framer.Append(bytes.substr(size / 2));
  }
  return 0;
}
