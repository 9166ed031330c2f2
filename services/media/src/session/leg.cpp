#include "session/leg.h"

#include <algorithm>
#include <cstring>

namespace sb::media {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

uint32_t FrameRtpSamples(const LegMedia& media) {
  return RtpClockRate(media.codec) * kFrameMs / 1000;
}

uint64_t NtpTimestamp(core::Clock::WallTime wall) {
  auto since_epoch = wall.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto frac = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count();
  uint64_t ntp_secs = static_cast<uint64_t>(secs.count()) + 2208988800ull;  // 1900 -> 1970
  uint64_t ntp_frac = (static_cast<uint64_t>(frac) << 32) / 1000000000ull;
  return ntp_secs << 32 | ntp_frac;
}

CodecImpairment ImpairmentOf(codec::CodecType type) {
  // G.113 Appendix I: G.711 with PLC has Ie 0 and Bpl 25.1. Opus is not in G.113; narrowband
  // Opus at its default rate is taken as equivalent to G.711 with a stronger PLC (Bpl 30).
  if (type == codec::CodecType::kOpus) return {.ie = 0, .bpl = 30};
  return {.ie = 0, .bpl = 25.1};
}

}  // namespace

Leg::Leg(LegSetup setup, PacketSink& sink, const core::Clock& clock)
    : setup_(std::move(setup)),
      sink_(&sink),
      clock_(clock),
      created_(clock.Now()),
      last_rx_(created_),
      out_seq_(static_cast<uint16_t>(setup_.ssrc * 2654435761u >> 16)),
      out_ts_(setup_.ssrc * 40503u),
      next_rtcp_(created_ + kRtcpInterval),
      next_stats_(created_ + milliseconds(setup_.options.stats_interval_ms)) {
  if (setup_.media) (void)SetMedia(*setup_.media);
}

Leg::~Leg() = default;

Status Leg::SetMedia(const LegMedia& media) {
  std::unique_ptr<SrtpSession> in, out;
  if (media.srtp) {
    auto rx = SrtpSession::Create(media.srtp->suite, media.srtp->remote_key, SrtpSession::kInbound);
    if (!rx.ok()) return rx.status();
    auto tx = SrtpSession::Create(media.srtp->suite, media.srtp->local_key, SrtpSession::kOutbound);
    if (!tx.ok()) return tx.status();
    in = std::move(*rx);
    out = std::move(*tx);
  }
  bool codec_changed = !setup_.media || setup_.media->codec != media.codec;
  bool had_media = stats_.has_value();
  setup_.media = media;
  srtp_in_ = std::move(in);
  srtp_out_ = std::move(out);
  if (codec_changed || !had_media) {
    stats_.emplace(RtpClockRate(media.codec));
    pcm_decoder_.reset();
    pcm_encoder_.reset();
    queue_size_ = 0;
  }
  return Status::Ok();
}

