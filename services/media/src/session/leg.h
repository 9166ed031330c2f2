// Leg: one RTP session between the node and one endpoint. It checks and latches what arrives
// (symmetric RTP), keeps receive statistics, sends RTP with its own stream identity, generates
// RTCP at the RFC 3550 §6.3 interval, and holds the leg's 8 kHz PCM side (a jitter buffer and the
// decoded audio for mixing, recording and in-band DTMF; playback, DTMF sending and recording
// state). The RTP/RTCP state machines are libs/rtp's; the leg wires them to its sockets. It does
// not know about bridges or conferences: MediaEngine wires legs together.
//
//   Leg leg(setup, sink, clock);
//   auto in = leg.Receive(datagram, from);           // drops and counts what is not ours
//   if (in.kind == Inbound::kAudio) relay_or_transcode(in.rtp);
//   leg.SendPayload(encoded, samples_at_rtp_clock);  // our SSRC, sequence and timestamp
//
// Not thread-safe; no allocation per packet (the PCM codecs are made on first use).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "session/types.h"
#include "switchboard/codec/audio_codec.h"
#include "switchboard/codec/dtmf_detector.h"
#include "switchboard/codec/tone_generator.h"
#include "switchboard/codec/wav.h"
#include "switchboard/core/clock.h"
#include "switchboard/rtp/jitter_buffer.h"
#include "switchboard/rtp/receive_stats.h"
#include "switchboard/rtp/rtcp_timing.h"
#include "switchboard/rtp/rtp_packet.h"
#include "switchboard/rtp/srtp_session.h"
#include "switchboard/rtp/telephone_event.h"

namespace sb::media {

inline constexpr int kPcmRate = 8000;
inline constexpr int kFrameMs = 20;
inline constexpr size_t kFrameSamples = kPcmRate * kFrameMs / 1000;  // 160
inline constexpr size_t kMaxDatagram = 1500 + rtp::kSrtpMaxTrailer;
using PcmFrame = std::array<int16_t, kFrameSamples>;

struct LegSetup {
  LegInfo info;
  int rtp_socket = -1;
  int rtcp_socket = -1;
  LegOptions options;
  std::optional<LegMedia> media;  // unknown until the endpoint's SDP arrives
  uint32_t ssrc = 0;              // our outgoing SSRC
  std::string cname;              // RTCP SDES CNAME
};

struct Inbound {
  enum Kind { kDropped, kAudio, kEvent, kRtcp } kind = kDropped;
  DropReason reason = DropReason::kMalformed;
  rtp::RtpPacketView rtp;
  size_t plain_size = 0;  // the packet's size after SRTP unprotect
};

class Leg {
 public:
  using TimePoint = core::Clock::TimePoint;
  // A stream whose last packet is older than this may be replaced by another source or SSRC.
  static constexpr std::chrono::milliseconds kRelatchAfter{1000};
  // Consecutive concealed frames before a missing stream is heard as silence.
  static constexpr int kMaxConcealed = 5;

  Leg(LegSetup setup, PacketSink& sink, const core::Clock& clock);
  ~Leg();

  const LegInfo& info() const { return setup_.info; }
  int rtp_socket() const { return setup_.rtp_socket; }
  int rtcp_socket() const { return setup_.rtcp_socket; }
  // The leg moves to another worker (and its sink) with everything it holds.
  void set_sink(PacketSink& sink) { sink_ = &sink; }
  const LegOptions& options() const { return setup_.options; }
  const std::optional<LegMedia>& media() const { return setup_.media; }
  Status SetMedia(const LegMedia& media);
  // The RTP timeout counts from now (a new description, the leg bridged): silence before does
  // not count, and a timeout already reported may come again.
  void RestartSilence();

  // --- receiving ---
  // `datagram` is modified in place when the leg uses SRTP.
  Inbound Receive(std::span<uint8_t> datagram, const Endpoint& from, bool on_rtcp_socket);
  uint64_t dropped() const { return dropped_; }
  // The RFC 4733 digit that just ended in this packet, if any (rtp::TelephoneEventReceiver:
  // repeated end packets and segments count once). Duration in ms.
  std::optional<std::pair<char, uint32_t>> TakeEndedEvent(const rtp::RtpPacketView& packet);

  // --- sending ---
  // Sends one encoded frame as our stream: `rtp_samples` advances our timestamp.
  void SendPayload(std::span<const uint8_t> payload, uint32_t rtp_samples, bool marker = false);
  // Relay: forwards another leg's packet unchanged but for SRTP (re-protected with our key) and
  // the payload type number when the legs numbered the same codec differently.
  void Forward(std::span<const uint8_t> packet, uint8_t payload_type);
  // Sends an RFC 4733 payload in our stream at our current timestamp (received on the peer).
  void SendEventPayload(const rtp::RtpPacketView& peer_packet, uint32_t peer_clock);

  // --- the 8 kHz PCM side ---
  // Puts an audio packet into the leg's jitter buffer (rtp::JitterBuffer) for AdvanceFrame.
  Status QueueInbound(const rtp::RtpPacketView& packet);
  // Once per tick: plays out the next frame and decodes it, conceals a missing one (up to
  // kMaxConcealed in a row) or has nothing (current_in() null). Runs in-band DTMF detection when
  // enabled and returns a digit that started in the frame, else 0.
  Result<char> AdvanceFrame();
  const PcmFrame* current_in() const { return has_current_ ? &current_in_ : nullptr; }
  // The PCM side is not needed for now: forget buffered packets so that it resumes fresh.
  void IdlePcm();
  // Encodes and sends one 8 kHz frame (mix, playback, in-band tone) as our stream.
  Status SendPcm(const PcmFrame& frame);

