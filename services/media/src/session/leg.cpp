#include "session/leg.h"

#include <algorithm>
#include <cstring>

#include "switchboard/rtp/quality.h"
#include "switchboard/rtp/rtcp.h"
#include "switchboard/rtp/sdes_crypto.h"

namespace sb::media {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

uint32_t FrameRtpSamples(const LegMedia& media) {
  return RtpClockRate(media.codec) * kFrameMs / 1000;
}

rtp::QualityCodec QualityCodecOf(codec::CodecType type) {
  switch (type) {
    case codec::CodecType::kOpus:
      return rtp::QualityCodec::kOpus;
    case codec::CodecType::kPcma:
      return rtp::QualityCodec::kPcma;
    default:
      return rtp::QualityCodec::kPcmu;
  }
}

// The leg latches one source by address and SSRC before it counts anything, which validates the
// source (RFC 3550 §A.1 allows skipping probation then): every packet counts from the first.
rtp::RtpReceiveStats MakeStats(const LegMedia& media) {
  return rtp::RtpReceiveStats(RtpClockRate(media.codec), /*min_sequential=*/0);
}

Result<std::unique_ptr<rtp::SrtpSession>> MakeSrtp(rtp::SrtpSession::Direction direction,
                                                   const std::string& suite_name,
                                                   const std::string& key) {
  auto suite = rtp::CryptoSuiteFromName(suite_name);
  if (!suite.ok()) return Status::InvalidArgument("unsupported SRTP suite " + suite_name, "sdp");
  if (key.size() != rtp::KeySaltLength(*suite)) {
    return Status::InvalidArgument("the SRTP master key and salt have the wrong length", "sdp");
  }
  return rtp::SrtpSession::Create(
      direction, *suite, std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

// RFC 5761 §4: on a muxed port, version 2 with an RTCP packet type in the second byte.
bool IsRtcp(std::span<const uint8_t> datagram) {
  return datagram.size() >= 8 && (datagram[0] >> 6) == 2 && !rtp::LooksLikeRtp(datagram);
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
  std::unique_ptr<rtp::SrtpSession> in, out;
  if (media.srtp) {
    auto rx =
        MakeSrtp(rtp::SrtpSession::Direction::kInbound, media.srtp->suite, media.srtp->remote_key);
    if (!rx.ok()) return rx.status();
    auto tx =
        MakeSrtp(rtp::SrtpSession::Direction::kOutbound, media.srtp->suite, media.srtp->local_key);
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
    stats_.emplace(MakeStats(media));
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
      if (rtp::IsSrtpReplay(plain.status())) return drop(DropReason::kSrtpReplay);
      if (rtp::IsSrtpAuthFailure(plain.status())) return drop(DropReason::kSrtpAuth);
      return drop(DropReason::kMalformed);
    }
    datagram = datagram.first(*plain);
  }
  in.plain_size = datagram.size();
  if (rtcp) {
    std::array<rtp::RtcpPacketView, 8> parts;
    auto count = rtp::SplitCompound(datagram, parts);
    if (!count.ok()) return drop(DropReason::kMalformed);
    if (parts[0].type == rtp::RtcpType::kSr) {
      auto sr = rtp::ParseSenderReport(parts[0]);
      if (!sr.ok()) return drop(DropReason::kMalformed);
      if (stats_) stats_->OnSenderReport(sr->sender.ntp_timestamp, clock_.Now());
    }
    if (!media.rtcp_mux) setup_.media->remote_rtcp = from;
    in.kind = Inbound::kRtcp;
    return in;
  }
  auto packet = rtp::ParseRtp(datagram);
  if (!packet.ok()) return drop(DropReason::kMalformed);
  const rtp::RtpHeader& header = packet->header;
  if (header.payload_type != media.payload_type &&
      header.payload_type != media.telephone_event_pt) {
    return drop(DropReason::kUnknownPayload);
  }
  const TimePoint now = clock_.Now();
  if (latched_ && (from != latched_from_ || header.ssrc != latched_ssrc_)) {
    // A second source while the first is alive is an injection attempt or a stray stream; after
    // a silence it is the endpoint that moved (NAT rebinding) or restarted its stream.
    if (now - last_rx_ < kRelatchAfter) return drop(DropReason::kForeignSource);
    if (header.ssrc != latched_ssrc_) stats_.emplace(MakeStats(media));
    latched_ = false;
  }
  if (!latched_) {
    latched_ = true;
    latched_from_ = from;
    latched_ssrc_ = header.ssrc;
  }
  last_rx_ = now;
  timeout_reported_ = false;
  stats_->OnPacket(header.sequence, header.timestamp, now);
  in.rtp = *packet;
  in.kind = header.payload_type == media.telephone_event_pt ? Inbound::kEvent : Inbound::kAudio;
  return in;
}

std::optional<std::pair<char, uint32_t>> Leg::TakeEndedEvent(const rtp::RtpPacketView& packet) {
  auto event = rtp::ParseTelephoneEvent(packet.payload);
  if (!event.ok() || !event->end) return std::nullopt;
  if (last_event_ts_ && *last_event_ts_ == packet.header.timestamp) return std::nullopt;
  last_event_ts_ = packet.header.timestamp;
  char digit = rtp::DtmfEventDigit(event->event);
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
  if (!setup_.media) return;
  auto n = rtp::BuildRtp({.marker = marker,
                          .payload_type = static_cast<uint8_t>(setup_.media->payload_type),
                          .sequence = out_seq_,
                          .timestamp = out_ts_,
                          .ssrc = setup_.ssrc},
                         payload, std::span(tx_).first(tx_.size() - rtp::kSrtpMaxTrailer));
  if (!n.ok()) return;
  ++out_seq_;
  out_ts_ += rtp_samples;
  ++packets_sent_;
  octets_sent_ += payload.size();
  SendDatagram(false, tx_, *n);
}

void Leg::Forward(std::span<const uint8_t> packet, uint8_t payload_type) {
  if (packet.size() < rtp::kRtpFixedHeaderSize ||
      packet.size() + rtp::kSrtpMaxTrailer > tx_.size()) {
    return;
  }
  std::memcpy(tx_.data(), packet.data(), packet.size());
  tx_[1] = static_cast<uint8_t>((tx_[1] & 0x80) | (payload_type & 0x7f));
  ++packets_sent_;
  octets_sent_ += packet.size() - rtp::kRtpFixedHeaderSize;
  SendDatagram(false, tx_, packet.size());
}

void Leg::SendEvent(const rtp::TelephoneEvent& event, bool marker, uint32_t timestamp) {
  if (!HasEvents()) return;
  std::array<uint8_t, rtp::kTelephoneEventSize> payload;
  if (!rtp::BuildTelephoneEvent(event, payload).ok()) return;
  auto n = rtp::BuildRtp({.marker = marker,
                          .payload_type = static_cast<uint8_t>(setup_.media->telephone_event_pt),
                          .sequence = out_seq_,
                          .timestamp = timestamp,
                          .ssrc = setup_.ssrc},
                         payload, std::span(tx_).first(tx_.size() - rtp::kSrtpMaxTrailer));
  if (!n.ok()) return;
  ++out_seq_;
  ++packets_sent_;
  octets_sent_ += payload.size();
  SendDatagram(false, tx_, *n);
}

void Leg::SendEventPayload(const rtp::RtpPacketView& peer_packet, uint32_t peer_clock) {
  auto event = rtp::ParseTelephoneEvent(peer_packet.payload);
  if (!event.ok() || !HasEvents()) return;
  // Our copy of the event keeps one timestamp for its whole duration, as the peer's does.
  if (!peer_event_ts_ || *peer_event_ts_ != peer_packet.header.timestamp) {
    peer_event_ts_ = peer_packet.header.timestamp;
    our_event_ts_ = out_ts_;
  }
  const bool marker = peer_packet.header.marker;
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
    if (!rtp::DtmfEventCode(d).ok()) {
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
  const uint8_t code = rtp::DtmfEventCode(dtmf_current_.digit).value_or(0);
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
  // An SR with at most one report block (the latched source) and SDES CNAME (RFC 3550 §6.1).
  rtp::SenderReport sr{.ssrc = setup_.ssrc,
                       .sender = {.ntp_timestamp = rtp::ToNtp(clock_.WallNow()),
                                  .rtp_timestamp = out_ts_,
                                  .packet_count = static_cast<uint32_t>(packets_sent_),
                                  .octet_count = static_cast<uint32_t>(octets_sent_)}};
  if (latched_ && stats_.has_value()) {
    sr.block_count = 1;
    sr.blocks[0] = stats_->MakeReportBlock(latched_ssrc_, clock_.Now());
  }
  rtp::SdesChunk chunk{.ssrc = setup_.ssrc, .item_count = 1};
  chunk.items[0] = {.type = rtp::SdesItemType::kCname,
                    .text = std::string_view(setup_.cname).substr(0, 255)};
  rtp::RtcpWriter writer{std::span(tx_).first(tx_.size() - rtp::kSrtpMaxTrailer)};
  if (!writer.AddSenderReport(sr).ok() || !writer.AddSdes(std::span(&chunk, 1)).ok()) return;
  SendDatagram(true, tx_, writer.size());
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
    s.packets_lost = std::max<int64_t>(0, stats_->cumulative_lost());
    s.loss_fraction = stats_->loss_ratio();
    s.jitter_ms = stats_->jitter_ms();
  }
  s.mos = rtp::EstimateMos({.jitter_ms = s.jitter_ms,
                            .loss_ratio = s.loss_fraction,
                            .codec = QualityCodecOf(setup_.media->codec)});
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
