// The plain types the media session layer shares with the node around it: addresses, the
// negotiated media of a leg, and the two I/O edges (PacketSink for datagrams out, EventSink for
// media events). The session layer owns no socket and no thread; the node (net/) owns both and
// calls into MediaEngine from one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "switchboard/codec/audio_codec.h"

namespace sb::media {

// IPv4 address and port, both in host byte order. port 0: unknown.
struct Endpoint {
  uint32_t ip = 0;
  uint16_t port = 0;
  bool known() const { return port != 0; }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Who a leg belongs to, repeated on every event it causes.
struct LegInfo {
  std::string tenant_id;
  std::string call_id;
  std::string leg_id;
};

struct SrtpKeys {
  std::string suite;       // "AES_CM_128_HMAC_SHA1_80" or "AES_CM_128_HMAC_SHA1_32"
  std::string local_key;   // 30 bytes master key || salt: what we protect with
  std::string remote_key;  // what the endpoint protects with
};

// What offer/answer settled for a leg.
struct LegMedia {
  Endpoint remote_rtp;   // from the SDP; replaced by the latched source once packets arrive
  Endpoint remote_rtcp;  // remote_rtp when rtcp-mux
  bool rtcp_mux = false;
  codec::CodecType codec = codec::CodecType::kPcmu;
  int payload_type = 0;
  int telephone_event_pt = -1;  // -1: not negotiated
  std::optional<SrtpKeys> srtp;
};

uint32_t RtpClockRate(codec::CodecType type);  // 8000 for G.711, 48000 for Opus (RFC 7587)

struct LegOptions {
  uint32_t rtp_timeout_ms = 0;
  uint32_t stats_interval_ms = 0;
  bool inband_dtmf = false;
};

enum class DropReason { kMalformed, kForeignSource, kUnknownPayload, kSrtpAuth, kSrtpReplay };
inline constexpr int kDropReasons = 5;
const char* DropReasonName(DropReason reason);

enum class DtmfSource { kRfc4733, kInband };

struct LegStatsSnapshot {
  std::string codec;
  uint64_t packets_received = 0;
  int64_t packets_lost = 0;
  double loss_fraction = 0;
  double jitter_ms = 0;
  double mos = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_dropped = 0;
};

// Datagrams out. `socket` is the id the node gave the leg (LegSetup). Called on the engine's
// thread; must not call back into the engine.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void Send(int socket, const Endpoint& to, std::span<const uint8_t> datagram) = 0;
};

// Media events out, called on the engine's thread; must not call back into the engine.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnDtmf(const LegInfo& leg, char digit, DtmfSource source, uint32_t duration_ms) = 0;
  virtual void OnPlaybackFinished(const LegInfo& leg, const std::string& playback_id,
                                  bool completed, uint32_t played_ms) = 0;
  virtual void OnRecordingFinished(const LegInfo& leg, const std::string& recording_id,
                                   const std::string& file, uint32_t duration_ms, bool mixed) = 0;
  virtual void OnLegStats(const LegInfo& leg, const LegStatsSnapshot& stats, bool final) = 0;
  virtual void OnRtpTimeout(const LegInfo& leg, uint32_t silent_ms) = 0;
};

}  // namespace sb::media