Inbound Leg::Receive(std::span<uint8_t> datagram, const Endpoint& from, bool on_rtcp_socket) {
  Inbound in;
  auto drop = [&](DropReason reason) {
    ++dropped_;
    in.kind = Inbound::kDropped;
    in.reason = reason;
    return in;
  };
  if (!setup_.media) return drop(DropReason::kUnknownPayload);
  const LegMedia& media = *setup_.media;
  const bool rtcp = on_rtcp_socket || (media.rtcp_mux && IsRtcp(datagram));
  if (srtp_in_ != nullptr) {
    auto plain = rtcp ? srtp_in_->UnprotectRtcp(datagram) : srtp_in_->UnprotectRtp(datagram);
    if (!plain.ok()) {
      switch (plain.status().code()) {
        case StatusCode::kAborted:
          return drop(DropReason::kSrtpReplay);
        case StatusCode::kUnauthenticated:
          return drop(DropReason::kSrtpAuth);
        default:
          return drop(DropReason::kMalformed);
      }
    }
    datagram = datagram.first(*plain);
  }
  in.plain_size = datagram.size();
  if (rtcp) {
    auto summary = ParseRtcpHeader(datagram);
    if (!summary.ok()) return drop(DropReason::kMalformed);
    if (summary->sender_report) {
      last_sr_middle_ = summary->ntp_middle;
      last_sr_arrival_ = clock_.Now();
    }
    if (!media.rtcp_mux) setup_.media->remote_rtcp = from;
    in.kind = Inbound::kRtcp;
    return in;
  }
  auto rtp = ParseRtp(datagram);
  if (!rtp.ok()) return drop(DropReason::kMalformed);
  if (rtp->payload_type != media.payload_type && rtp->payload_type != media.telephone_event_pt) {
    return drop(DropReason::kUnknownPayload);
  }
  const TimePoint now = clock_.Now();
  if (latched_ && (from != latched_from_ || rtp->ssrc != latched_ssrc_)) {
    // A second source while the first is alive is an injection attempt or a stray stream; after
    // a silence it is the endpoint that moved (NAT rebinding) or restarted its stream.
    if (now - last_rx_ < kRelatchAfter) return drop(DropReason::kForeignSource);
    if (rtp->ssrc != latched_ssrc_) stats_.emplace(RtpClockRate(media.codec));
    latched_ = false;
  }
  if (!latched_) {
    latched_ = true;
    latched_from_ = from;
    latched_ssrc_ = rtp->ssrc;
  }
  last_rx_ = now;
  timeout_reported_ = false;
  const uint64_t clock_rate = RtpClockRate(media.codec);
  const auto since = std::chrono::duration_cast<std::chrono::microseconds>(now - created_).count();
  stats_->Update(rtp->sequence, rtp->timestamp,
                 static_cast<uint32_t>(static_cast<uint64_t>(since) * clock_rate / 1000000));
  in.rtp = *rtp;
  in.kind = rtp->payload_type == media.telephone_event_pt ? Inbound::kEvent : Inbound::kAudio;
  return in;
}

std::optional<std::pair<char, uint32_t>> Leg::TakeEndedEvent(const RtpView& rtp) {
  auto event = ParseTelephoneEvent(rtp.payload);
  if (!event.ok() || !event->end) return std::nullopt;
  if (last_event_ts_ && *last_event_ts_ == rtp.timestamp) return std::nullopt;
  last_event_ts_ = rtp.timestamp;
  char digit = EventToDigit(event->event);
  if (digit == 0) return std::nullopt;
  uint32_t ms = event->duration * 1000u / RtpClockRate(setup_.media->codec);
  return std::make_pair(digit, ms);
}

void Leg::SendDatagram(bool rtcp, std::span<uint8_t> buffer, size_t length) {
  if (!setup_.media) return;
  const LegMedia& media = *setup_.media;
  Endpoint rtp_to = latched_ ? latched_from_ : media.remote_rtp;
  Endpoint to = rtp_to;
  int socket = setup_.rtp_socket;
  if (rtcp && !media.rtcp_mux) {
    to = media.remote_rtcp;
    socket = setup_.rtcp_socket;
  }
  if (!to.known()) return;
  if (srtp_out_ != nullptr) {
    auto protected_len =
        rtcp ? srtp_out_->ProtectRtcp(buffer, length) : srtp_out_->ProtectRtp(buffer, length);
    if (!protected_len.ok()) return;
    length = *protected_len;
  }
  sink_->Send(socket, to, buffer.first(length));
}

void Leg::SendPayload(std::span<const uint8_t> payload, uint32_t rtp_samples, bool marker) {
  if (!setup_.media || payload.size() + kRtpHeaderSize + kSrtpMaxTrailer > tx_.size()) return;
  size_t n = WriteRtpHeader({.marker = marker,
                             .payload_type = static_cast<uint8_t>(setup_.media->payload_type),
                             .sequence = out_seq_++,
                             .timestamp = out_ts_,
                             .ssrc = setup_.ssrc},
                            tx_);
  std::memcpy(tx_.data() + n, payload.data(), payload.size());
  out_ts_ += rtp_samples;
  ++packets_sent_;
  octets_sent_ += payload.size();
  SendDatagram(false, tx_, n + payload.size());
}