  // Playback and in-band/RFC 4733 DTMF sending take over what the leg hears.
  struct Playback {
    std::string id;
    std::vector<int16_t> samples;  // WAV at 8 kHz; empty for a tone
    std::optional<codec::ToneGenerator> tone;
    size_t position = 0;
    uint64_t played = 0;
  };
  void StartPlayback(Playback playback) { playback_ = std::move(playback); }
  std::optional<Playback>& playback() { return playback_; }
  // Fills frame with the next playback samples; false when the playback has finished.
  bool NextPlaybackFrame(PcmFrame& frame);

  Status QueueDtmf(std::string_view digits, uint32_t duration_ms, uint32_t gap_ms);
  bool sending_dtmf() const { return !dtmf_queue_.empty() || dtmf_active_; }
  // One tick of DTMF sending: the next rtp::TelephoneEventSender packet, or in-band audio for a
  // leg without telephone-event. Returns true when it produced in-band audio in frame (to send).
  bool StepDtmf(PcmFrame& frame);

  bool overridden() const { return playback_.has_value() || (sending_dtmf() && !HasEvents()); }
  bool HasEvents() const { return setup_.media && setup_.media->telephone_event_pt >= 0; }

  struct Recording {
    std::string id;
    std::string file;
    bool mixed = false;
    std::unique_ptr<codec::WavWriter> writer;
  };
  std::optional<Recording>& recording() { return recording_; }
  const std::optional<Recording>& recording() const { return recording_; }

  // What the leg heard this tick (mixed recordings); set by the engine.
  PcmFrame& out_pcm() { return out_pcm_; }
  bool& has_out_pcm() { return has_out_pcm_; }

  // --- timers ---
  // RTCP SR when due; RTP timeout and periodic statistics through the sink.
  void OnTick(EventSink& events);
  LegStatsSnapshot Stats() const;
  TimePoint last_received() const { return last_rx_; }

 private:
  void SendDatagram(bool rtcp, std::span<uint8_t> buffer, size_t length);
  void SendRtcp();
  void SendEvent(std::span<const uint8_t> payload, bool marker, uint32_t timestamp);
  void CountSent(uint32_t rtp_timestamp, size_t payload_bytes);
  std::chrono::microseconds NextRtcpInterval();
  Status EnsurePcmCodecs();

  LegSetup setup_;
  PacketSink* sink_;
  const core::Clock& clock_;
  TimePoint created_;

  // receive side
  bool latched_ = false;
  Endpoint latched_from_;
  uint32_t latched_ssrc_ = 0;
  TimePoint last_rx_;
  // A silence is counted from the last packet or from here, whichever came later: the leg's
  // latest description (SetMedia) or bridging (RestartSilence). So a party that sent nothing on
  // hold, or while its call rang, rightly, is timed anew once taken off hold or answered.
  TimePoint silence_from_;
  std::optional<rtp::RtpReceiveStats> stats_;
  uint64_t dropped_ = 0;
  rtp::TelephoneEventReceiver events_in_;
  bool received_since_report_ = false;
  std::unique_ptr<rtp::SrtpSession> srtp_in_;
  std::unique_ptr<rtp::SrtpSession> srtp_out_;

  // send side
  uint16_t out_seq_;
  uint32_t out_ts_;
  uint64_t packets_sent_ = 0;  // 64-bit for statistics; the SR's 32-bit counts are send_stats_'s
  std::optional<rtp::RtpSendStats> send_stats_;
  bool sent_since_report_ = false;
  rtp::RtcpSchedule rtcp_schedule_;
  // RFC 3550 §6.3.1 randomises the interval; seeded from our (random) SSRC, so tests are
  // repeatable for a given SSRC.
  std::minstd_rand rtcp_random_;
  bool rtcp_sent_ = false;
  TimePoint next_rtcp_;
  TimePoint next_stats_;
  bool timeout_reported_ = false;
  std::array<uint8_t, kMaxDatagram> tx_{};

  // PCM side
  std::unique_ptr<codec::AudioDecoder> pcm_decoder_;
  std::unique_ptr<codec::AudioEncoder> pcm_encoder_;
  std::optional<codec::DtmfDetector> dtmf_detector_;
  std::optional<rtp::JitterBuffer> jitter_;
  std::array<uint8_t, codec::kMaxPayloadBytes> played_{};  // the jitter buffer's output
  int concealed_ = 0;
  bool pcm_in_use_ = false;  // AdvanceFrame ran since the last IdlePcm
  PcmFrame current_in_{};
  bool has_current_ = false;
  PcmFrame out_pcm_{};
  bool has_out_pcm_ = false;

  std::optional<Playback> playback_;
  std::optional<Recording> recording_;

  // DTMF sending
  struct PendingDigit {
    char digit;
    uint32_t duration_ms;
    uint32_t gap_ms;
  };
  std::deque<PendingDigit> dtmf_queue_;
  bool dtmf_active_ = false;
  PendingDigit dtmf_current_{};
  uint32_t dtmf_elapsed_ms_ = 0;
  uint32_t dtmf_event_ts_ = 0;
  std::optional<rtp::TelephoneEventSender> events_out_;
  // Relayed RFC 4733 events: the peer's event timestamp and the one we gave it in our stream.
  std::optional<uint32_t> peer_event_ts_;
  uint32_t our_event_ts_ = 0;
  std::optional<codec::ToneGenerator> dtmf_tone_;
};

}  // namespace sb::media
