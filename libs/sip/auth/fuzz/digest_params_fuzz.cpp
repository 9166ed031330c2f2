// libFuzzer target for the Digest header value parsers (untrusted Authorization values).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "switchboard/sip/digest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto credentials = sb::sip::ParseCredentials(text);
  if (credentials.ok()) {
    auto again = sb::sip::ParseCredentials(sb::sip::FormatCredentials(*credentials));
    if (!again.ok() || again->response != credentials->response) std::abort();
  }
  auto challenge = sb::sip::ParseChallenge(text);
  if (challenge.ok()) {
    auto again = sb::sip::ParseChallenge(sb::sip::FormatChallenge(*challenge));
    if (!again.ok() || again->nonce != challenge->nonce) std::abort();
  }
  return 0;
}
