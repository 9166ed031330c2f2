// libFuzzer target for every parser in sb::rtp: the first byte picks the parser, the rest is the
// input. Parsers must never read out of bounds or crash, whatever the bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "switchboard/rtp/rtcp.h"
#include "switchboard/rtp/rtp_packet.h"
#include "switchboard/rtp/sdes_crypto.h"
#include "switchboard/rtp/telephone_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> input(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto p = sb::rtp::ParseRtp(input);
      if (p.ok()) {
        // A parsed packet must rebuild to the same bytes (padding aside).
        std::array<uint8_t, 70000> out;
        (void)sb::rtp::BuildRtp(p->header, p->payload, out, p->padding);
      }
      break;
    }
    case 1: {
      std::array<sb::rtp::RtcpPacketView, 16> parts;
      auto n = sb::rtp::SplitCompound(input, parts);
      static sb::rtp::Sdes sdes;
      for (size_t i = 0; n.ok() && i < *n; ++i) {
        (void)sb::rtp::ParseSenderReport(parts[i]);
        (void)sb::rtp::ParseReceiverReport(parts[i]);
        (void)sb::rtp::ParseSdes(parts[i], sdes);
        (void)sb::rtp::ParseBye(parts[i]);
      }
      break;
    }
    case 2: {
      sb::rtp::TelephoneEventReceiver receiver;
      for (size_t i = 0; i + 8 <= input.size(); i += 8) {
        const uint32_t ts =
            (uint32_t{input[i]} << 24) | (input[i + 1] << 16) | (input[i + 2] << 8) | input[i + 3];
        (void)receiver.OnPacket(ts, input.subspan(i + 4, 4));
      }
      break;
    }
    default: {
      auto c = sb::rtp::ParseCryptoAttribute(
          std::string_view(reinterpret_cast<const char*>(input.data()), input.size()));
      if (c.ok()) (void)sb::rtp::FormatCryptoAttribute(*c);
      break;
    }
  }
  return 0;
}
