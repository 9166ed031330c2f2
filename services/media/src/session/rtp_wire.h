// RTP/RTCP wire helpers the media loop needs on every packet: an RTP header view (RFC 3550 §5.1),
// header writing, RFC 4733 telephone-event payloads and a compound RTCP SR + SDES (RFC 3550 §6.4.1,
// §6.5). Kept here, small and allocation free, because libs/rtp was not yet available when the
// service was written; they move there once it lands.
//
//   auto rtp = sb::media::ParseRtp(datagram);
//   if (!rtp.ok()) { ++malformed; return; }
//   Use(rtp->payload_type, rtp->sequence, rtp->payload);
//   size_t n = sb::media::WriteRtpHeader({.payload_type = 0, .sequence = 7, ...}, buffer);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "switchboard/core/status.h"

namespace sb::media {

inline constexpr size_t kRtpHeaderSize = 12;

struct RtpView {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  size_t header_size = 0;            // fixed header, CSRCs and the extension
  std::span<const uint8_t> payload;  // without padding
};

// INVALID_ARGUMENT for anything that is not version 2 RTP with consistent lengths, and for RTCP
// payload types 72..76 (RFC 5761 §4) so that a muxed RTCP packet is not taken for media.
Result<RtpView> ParseRtp(std::span<const uint8_t> packet);

// True when the packet looks like RTCP (version 2, packet type 192..223): RFC 5761 demux.
bool IsRtcp(std::span<const uint8_t> packet);

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
};

// Writes the 12-byte fixed header (no CSRC, no extension) to out (>= 12 bytes); returns 12.
size_t WriteRtpHeader(const RtpHeader& header, std::span<uint8_t> out);
// Rewrites sequence, timestamp and SSRC of a packet in place (relay with a new stream identity).
void RewriteRtpHeader(std::span<uint8_t> packet, uint16_t sequence, uint32_t timestamp,
                      uint32_t ssrc);

// RFC 4733 §2.3: event, end bit, volume and duration (in RTP timestamp units).
struct TelephoneEvent {
  uint8_t event = 0;  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D'
  bool end = false;
  uint8_t volume = 10;  // -dBm0, 0..63
  uint16_t duration = 0;
};
Result<TelephoneEvent> ParseTelephoneEvent(std::span<const uint8_t> payload);
void WriteTelephoneEvent(const TelephoneEvent& event, std::span<uint8_t, 4> out);
// '0'..'9', '*', '#', 'A'..'D' <-> RFC 4733 §3.2 event codes; 0 / -1 when not a DTMF digit.
char EventToDigit(uint8_t event);
int DigitToEvent(char digit);

// What goes into one receiver report block (RFC 3550 §6.4.1).
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;
  uint32_t extended_highest_sequence = 0;
  uint32_t jitter = 0;  // timestamp units
  uint32_t last_sr = 0;
  uint32_t delay_since_last_sr = 0;  // 1/65536 s
};

struct SenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

// A compound packet: SR (with at most one report block) followed by SDES with one CNAME item.
// Returns the size written, or 0 when out is too small.
size_t WriteRtcpSenderReport(const SenderInfo& sender, const ReportBlock* block,
                             std::string_view cname, std::span<uint8_t> out);

// The sender's SSRC and, for an SR, the middle 32 bits of its NTP timestamp (for LSR).
struct RtcpSummary {
  uint32_t ssrc = 0;
  bool sender_report = false;
  uint32_t ntp_middle = 0;
};
Result<RtcpSummary> ParseRtcpHeader(std::span<const uint8_t> packet);

}  // namespace sb::media