void Leg::Forward(std::span<const uint8_t> packet, uint8_t payload_type) {
  if (packet.size() < kRtpHeaderSize || packet.size() + kSrtpMaxTrailer > tx_.size()) return;
  std::memcpy(tx_.data(), packet.data(), packet.size());
  tx_[1] = static_cast<uint8_t>((tx_[1] & 0x80) | (payload_type & 0x7f));
  ++packets_sent_;
  octets_sent_ += packet.size() > kRtpHeaderSize ? packet.size() - kRtpHeaderSize : 0;
  SendDatagram(false, tx_, packet.size());
}

void Leg::SendEvent(const TelephoneEvent& event, bool marker, uint32_t timestamp) {
  if (!HasEvents()) return;
  size_t n = WriteRtpHeader({.marker = marker,
                             .payload_type = static_cast<uint8_t>(setup_.media->telephone_event_pt),
                             .sequence = out_seq_++,
                             .timestamp = timestamp,
                             .ssrc = setup_.ssrc},
                            tx_);
  WriteTelephoneEvent(event, std::span<uint8_t, 4>(tx_.data() + n, 4));
  ++packets_sent_;
  octets_sent_ += 4;
  SendDatagram(false, tx_, n + 4);
}

void Leg::SendEventPayload(const RtpView& peer_packet, uint32_t peer_clock) {
  auto event = ParseTelephoneEvent(peer_packet.payload);
  if (!event.ok() || !HasEvents()) return;
  // Our copy of the event keeps one timestamp for its whole duration, as the peer's does.
  if (!peer_event_ts_ || *peer_event_ts_ != peer_packet.timestamp) {
    peer_event_ts_ = peer_packet.timestamp;
    our_event_ts_ = out_ts_;
  }
  const bool marker = peer_packet.marker;
  uint32_t clock = RtpClockRate(setup_.media->codec);
  event->duration = static_cast<uint16_t>(std::min<uint64_t>(
      0xffff, static_cast<uint64_t>(event->duration) * clock / std::max<uint32_t>(1, peer_clock)));
  SendEvent(*event, marker, our_event_ts_);
}

Status Leg::EnsurePcmCodecs() {
  if (!setup_.media) return Status::FailedPrecondition("the leg has no negotiated media yet");
  codec::CodecSpec spec{.type = setup_.media->codec, .sample_rate = kPcmRate, .frame_ms = kFrameMs};
  if (pcm_decoder_ == nullptr) {
    auto dec = codec::MakeDecoder(spec);
    if (!dec.ok()) return dec.status();
    pcm_decoder_ = std::move(*dec);
  }
  if (pcm_encoder_ == nullptr) {
    auto enc = codec::MakeEncoder(spec);
    if (!enc.ok()) return enc.status();
    pcm_encoder_ = std::move(*enc);
  }
  return Status::Ok();
}

Result<char> Leg::DecodeInbound(std::span<const uint8_t> payload) {
  SB_RETURN_IF_ERROR(EnsurePcmCodecs());
  if (queue_size_ == kQueueFrames) {  // the tick fell behind the sender: drop the oldest
    queue_head_ = (queue_head_ + 1) % kQueueFrames;
    --queue_size_;
  }
  PcmFrame& slot = queue_[(queue_head_ + queue_size_) % kQueueFrames];
  std::array<int16_t, codec::kMaxFrameSamples> decoded;
  auto n = pcm_decoder_->Decode(payload, decoded);
  if (!n.ok()) return n.status();
  size_t copy = std::min(*n, kFrameSamples);
  std::copy_n(decoded.begin(), copy, slot.begin());
  std::fill(slot.begin() + static_cast<ptrdiff_t>(copy), slot.end(), int16_t{0});
  ++queue_size_;
  char digit = 0;
  if (setup_.options.inband_dtmf) {
    if (!dtmf_detector_) dtmf_detector_.emplace();
    std::array<codec::DtmfDigit, 2> found;
    if (dtmf_detector_->Process(slot, found) > 0) digit = found[0].digit;
  }
  return digit;
}

