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

// IPv4 + UDP headers, which RFC 3550 §6.3.3 counts in the average RTCP packet size.
constexpr size_t kUdpIpv4Overhead = 28;

// The RTP session bandwidth of §6.2 in bytes/s: one stream of the codec's nominal rate plus
// IP/UDP/RTP headers every 20 ms. Only the 5 % RTCP share matters, and at two members the
// 5 s minimum interval dominates whatever this is.
double SessionBandwidth(const std::optional<LegMedia>& media) {
  const double headers = (kUdpIpv4Overhead + rtp::kRtpFixedHeaderSize) * 1000.0 / kFrameMs;
  const double payload = media && media->codec == codec::CodecType::kOpus ? 32000 / 8 : 64000 / 8;
  return payload + headers;
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
      silence_from_(created_),
      out_seq_(static_cast<uint16_t>(setup_.ssrc * 2654435761u >> 16)),
      out_ts_(setup_.ssrc * 40503u),
      rtcp_random_(setup_.ssrc),
      next_stats_(created_ + milliseconds(setup_.options.stats_interval_ms)) {
  if (setup_.media) (void)SetMedia(*setup_.media);
  next_rtcp_ = created_ + NextRtcpInterval();
}

Leg::~Leg() = default;

void Leg::RestartSilence() {
  silence_from_ = clock_.Now();
  timeout_reported_ = false;
}

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
  RestartSilence();
  setup_.media = media;
  srtp_in_ = std::move(in);
  srtp_out_ = std::move(out);
  if (codec_changed || !had_media) {
    const uint32_t clock = RtpClockRate(media.codec);
    stats_.emplace(MakeStats(media));
    send_stats_.emplace(clock);
    events_in_ = rtp::TelephoneEventReceiver();
    events_out_.emplace(rtp::TelephoneEventSender::Options{
        .clock_rate = clock, .packet_interval = FrameRtpSamples(media)});
    dtmf_active_ = false;
    pcm_decoder_.reset();
    pcm_encoder_.reset();
    jitter_.reset();
    has_current_ = false;
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
    rtcp_schedule_.OnRtcpPacket(datagram.size() + kUdpIpv4Overhead);
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
    if (header.ssrc != latched_ssrc_) {
      stats_.emplace(MakeStats(media));
      events_in_ = rtp::TelephoneEventReceiver();
    }
    latched_ = false;
  }
  if (!latched_) {
    latched_ = true;
    latched_from_ = from;
    latched_ssrc_ = header.ssrc;
  }
  last_rx_ = now;
  received_since_report_ = true;
  timeout_reported_ = false;
  stats_->OnPacket(header.sequence, header.timestamp, now);
  in.rtp = *packet;
  in.kind = header.payload_type == media.telephone_event_pt ? Inbound::kEvent : Inbound::kAudio;
  return in;
}

std::optional<std::pair<char, uint32_t>> Leg::TakeEndedEvent(const rtp::RtpPacketView& packet) {
  auto event = events_in_.OnPacket(packet.header.timestamp, packet.payload, packet.header.marker);
  if (!event.ok() || !event->has_value() ||
      (*event)->kind != rtp::TelephoneEventReceiver::Kind::kEnd) {
    return std::nullopt;
  }
  const char digit = rtp::DtmfEventDigit((*event)->event);
  if (digit == 0) return std::nullopt;
  const uint64_t ms = uint64_t{(*event)->duration} * 1000u / RtpClockRate(setup_.media->codec);
  return std::make_pair(digit, static_cast<uint32_t>(ms));
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
  CountSent(out_ts_, payload.size());
  ++out_seq_;
  out_ts_ += rtp_samples;
  SendDatagram(false, tx_, *n);
}

void Leg::CountSent(uint32_t rtp_timestamp, size_t payload_bytes) {
  ++packets_sent_;
  if (send_stats_) send_stats_->OnSent(rtp_timestamp, payload_bytes, clock_.Now());
  sent_since_report_ = true;
}

