#include "switchboard/rtp/rtp_packet.h"

#include <algorithm>
#include <cstring>

#include "byte_order.h"

namespace sb::rtp {

using internal::Get16;
using internal::Get32;
using internal::Put16;
using internal::Put32;

// Error messages are short literals so that a flood of bad packets costs no allocation
// (they fit the small-string buffer).
Result<RtpPacketView> ParseRtp(std::span<const uint8_t> d) {
  if (d.size() < kRtpFixedHeaderSize) return Status::InvalidArgument("rtp: short");
  if ((d[0] >> 6) != 2) return Status::InvalidArgument("rtp: version");
  RtpPacketView v;
  RtpHeader& h = v.header;
  const bool padding = (d[0] & 0x20) != 0;
  h.has_extension = (d[0] & 0x10) != 0;
  h.csrc_count = d[0] & 0x0F;
  h.marker = (d[1] & 0x80) != 0;
  h.payload_type = d[1] & 0x7F;
  h.sequence = Get16(&d[2]);
  h.timestamp = Get32(&d[4]);
  h.ssrc = Get32(&d[8]);
  size_t pos = kRtpFixedHeaderSize + 4u * h.csrc_count;
  if (d.size() < pos) return Status::InvalidArgument("rtp: csrc");
  for (int i = 0; i < h.csrc_count; ++i) h.csrc[i] = Get32(&d[kRtpFixedHeaderSize + 4u * i]);
  if (h.has_extension) {
    if (d.size() < pos + 4) return Status::InvalidArgument("rtp: ext");
    h.extension_profile = Get16(&d[pos]);
    const size_t words = Get16(&d[pos + 2]);
    pos += 4;
    if (d.size() < pos + 4 * words) return Status::InvalidArgument("rtp: ext len");
    h.extension = d.subspan(pos, 4 * words);
    pos += 4 * words;
  }
  size_t end = d.size();
  if (padding) {
    v.padding = d.back();
    // The count includes itself, so 0 is invalid (§A.1).
    if (v.padding == 0 || v.padding > end - pos) return Status::InvalidArgument("rtp: padding");
    end -= v.padding;
  }
  v.header_size = pos;
  v.payload = d.subspan(pos, end - pos);
  return v;
}

bool LooksLikeRtp(std::span<const uint8_t> d) {
  if (d.size() < kRtpFixedHeaderSize || (d[0] >> 6) != 2) return false;
  return d[1] < 192 || d[1] > 223;
}

Result<size_t> BuildRtp(const RtpHeader& h, std::span<const uint8_t> payload,
                        std::span<uint8_t> out, uint8_t padding) {
  if (h.payload_type > 127) return Status::InvalidArgument("rtp: PT > 127", "payload_type");
  if (h.csrc_count > kMaxCsrc) return Status::InvalidArgument("rtp: csrc count", "csrc_count");
  if (h.has_extension && h.extension.size() % 4 != 0) {
    return Status::InvalidArgument("rtp: ext words", "extension");
  }
  const size_t header =
      kRtpFixedHeaderSize + 4u * h.csrc_count + (h.has_extension ? 4 + h.extension.size() : 0);
  const size_t total = header + payload.size() + padding;
  if (out.size() < total) return Status::ResourceExhausted("rtp: buffer");
  out[0] = static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | (h.has_extension ? 0x10 : 0) |
                                h.csrc_count);
  out[1] = static_cast<uint8_t>((h.marker ? 0x80 : 0) | h.payload_type);
  Put16(&out[2], h.sequence);
  Put32(&out[4], h.timestamp);
  Put32(&out[8], h.ssrc);
  size_t pos = kRtpFixedHeaderSize;
  for (int i = 0; i < h.csrc_count; ++i, pos += 4) Put32(&out[pos], h.csrc[i]);
  if (h.has_extension) {
    Put16(&out[pos], h.extension_profile);
    Put16(&out[pos + 2], static_cast<uint16_t>(h.extension.size() / 4));
    pos += 4;
    std::copy(h.extension.begin(), h.extension.end(), out.begin() + static_cast<ptrdiff_t>(pos));
    pos += h.extension.size();
  }
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<ptrdiff_t>(pos));
  pos += payload.size();
  if (padding) {
    std::fill_n(out.begin() + static_cast<ptrdiff_t>(pos), padding - 1, 0);
    out[pos + padding - 1] = padding;
    pos += padding;
  }
  return pos;
}

}  // namespace sb::rtp
