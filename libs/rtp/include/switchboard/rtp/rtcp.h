// RTCP (RFC 3550 §6): sender and receiver reports, SDES, BYE and compound packets, parsed from a
// datagram into views and built into a caller's buffer, without allocation.
//
//   std::array<sb::rtp::RtcpPacketView, 8> parts;
//   auto n = sb::rtp::SplitCompound(datagram, parts);        // validates per §A.2
//   for (size_t i = 0; n.ok() && i < *n; ++i) {
//     if (parts[i].type == sb::rtp::RtcpType::kSr) {
//       auto sr = sb::rtp::ParseSenderReport(parts[i]);  ...
//     }
//   }
//
//   sb::rtp::RtcpWriter w(buffer);
//   w.AddReceiverReport(rr);                 // a compound starts with SR or RR (§6.1)
//   w.AddSdes(std::span(&chunk, 1));         // CNAME
//   w.AddBye(std::span(&ssrc, 1), "hangup"); // when the leg ends
//   Send(std::span(buffer).first(w.size()));
//
// Views (SDES text, BYE reason) borrow the datagram. The NTP helpers convert wall time to the
// 64-bit NTP format of sender reports and compute the round-trip time of §6.4.1.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"

namespace sb::rtp {

enum class RtcpType : uint8_t {
  kSr = 200,
  kRr = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpFeedback = 205,
  kPayloadFeedback = 206,
  kXr = 207,
};

inline constexpr int kMaxReportBlocks = 31;  // a 5-bit count

struct ReportBlock {
  uint32_t ssrc = 0;                  // the source this block reports on
  uint8_t fraction_lost = 0;          // since the previous report, 1/256 units
  int32_t cumulative_lost = 0;        // 24-bit signed on the wire: duplicates can make it negative
  uint32_t extended_highest_seq = 0;  // cycles << 16 | highest sequence number
  uint32_t jitter = 0;                // §A.8, timestamp units
  uint32_t last_sr = 0;               // middle 32 bits of the last SR's NTP time, or 0
  uint32_t delay_since_last_sr = 0;   // 1/65536 s
};

struct SenderInfo {
  uint64_t ntp_timestamp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

struct SenderReport {
  uint32_t ssrc = 0;
  SenderInfo sender;
  uint8_t block_count = 0;
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
};

struct ReceiverReport {
  uint32_t ssrc = 0;
  uint8_t block_count = 0;
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
};

enum class SdesItemType : uint8_t {
  kCname = 1,
  kName = 2,
  kEmail = 3,
  kPhone = 4,
  kLoc = 5,
  kTool = 6,
  kNote = 7,
  kPriv = 8,
};

struct SdesItem {
  SdesItemType type = SdesItemType::kCname;
  std::string_view text;  // at most 255 bytes
};

inline constexpr int kMaxSdesItems = 8;

struct SdesChunk {
  uint32_t ssrc = 0;
  uint8_t item_count = 0;
  std::array<SdesItem, kMaxSdesItems> items{};
  // The CNAME item's text, or empty.
  std::string_view cname() const;
};

struct Sdes {
  uint8_t chunk_count = 0;
  std::array<SdesChunk, kMaxReportBlocks> chunks{};
};

struct Bye {
  uint8_t ssrc_count = 0;
  std::array<uint32_t, kMaxReportBlocks> ssrcs{};
  std::string_view reason;
};

// One packet of a compound: its type, the 5-bit count field and the whole packet (header
// included, padding excluded).
struct RtcpPacketView {
  RtcpType type = RtcpType::kRr;
  uint8_t count = 0;
  std::span<const uint8_t> bytes;
};

// Splits and validates a compound packet (§A.2: version 2 throughout, the first packet an SR or
// RR, padding only in the last one, lengths adding up to the datagram). Returns how many packets
// it wrote to out; a compound with more packets than out holds is an error.
Result<size_t> SplitCompound(std::span<const uint8_t> datagram, std::span<RtcpPacketView> out);

Result<SenderReport> ParseSenderReport(const RtcpPacketView& packet);
Result<ReceiverReport> ParseReceiverReport(const RtcpPacketView& packet);
Status ParseSdes(const RtcpPacketView& packet, Sdes& out);  // Sdes is large: the caller owns it
Result<Bye> ParseBye(const RtcpPacketView& packet);

// Appends packets to a compound in a caller's buffer. After a failed Add the buffer holds what
// was added before it.
class RtcpWriter {
 public:
  explicit RtcpWriter(std::span<uint8_t> out) : out_(out) {}

  Status AddSenderReport(const SenderReport& sr);
  Status AddReceiverReport(const ReceiverReport& rr);
  Status AddSdes(std::span<const SdesChunk> chunks);
  Status AddBye(std::span<const uint32_t> ssrcs, std::string_view reason = {});

  size_t size() const { return size_; }

 private:
  Status AddReportBlocks(std::span<const ReportBlock> blocks, size_t& pos);
  std::span<uint8_t> out_;
  size_t size_ = 0;
};

// NTP timestamps (RFC 5905 §6: seconds since 1900 in the high 32 bits, fraction in the low).
uint64_t ToNtp(core::Clock::WallTime t);
inline uint32_t NtpMiddle32(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

// Round-trip time from a report block about our stream (§6.4.1: A - LSR - DLSR), given the NTP
// time the report arrived; nullopt when the peer has not seen our SR yet.
std::optional<std::chrono::microseconds> RoundTripTime(const ReportBlock& block,
                                                       uint64_t arrival_ntp);

}  // namespace sb::rtp