const PcmFrame* Leg::AdvanceFrame() {
  if (queue_size_ > 0) {
    current_in_ = queue_[queue_head_];
    queue_head_ = (queue_head_ + 1) % kQueueFrames;
    --queue_size_;
    has_current_ = true;
    concealed_ = 0;
  } else if (has_current_ && concealed_ < 3 && pcm_decoder_ != nullptr) {
    std::array<int16_t, codec::kMaxFrameSamples> concealed;
    auto n = pcm_decoder_->Conceal(concealed);
    if (n.ok()) std::copy_n(concealed.begin(), std::min(*n, kFrameSamples), current_in_.begin());
    ++concealed_;
  } else {
    has_current_ = false;
  }
  return current_in();
}

Status Leg::SendPcm(const PcmFrame& frame) {
  SB_RETURN_IF_ERROR(EnsurePcmCodecs());
  std::array<uint8_t, codec::kMaxPayloadBytes> payload;
  auto n = pcm_encoder_->Encode(frame, payload);
  if (!n.ok()) return n.status();
  SendPayload(std::span(payload).first(*n), FrameRtpSamples(*setup_.media));
  return Status::Ok();
}

bool Leg::NextPlaybackFrame(PcmFrame& frame) {
  if (!playback_) return false;
  Playback& p = *playback_;
  if (p.tone) {
    if (p.tone->finished()) return false;
    p.played += p.tone->Generate(frame);
    return true;
  }
  if (p.position >= p.samples.size()) return false;
  size_t n = std::min(kFrameSamples, p.samples.size() - p.position);
  std::copy_n(p.samples.begin() + static_cast<ptrdiff_t>(p.position), n, frame.begin());
  std::fill(frame.begin() + static_cast<ptrdiff_t>(n), frame.end(), int16_t{0});
  p.position += n;
  p.played += n;
  return true;
}

Status Leg::QueueDtmf(std::string_view digits, uint32_t duration_ms, uint32_t gap_ms) {
  if (digits.empty()) return Status::InvalidArgument("no digits to send", "digits");
  for (char d : digits) {
    if (DigitToEvent(d) < 0) {
      return Status::InvalidArgument(std::string("'") + d + "' is not a DTMF digit", "digits");
    }
  }
  for (char d : digits) dtmf_queue_.push_back({d, duration_ms, gap_ms});
  return Status::Ok();
}

bool Leg::StepDtmf(PcmFrame& frame) {
  if (!dtmf_active_) {
    if (dtmf_queue_.empty()) return false;
    dtmf_current_ = dtmf_queue_.front();
    dtmf_queue_.pop_front();
    dtmf_active_ = true;
    dtmf_elapsed_ms_ = 0;
    dtmf_end_sent_ = 0;
    dtmf_event_ts_ = out_ts_;
    dtmf_tone_.reset();
    if (!HasEvents()) {
      auto spec = codec::DtmfTone(dtmf_current_.digit, static_cast<int>(dtmf_current_.duration_ms),
                                  static_cast<int>(dtmf_current_.gap_ms));
      if (!spec.ok()) {
        dtmf_active_ = false;
        return false;
      }
      dtmf_tone_.emplace(kPcmRate, *spec);
    }
  }
  if (dtmf_tone_) {
    dtmf_tone_->Generate(frame);
    if (dtmf_tone_->finished()) dtmf_active_ = false;
    return true;
  }
  const uint32_t clock = RtpClockRate(setup_.media->codec);
  const uint8_t code = static_cast<uint8_t>(DigitToEvent(dtmf_current_.digit));
  dtmf_elapsed_ms_ += kFrameMs;
  if (dtmf_elapsed_ms_ <= dtmf_current_.duration_ms) {
    SendEvent({.event = code,
               .end = false,
               .volume = 10,
               .duration = static_cast<uint16_t>(dtmf_elapsed_ms_ * clock / 1000)},
              dtmf_elapsed_ms_ == kFrameMs, dtmf_event_ts_);
  } else if (dtmf_end_sent_ < 3) {  // RFC 4733 §2.5.1.4: the end packet three times
    SendEvent({.event = code,
               .end = true,
               .volume = 10,
               .duration = static_cast<uint16_t>(dtmf_current_.duration_ms * clock / 1000)},
              false, dtmf_event_ts_);
    ++dtmf_end_sent_;
  } else if (dtmf_elapsed_ms_ >= dtmf_current_.duration_ms + 3 * kFrameMs + dtmf_current_.gap_ms) {
    dtmf_active_ = false;
    uint32_t after = dtmf_event_ts_ + dtmf_elapsed_ms_ * clock / 1000;
    if (static_cast<int32_t>(after - out_ts_) > 0) out_ts_ = after;
  }
  return false;
}

