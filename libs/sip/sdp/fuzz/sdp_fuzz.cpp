// libFuzzer target for the SDP parser and the accessors and answer generator behind it: any
// input must give a value or an error, and whatever parses must serialize to text that parses to
// the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "switchboard/sip/sdp.h"
#include "switchboard/sip/sdp_offer_answer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sd = sb::sdp::Parse(text);
  if (!sd.ok()) return 0;
  auto again = sb::sdp::Parse(sb::sdp::Serialize(*sd));
  if (!again.ok() || !(*again == *sd)) std::abort();
  for (const auto& m : sd->media) {
    (void)sb::sdp::Codecs(m);
    (void)sb::sdp::CryptoAttributes(m);
    (void)sb::sdp::IsOnHold(*sd, m);
    (void)sb::sdp::Ptime(m);
  }
  sb::sdp::LocalMedia audio;
  audio.port = 4000;
  audio.codecs = {sb::sdp::kPcmu, sb::sdp::kOpus};
  audio.crypto_keys = {{"AES_CM_128_HMAC_SHA1_80", "inline:a2V5"}};
  sb::sdp::AnswerOptions options;
  options.origin.session_id = "1";
  options.origin.session_version = "1";
  options.origin.address = "127.0.0.1";
  options.address = "127.0.0.1";
  options.media = {audio};
  auto answer = sb::sdp::CreateAnswer(*sd, options);
  if (answer.ok() && !sb::sdp::Parse(sb::sdp::Serialize(*answer)).ok()) std::abort();
  return 0;
}
