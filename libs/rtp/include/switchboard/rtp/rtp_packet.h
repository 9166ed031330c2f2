// RTP data packets (RFC 3550 §5.1): parse a datagram into a view of its header and payload, and
// build one into a caller's buffer. Both are allocation-free; a view borrows the datagram.
//
//   auto packet = sb::rtp::ParseRtp(datagram);
//   if (!packet.ok()) return CountMalformed(packet.status());
//   Deliver(packet->header.ssrc, packet->header.sequence, packet->payload);
//
//   sb::rtp::RtpHeader h{.payload_type = 0, .sequence = seq++, .timestamp = ts, .ssrc = ssrc};
//   std::array<uint8_t, 1500> buf;
//   auto len = sb::rtp::BuildRtp(h, payload, buf);
//
// Parsing checks what §A.1 asks of a valid packet (version 2, lengths consistent with the CSRC
// count, the extension and the padding) and nothing else: the payload type and the SSRC are the
// session's business.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "switchboard/core/status.h"

namespace sb::rtp {

inline constexpr size_t kRtpFixedHeaderSize = 12;
inline constexpr int kMaxCsrc = 15;

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;  // 0..127
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  std::array<uint32_t, kMaxCsrc> csrc{};
  // Header extension (§5.3.1), present when has_extension: the 16-bit profile field and the
  // extension body (a multiple of 4 bytes).
  bool has_extension = false;
  uint16_t extension_profile = 0;
  std::span<const uint8_t> extension{};
};

struct RtpPacketView {
  RtpHeader header;
  std::span<const uint8_t> payload;  // without padding
  uint8_t padding = 0;               // padding bytes that followed the payload
  size_t header_size = 0;            // fixed header + CSRCs + extension
};

Result<RtpPacketView> ParseRtp(std::span<const uint8_t> datagram);

// True when the first two bits say version 2 and the second byte is not an RTCP packet type
// (RFC 5761 §4: 192..223 are RTCP when RTP and RTCP share a port).
bool LooksLikeRtp(std::span<const uint8_t> datagram);

// Writes header and payload into out (padding: that many bytes appended, with the P bit);
// returns the packet size.
Result<size_t> BuildRtp(const RtpHeader& header, std::span<const uint8_t> payload,
                        std::span<uint8_t> out, uint8_t padding = 0);

}  // namespace sb::rtp
