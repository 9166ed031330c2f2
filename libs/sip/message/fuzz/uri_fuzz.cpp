// libFuzzer target: URI parsing, parameter/header iteration, unescaping, comparison and the
// name-addr parser must never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchboard/sip/headers.h"
#include "switchboard/sip/uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto uri = sb::sip::ParseUri(text);
  if (uri.ok()) {
    for (const auto& p : uri->params()) (void)sb::sip::Unescape(p.value);
    for (const auto& h : uri->headers()) (void)sb::sip::Unescape(h.value);
    (void)uri->UserUnescaped();
    (void)uri->ParamUnescaped("transport");
    (void)sb::sip::UriEquivalent(*uri, *uri);
    // Split the input in two URIs to compare different ones.
    if (auto other = sb::sip::ParseUri(text.substr(0, size / 2)); other.ok()) {
      (void)sb::sip::UriEquivalent(*uri, *other);
    }
    (void)sb::sip::Escape(uri->UserUnescaped(), sb::sip::UriComponent::kUser);
  }
  if (auto na = sb::sip::ParseNameAddr(text); na.ok()) {
    (void)na->DisplayNameUnquoted();
    (void)na->tag();
  }
  if (auto via = sb::sip::ParseVia(text); via.ok()) (void)via->branch();
  return 0;
}