void Leg::SendRtcp() {
  SenderInfo sender{.ssrc = setup_.ssrc,
                    .ntp_timestamp = NtpTimestamp(clock_.WallNow()),
                    .rtp_timestamp = out_ts_,
                    .packet_count = static_cast<uint32_t>(packets_sent_),
                    .octet_count = static_cast<uint32_t>(octets_sent_)};
  ReportBlock block;
  const bool report = latched_ && stats_.has_value();
  if (report) {
    block.ssrc = latched_ssrc_;
    block.fraction_lost = stats_->TakeIntervalFractionLost();
    block.cumulative_lost = static_cast<int32_t>(stats_->lost());
    block.extended_highest_sequence = stats_->extended_max();
    block.jitter = stats_->jitter_units();
    block.last_sr = last_sr_middle_;
    if (last_sr_middle_ != 0) {
      auto since =
          std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now() - last_sr_arrival_);
      block.delay_since_last_sr = static_cast<uint32_t>(since.count() * 65536 / 1000000);
    }
  }
  size_t n = WriteRtcpSenderReport(sender, report ? &block : nullptr, setup_.cname, tx_);
  if (n > 0) SendDatagram(true, tx_, n);
}

void Leg::OnTick(EventSink& events) {
  if (!setup_.media) return;
  const TimePoint now = clock_.Now();
  if (now >= next_rtcp_) {
    SendRtcp();
    next_rtcp_ = now + kRtcpInterval;
  }
  if (setup_.options.rtp_timeout_ms > 0 && !timeout_reported_) {
    auto silent = duration_cast<milliseconds>(now - last_rx_);
    if (silent.count() >= setup_.options.rtp_timeout_ms) {
      timeout_reported_ = true;
      events.OnRtpTimeout(setup_.info, static_cast<uint32_t>(silent.count()));
    }
  }
  if (setup_.options.stats_interval_ms > 0 && now >= next_stats_) {
    next_stats_ = now + milliseconds(setup_.options.stats_interval_ms);
    events.OnLegStats(setup_.info, Stats(), false);
  }
}

LegStatsSnapshot Leg::Stats() const {
  LegStatsSnapshot s;
  s.packets_sent = packets_sent_;
  s.packets_dropped = dropped_;
  if (!setup_.media) return s;
  s.codec = std::string(codec::CodecName(setup_.media->codec));
  if (stats_) {
    s.packets_received = stats_->received();
    s.packets_lost = std::max<int64_t>(0, stats_->lost());
    s.loss_fraction = stats_->loss_fraction();
    s.jitter_ms = stats_->jitter_ms();
  }
  s.mos = EstimateMos(ImpairmentOf(setup_.media->codec), s.loss_fraction, s.jitter_ms, 0);
  return s;
}

uint32_t RtpClockRate(codec::CodecType type) {
  return type == codec::CodecType::kOpus ? 48000 : 8000;
}

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kForeignSource:
      return "foreign_source";
    case DropReason::kUnknownPayload:
      return "unknown_payload";
    case DropReason::kSrtpAuth:
      return "srtp_auth";
    case DropReason::kSrtpReplay:
      return "srtp_replay";
  }
  return "unknown";
}

}  // namespace sb::media