void Leg::Forward(std::span<const uint8_t> packet, uint8_t payload_type) {
  if (packet.size() < rtp::kRtpFixedHeaderSize ||
      packet.size() + rtp::kSrtpMaxTrailer > tx_.size()) {
    return;
  }
  std::memcpy(tx_.data(), packet.data(), packet.size());
  tx_[1] = static_cast<uint8_t>((tx_[1] & 0x80) | (payload_type & 0x7f));
  const uint32_t timestamp = static_cast<uint32_t>(tx_[4]) << 24 |
                             static_cast<uint32_t>(tx_[5]) << 16 |
                             static_cast<uint32_t>(tx_[6]) << 8 | tx_[7];
  CountSent(timestamp, packet.size() - rtp::kRtpFixedHeaderSize);
  SendDatagram(false, tx_, packet.size());
}

void Leg::SendEvent(std::span<const uint8_t> payload, bool marker, uint32_t timestamp) {
  if (!HasEvents()) return;
  auto n = rtp::BuildRtp({.marker = marker,
                          .payload_type = static_cast<uint8_t>(setup_.media->telephone_event_pt),
                          .sequence = out_seq_,
                          .timestamp = timestamp,
                          .ssrc = setup_.ssrc},
                         payload, std::span(tx_).first(tx_.size() - rtp::kSrtpMaxTrailer));
  if (!n.ok()) return;
  CountSent(timestamp, payload.size());
  ++out_seq_;
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
  std::array<uint8_t, rtp::kTelephoneEventSize> payload;
  if (!rtp::BuildTelephoneEvent(*event, payload).ok()) return;
  SendEvent(payload, marker, our_event_ts_);
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
  if (!jitter_) {
    // 16 packets hold the 200 ms maximum delay with room for reordering beyond it.
    auto jb = rtp::JitterBuffer::Create({.clock_rate = RtpClockRate(setup_.media->codec),
                                         .frame_samples = FrameRtpSamples(*setup_.media),
                                         .min_delay = milliseconds(kFrameMs),
                                         .max_delay = milliseconds(200),
                                         .capacity = 16,
                                         .max_payload = codec::kMaxPayloadBytes});
    if (!jb.ok()) return jb.status();
    jitter_.emplace(std::move(*jb));
  }
  return Status::Ok();
}

Status Leg::QueueInbound(const rtp::RtpPacketView& packet) {
  SB_RETURN_IF_ERROR(EnsurePcmCodecs());
  const rtp::RtpHeader& h = packet.header;
  if (jitter_->Push(h.sequence, h.timestamp, h.marker, packet.payload, clock_.Now()) ==
      rtp::JitterBuffer::PushResult::kTooLarge) {
    return Status::InvalidArgument("payload larger than a codec frame", "payload");
  }
  return Status::Ok();
}

Result<char> Leg::AdvanceFrame() {
  if (!jitter_) {
    has_current_ = false;
    return char{0};
  }
  pcm_in_use_ = true;
  const rtp::JitterBuffer::Frame frame = jitter_->Pop(clock_.Now(), played_);
  std::array<int16_t, codec::kMaxFrameSamples> decoded;
  switch (frame.kind) {
    case rtp::JitterBuffer::Kind::kPacket: {
      auto n = pcm_decoder_->Decode(std::span(played_).first(frame.size), decoded);
      if (!n.ok()) {
        has_current_ = false;
        return n.status();
      }
      const size_t copy = std::min(*n, kFrameSamples);
      std::copy_n(decoded.begin(), copy, current_in_.begin());
      std::fill(current_in_.begin() + static_cast<ptrdiff_t>(copy), current_in_.end(), int16_t{0});
      has_current_ = true;
      concealed_ = 0;
      break;
    }
    case rtp::JitterBuffer::Kind::kConceal:
      if (has_current_ && concealed_ < kMaxConcealed) {
        auto n = pcm_decoder_->Conceal(decoded);
        if (n.ok()) std::copy_n(decoded.begin(), std::min(*n, kFrameSamples), current_in_.begin());
        ++concealed_;
      } else {
        has_current_ = false;
      }
      return char{0};
    case rtp::JitterBuffer::Kind::kSilence:
      has_current_ = false;
      return char{0};
  }
  if (!setup_.options.inband_dtmf) return char{0};
  if (!dtmf_detector_) dtmf_detector_.emplace();
  std::array<codec::DtmfDigit, 2> found;
  return dtmf_detector_->Process(current_in_, found) > 0 ? found[0].digit : char{0};
}

