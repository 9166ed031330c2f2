#include "switchboard/rtp/rtcp.h"

#include <algorithm>
#include <cstring>

#include "byte_order.h"

namespace sb::rtp {

using internal::Get16;
using internal::Get32;
using internal::Get64;
using internal::Put16;
using internal::Put32;
using internal::Put64;

namespace {

constexpr size_t kHeader = 4;
constexpr size_t kReportBlockSize = 24;
constexpr size_t kSenderInfoSize = 20;
// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (the Unix epoch).
constexpr uint64_t kNtpUnixOffset = 2208988800ULL;

ReportBlock ReadBlock(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = Get32(p);
  b.fraction_lost = p[4];
  // Sign-extend the 24-bit count.
  const uint32_t raw = (static_cast<uint32_t>(p[5]) << 16) | (p[6] << 8) | p[7];
  b.cumulative_lost =
      (raw & 0x800000) ? static_cast<int32_t>(raw | 0xFF000000u) : static_cast<int32_t>(raw);
  b.extended_highest_seq = Get32(p + 8);
  b.jitter = Get32(p + 12);
  b.last_sr = Get32(p + 16);
  b.delay_since_last_sr = Get32(p + 20);
  return b;
}

void WriteBlock(uint8_t* p, const ReportBlock& b) {
  Put32(p, b.ssrc);
  p[4] = b.fraction_lost;
  // Clamp to what 24 signed bits can say (§6.4.1).
  const int32_t lost = std::clamp(b.cumulative_lost, -0x800000, 0x7FFFFF);
  const auto raw = static_cast<uint32_t>(lost) & 0xFFFFFF;
  p[5] = static_cast<uint8_t>(raw >> 16);
  p[6] = static_cast<uint8_t>(raw >> 8);
  p[7] = static_cast<uint8_t>(raw);
  Put32(p + 8, b.extended_highest_seq);
  Put32(p + 12, b.jitter);
  Put32(p + 16, b.last_sr);
  Put32(p + 20, b.delay_since_last_sr);
}

void WriteHeader(uint8_t* p, uint8_t count, RtcpType type, size_t total_bytes) {
  p[0] = static_cast<uint8_t>(0x80 | count);
  p[1] = static_cast<uint8_t>(type);
  Put16(p + 2, static_cast<uint16_t>(total_bytes / 4 - 1));
}

}  // namespace

std::string_view SdesChunk::cname() const {
  for (int i = 0; i < item_count; ++i) {
    if (items[i].type == SdesItemType::kCname) return items[i].text;
  }
  return {};
}

Result<size_t> SplitCompound(std::span<const uint8_t> d, std::span<RtcpPacketView> out) {
  size_t pos = 0, n = 0;
  // Each packet is at least 4 bytes, so this ends.
  while (pos < d.size()) {
    if (d.size() - pos < kHeader) return Status::InvalidArgument("rtcp: short");
    const uint8_t* p = d.data() + pos;
    if ((p[0] >> 6) != 2) return Status::InvalidArgument("rtcp: version");
    const size_t len = (static_cast<size_t>(Get16(p + 2)) + 1) * 4;
    if (len > d.size() - pos) return Status::InvalidArgument("rtcp: length");
    const bool last = pos + len == d.size();
    size_t body = len;
    if (p[0] & 0x20) {
      if (!last) return Status::InvalidArgument("rtcp: padding");
      const uint8_t pad = d[pos + len - 1];
      if (pad == 0 || pad > len - kHeader) return Status::InvalidArgument("rtcp: padding");
      body -= pad;
    }
    if (n == 0 && p[1] != static_cast<uint8_t>(RtcpType::kSr) &&
        p[1] != static_cast<uint8_t>(RtcpType::kRr)) {
      return Status::InvalidArgument("rtcp: not SR/RR");
    }
    if (n == out.size()) return Status::ResourceExhausted("rtcp: too many");
    out[n++] = RtcpPacketView{static_cast<RtcpType>(p[1]), static_cast<uint8_t>(p[0] & 0x1F),
                              d.subspan(pos, body)};
    pos += len;
  }
  if (n == 0) return Status::InvalidArgument("rtcp: empty");
  return n;
}

Result<SenderReport> ParseSenderReport(const RtcpPacketView& v) {
  if (v.type != RtcpType::kSr) return Status::InvalidArgument("rtcp: not SR");
  if (v.bytes.size() < kHeader + 4 + kSenderInfoSize + kReportBlockSize * v.count) {
    return Status::InvalidArgument("rtcp: SR short");
  }
  const uint8_t* p = v.bytes.data();
  SenderReport sr;
  sr.ssrc = Get32(p + 4);
  sr.sender.ntp_timestamp = Get64(p + 8);
  sr.sender.rtp_timestamp = Get32(p + 16);
  sr.sender.packet_count = Get32(p + 20);
  sr.sender.octet_count = Get32(p + 24);
  sr.block_count = v.count;
  for (int i = 0; i < v.count; ++i) sr.blocks[i] = ReadBlock(p + 28 + kReportBlockSize * i);
  return sr;
}

Result<ReceiverReport> ParseReceiverReport(const RtcpPacketView& v) {
  if (v.type != RtcpType::kRr) return Status::InvalidArgument("rtcp: not RR");
  if (v.bytes.size() < kHeader + 4 + kReportBlockSize * v.count) {
    return Status::InvalidArgument("rtcp: RR short");
  }
  const uint8_t* p = v.bytes.data();
  ReceiverReport rr;
  rr.ssrc = Get32(p + 4);
  rr.block_count = v.count;
  for (int i = 0; i < v.count; ++i) rr.blocks[i] = ReadBlock(p + 8 + kReportBlockSize * i);
  return rr;
}

Status ParseSdes(const RtcpPacketView& v, Sdes& out) {
  if (v.type != RtcpType::kSdes) return Status::InvalidArgument("rtcp: not SDES");
  out.chunk_count = 0;
  const auto d = v.bytes;
  size_t pos = kHeader;
  for (int c = 0; c < v.count; ++c) {
    if (d.size() < pos + 4) return Status::InvalidArgument("rtcp: SDES len");
    SdesChunk& chunk = out.chunks[c];
    chunk.ssrc = Get32(&d[pos]);
    chunk.item_count = 0;
    pos += 4;
    // Items until a zero type byte; the chunk then pads to a 32-bit boundary (§6.5).
    while (true) {
      if (pos >= d.size()) return Status::InvalidArgument("rtcp: SDES item");
      const uint8_t type = d[pos];
      if (type == 0) break;
      if (pos + 2 > d.size() || pos + 2 + d[pos + 1] > d.size()) {
        return Status::InvalidArgument("rtcp: SDES item");
      }
      const size_t len = d[pos + 1];
      if (chunk.item_count < kMaxSdesItems && type <= static_cast<uint8_t>(SdesItemType::kPriv)) {
        chunk.items[chunk.item_count++] =
            SdesItem{static_cast<SdesItemType>(type),
                     std::string_view(reinterpret_cast<const char*>(&d[pos + 2]), len)};
      }
      pos += 2 + len;
    }
    pos = (pos + 4) & ~size_t{3};  // the null octet(s) up to the next word
    if (pos > d.size()) return Status::InvalidArgument("rtcp: SDES pad");
    ++out.chunk_count;
  }
  return Status::Ok();
}

Result<Bye> ParseBye(const RtcpPacketView& v) {
  if (v.type != RtcpType::kBye) return Status::InvalidArgument("rtcp: not BYE");
  const auto d = v.bytes;
  if (d.size() < kHeader + 4u * v.count) return Status::InvalidArgument("rtcp: BYE short");
  Bye bye;
  bye.ssrc_count = v.count;
  for (int i = 0; i < v.count; ++i) bye.ssrcs[i] = Get32(&d[kHeader + 4u * i]);
  const size_t pos = kHeader + 4u * v.count;
  if (pos < d.size()) {
    const size_t len = d[pos];
    if (pos + 1 + len > d.size()) return Status::InvalidArgument("rtcp: BYE text");
    bye.reason = std::string_view(reinterpret_cast<const char*>(&d[pos + 1]), len);
  }
  return bye;
}

Status RtcpWriter::AddReportBlocks(std::span<const ReportBlock> blocks, size_t& pos) {
  for (const auto& b : blocks) {
    WriteBlock(&out_[pos], b);
    pos += kReportBlockSize;
  }
  return Status::Ok();
}

Status RtcpWriter::AddSenderReport(const SenderReport& sr) {
  if (sr.block_count > kMaxReportBlocks) return Status::InvalidArgument("rtcp: blocks");
  const size_t len = kHeader + 4 + kSenderInfoSize + kReportBlockSize * sr.block_count;
  if (out_.size() - size_ < len) return Status::ResourceExhausted("rtcp: buffer");
  uint8_t* p = &out_[size_];
  WriteHeader(p, sr.block_count, RtcpType::kSr, len);
  Put32(p + 4, sr.ssrc);
  Put64(p + 8, sr.sender.ntp_timestamp);
  Put32(p + 16, sr.sender.rtp_timestamp);
  Put32(p + 20, sr.sender.packet_count);
  Put32(p + 24, sr.sender.octet_count);
  size_t pos = size_ + 28;
  SB_RETURN_IF_ERROR(AddReportBlocks(std::span(sr.blocks).first(sr.block_count), pos));
  size_ = pos;
  return Status::Ok();
}

Status RtcpWriter::AddReceiverReport(const ReceiverReport& rr) {
  if (rr.block_count > kMaxReportBlocks) return Status::InvalidArgument("rtcp: blocks");
  const size_t len = kHeader + 4 + kReportBlockSize * rr.block_count;
  if (out_.size() - size_ < len) return Status::ResourceExhausted("rtcp: buffer");
  uint8_t* p = &out_[size_];
  WriteHeader(p, rr.block_count, RtcpType::kRr, len);
  Put32(p + 4, rr.ssrc);
  size_t pos = size_ + 8;
  SB_RETURN_IF_ERROR(AddReportBlocks(std::span(rr.blocks).first(rr.block_count), pos));
  size_ = pos;
  return Status::Ok();
}

Status RtcpWriter::AddSdes(std::span<const SdesChunk> chunks) {
  if (chunks.size() > kMaxReportBlocks) return Status::InvalidArgument("rtcp: chunks");
  size_t len = kHeader;
  for (const auto& c : chunks) {
    size_t chunk = 4;
    for (int i = 0; i < c.item_count; ++i) {
      if (c.items[i].text.size() > 255) return Status::InvalidArgument("rtcp: SDES text");
      chunk += 2 + c.items[i].text.size();
    }
    len += (chunk + 4) & ~size_t{3};  // at least one null octet, then to a word boundary
  }
  if (out_.size() - size_ < len) return Status::ResourceExhausted("rtcp: buffer");
  uint8_t* p = &out_[size_];
  std::fill_n(p, len, 0);
  WriteHeader(p, static_cast<uint8_t>(chunks.size()), RtcpType::kSdes, len);
  size_t pos = kHeader;
  for (const auto& c : chunks) {
    Put32(p + pos, c.ssrc);
    pos += 4;
    for (int i = 0; i < c.item_count; ++i) {
      p[pos] = static_cast<uint8_t>(c.items[i].type);
      p[pos + 1] = static_cast<uint8_t>(c.items[i].text.size());
      std::memcpy(p + pos + 2, c.items[i].text.data(), c.items[i].text.size());
      pos += 2 + c.items[i].text.size();
    }
    pos = (pos + 4) & ~size_t{3};
  }
  size_ += len;
  return Status::Ok();
}

Status RtcpWriter::AddBye(std::span<const uint32_t> ssrcs, std::string_view reason) {
  if (ssrcs.size() > kMaxReportBlocks) return Status::InvalidArgument("rtcp: ssrcs");
  if (reason.size() > 255) return Status::InvalidArgument("rtcp: reason");
  size_t len = kHeader + 4 * ssrcs.size();
  if (!reason.empty()) len += (1 + reason.size() + 3) & ~size_t{3};
  if (out_.size() - size_ < len) return Status::ResourceExhausted("rtcp: buffer");
  uint8_t* p = &out_[size_];
  std::fill_n(p, len, 0);
  WriteHeader(p, static_cast<uint8_t>(ssrcs.size()), RtcpType::kBye, len);
  size_t pos = kHeader;
  for (uint32_t s : ssrcs) {
    Put32(p + pos, s);
    pos += 4;
  }
  if (!reason.empty()) {
    p[pos] = static_cast<uint8_t>(reason.size());
    std::memcpy(p + pos + 1, reason.data(), reason.size());
  }
  size_ += len;
  return Status::Ok();
}

uint64_t ToNtp(core::Clock::WallTime t) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const uint64_t secs = static_cast<uint64_t>(since_epoch.count() / 1000000000) + kNtpUnixOffset;
  const uint64_t nanos = static_cast<uint64_t>(since_epoch.count() % 1000000000);
  return (secs << 32) | ((nanos << 32) / 1000000000ULL);
}

std::optional<std::chrono::microseconds> RoundTripTime(const ReportBlock& block,
                                                       uint64_t arrival_ntp) {
  if (block.last_sr == 0) return std::nullopt;
  // All three in 1/65536 s; unsigned wrap-around does the right thing across the 32-bit edge.
  const uint32_t rtt = NtpMiddle32(arrival_ntp) - block.last_sr - block.delay_since_last_sr;
  if (rtt > 0x80000000u) return std::chrono::microseconds(0);  // clocks disagree: not negative
  return std::chrono::microseconds(static_cast<int64_t>(rtt) * 1000000 / 65536);
}

}  // namespace sb::rtp
