// libFuzzer target: the message parser with validation, every typed accessor, re-serialization,
// the response builder and the stream framer must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto strict = sb::sip::Message::Parse(bytes);
  if (strict.ok()) Exercise(*strict);
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
