#include "session/rtp_wire.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace sb::media {
namespace {

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

constexpr char kDigits[] = "0123456789*#ABCD";

}  // namespace

Result<RtpView> ParseRtp(std::span<const uint8_t> packet) {
  if (packet.size() < kRtpHeaderSize) return Status::InvalidArgument("shorter than an RTP header");
  const uint8_t* p = packet.data();
  if ((p[0] >> 6) != 2) return Status::InvalidArgument("not RTP version 2");
  RtpView view;
  view.marker = (p[1] & 0x80) != 0;
  view.payload_type = p[1] & 0x7f;
  if (view.payload_type >= 72 && view.payload_type <= 76) {
    return Status::InvalidArgument("an RTCP packet type in the RTP payload type");
  }
  view.sequence = Get16(p + 2);
  view.timestamp = Get32(p + 4);
  view.ssrc = Get32(p + 8);
  size_t header = kRtpHeaderSize + 4u * (p[0] & 0x0f);
  if ((p[0] & 0x10) != 0) {
    if (packet.size() < header + 4) return Status::InvalidArgument("truncated header extension");
    header += 4 + 4u * Get16(p + header + 2);
  }
  if (packet.size() < header) return Status::InvalidArgument("truncated RTP header");
  size_t end = packet.size();
  if ((p[0] & 0x20) != 0) {
    uint8_t padding = p[end - 1];
    if (padding == 0 || padding > end - header) return Status::InvalidArgument("bad padding");
    end -= padding;
  }
  view.header_size = header;
  view.payload = packet.subspan(header, end - header);
  return view;
}

bool IsRtcp(std::span<const uint8_t> packet) {
  return packet.size() >= 8 && (packet[0] >> 6) == 2 && packet[1] >= 192 && packet[1] <= 223;
}

size_t WriteRtpHeader(const RtpHeader& header, std::span<uint8_t> out) {
  uint8_t* p = out.data();
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((header.marker ? 0x80 : 0) | (header.payload_type & 0x7f));
  Put16(p + 2, header.sequence);
  Put32(p + 4, header.timestamp);
  Put32(p + 8, header.ssrc);
  return kRtpHeaderSize;
}

void RewriteRtpHeader(std::span<uint8_t> packet, uint16_t sequence, uint32_t timestamp,
                      uint32_t ssrc) {
  Put16(packet.data() + 2, sequence);
  Put32(packet.data() + 4, timestamp);
  Put32(packet.data() + 8, ssrc);
}

Result<TelephoneEvent> ParseTelephoneEvent(std::span<const uint8_t> payload) {
  if (payload.size() < 4) return Status::InvalidArgument("telephone-event payload under 4 bytes");
  TelephoneEvent event;
  event.event = payload[0];
  event.end = (payload[1] & 0x80) != 0;
  event.volume = payload[1] & 0x3f;
  event.duration = Get16(payload.data() + 2);
  return event;
}

void WriteTelephoneEvent(const TelephoneEvent& event, std::span<uint8_t, 4> out) {
  out[0] = event.event;
  out[1] = static_cast<uint8_t>((event.end ? 0x80 : 0) | (event.volume & 0x3f));
  Put16(out.data() + 2, event.duration);
}

char EventToDigit(uint8_t event) { return event < 16 ? kDigits[event] : 0; }

int DigitToEvent(char digit) {
  const char* at = std::strchr(kDigits, digit);
  return digit != 0 && at != nullptr ? static_cast<int>(at - kDigits) : -1;
}

size_t WriteRtcpSenderReport(const SenderInfo& sender, const ReportBlock* block,
                             std::string_view cname, std::span<uint8_t> out) {
  const size_t sr_size = 28 + (block != nullptr ? 24 : 0);
  // SDES: header 4, SSRC 4, item type+len 2, text, end 1, padded to 32 bits.
  const size_t cname_len = std::min<size_t>(cname.size(), 255);
  const size_t sdes_size = (4 + 4 + 2 + cname_len + 1 + 3) / 4 * 4;
  if (out.size() < sr_size + sdes_size) return 0;
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x80 | (block != nullptr ? 1 : 0));
  p[1] = 200;
  Put16(p + 2, static_cast<uint16_t>(sr_size / 4 - 1));
  Put32(p + 4, sender.ssrc);
  Put32(p + 8, static_cast<uint32_t>(sender.ntp_timestamp >> 32));
  Put32(p + 12, static_cast<uint32_t>(sender.ntp_timestamp));
  Put32(p + 16, sender.rtp_timestamp);
  Put32(p + 20, sender.packet_count);
  Put32(p + 24, sender.octet_count);
  if (block != nullptr) {
    uint8_t* b = p + 28;
    Put32(b, block->ssrc);
    uint32_t lost = static_cast<uint32_t>(std::clamp(block->cumulative_lost, -0x800000, 0x7fffff));
    Put32(b + 4, static_cast<uint32_t>(block->fraction_lost) << 24 | (lost & 0xffffff));
    Put32(b + 8, block->extended_highest_sequence);
    Put32(b + 12, block->jitter);
    Put32(b + 16, block->last_sr);
    Put32(b + 20, block->delay_since_last_sr);
  }
  uint8_t* s = p + sr_size;
  std::memset(s, 0, sdes_size);
  s[0] = 0x81;
  s[1] = 202;
  Put16(s + 2, static_cast<uint16_t>(sdes_size / 4 - 1));
  Put32(s + 4, sender.ssrc);
  s[8] = 1;  // CNAME
  s[9] = static_cast<uint8_t>(cname_len);
  std::memcpy(s + 10, cname.data(), cname_len);
  return sr_size + sdes_size;
}

Result<RtcpSummary> ParseRtcpHeader(std::span<const uint8_t> packet) {
  if (!IsRtcp(packet)) return Status::InvalidArgument("not an RTCP packet");
  size_t length = (static_cast<size_t>(Get16(packet.data() + 2)) + 1) * 4;
  if (length > packet.size()) return Status::InvalidArgument("RTCP length past the datagram");
  RtcpSummary summary;
  summary.ssrc = Get32(packet.data() + 4);
  if (packet[1] == 200) {
    if (length < 28) return Status::InvalidArgument("SR shorter than its sender info");
    summary.sender_report = true;
    summary.ntp_middle = Get32(packet.data() + 10);
  }
  return summary;
}

}  // namespace sb::media