void Leg::IdlePcm() {
  if (!pcm_in_use_) return;
  pcm_in_use_ = false;
  has_current_ = false;
  if (jitter_) jitter_->Reset();
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
  const uint32_t clock = RtpClockRate(setup_.media->codec);
  if (!dtmf_active_) {
    if (dtmf_queue_.empty()) return false;
    dtmf_current_ = dtmf_queue_.front();
    dtmf_queue_.pop_front();
    dtmf_active_ = true;
    dtmf_elapsed_ms_ = 0;
    dtmf_event_ts_ = out_ts_;
    dtmf_tone_.reset();
    if (HasEvents()) {
      const uint8_t code = rtp::DtmfEventCode(dtmf_current_.digit).value_or(0);
      const uint64_t units = uint64_t{dtmf_current_.duration_ms} * clock / 1000;
      if (!events_out_->Start(code, /*volume=*/10, static_cast<uint32_t>(units), dtmf_event_ts_)
               .ok()) {
        dtmf_active_ = false;
        return false;
      }
    } else {
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
  dtmf_elapsed_ms_ += kFrameMs;
  if (auto packet = events_out_->Next()) {
    SendEvent(packet->payload, packet->marker, packet->timestamp);
  } else if (dtmf_elapsed_ms_ >= dtmf_current_.duration_ms + dtmf_current_.gap_ms) {
    // The event and its repeated end are out and the gap has passed: our stream's timestamp
    // moves past the event, so that audio after it does not overlap it.
    dtmf_active_ = false;
    const uint32_t after =
        dtmf_event_ts_ + static_cast<uint32_t>(uint64_t{dtmf_elapsed_ms_} * clock / 1000);
    if (static_cast<int32_t>(after - out_ts_) > 0) out_ts_ = after;
  }
  return false;
}

std::chrono::microseconds Leg::NextRtcpInterval() {
  const int senders = int{sent_since_report_} + int{received_since_report_};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  return rtcp_schedule_.Interval({.members = latched_ ? 2 : 1,
                                  .senders = senders,
                                  .session_bandwidth = SessionBandwidth(setup_.media),
                                  .we_sent = sent_since_report_,
                                  .initial = !rtcp_sent_},
                                 uniform(rtcp_random_));
}

void Leg::SendRtcp() {
  // An SR when we sent since the last report, else an RR (§6.4), with at most one report block
  // (the latched source), then SDES CNAME (§6.1).
  const TimePoint now = clock_.Now();
  rtp::RtcpWriter writer{std::span(tx_).first(tx_.size() - rtp::kSrtpMaxTrailer)};
  std::optional<rtp::ReportBlock> block;
  if (latched_ && stats_.has_value()) block = stats_->MakeReportBlock(latched_ssrc_, now);
  Status added;
  if (sent_since_report_ && send_stats_) {
    rtp::SenderReport sr{.ssrc = setup_.ssrc,
                         .sender = send_stats_->MakeSenderInfo(now, clock_.WallNow())};
    if (block) {
      sr.block_count = 1;
      sr.blocks[0] = *block;
    }
    added = writer.AddSenderReport(sr);
  } else {
    rtp::ReceiverReport rr{.ssrc = setup_.ssrc};
    if (block) {
      rr.block_count = 1;
      rr.blocks[0] = *block;
    }
    added = writer.AddReceiverReport(rr);
  }
  rtp::SdesChunk chunk{.ssrc = setup_.ssrc, .item_count = 1};
  chunk.items[0] = {.type = rtp::SdesItemType::kCname,
                    .text = std::string_view(setup_.cname).substr(0, 255)};
  if (!added.ok() || !writer.AddSdes(std::span(&chunk, 1)).ok()) return;
  rtcp_schedule_.OnRtcpPacket(writer.size() + kUdpIpv4Overhead);
  SendDatagram(true, tx_, writer.size());
}

void Leg::OnTick(EventSink& events) {
  if (!setup_.media) return;
  const TimePoint now = clock_.Now();
  if (now >= next_rtcp_) {
    SendRtcp();
    rtcp_sent_ = true;
    // The interval is drawn from what happened since the last report, so the flags are reset
    // only after it (RFC 3550 §6.3.6).
    next_rtcp_ = now + NextRtcpInterval();
    sent_since_report_ = false;
    received_since_report_ = false;
  }
  if (setup_.options.rtp_timeout_ms > 0 && !timeout_reported_) {
    auto silent = duration_cast<milliseconds>(now - std::max(last_rx_, silence_from_));
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
