#include "session/engine.h"

#include <algorithm>
#include <cctype>

#include "session/mixer.h"

namespace sb::media {
namespace {

// Transcoding is only ever between G.711 and Opus, and G.711 carries 8 kHz audio: the Opus side
// encodes and decodes at 8 kHz too (its RTP clock stays 48 kHz, RFC 7587), so there is nothing to
// resample and libopus does less work, with no audio lost.
codec::CodecSpec TranscodeSpec(codec::CodecType type) {
  return {.type = type, .sample_rate = 8000, .frame_ms = kFrameMs};
}

bool IsToken(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
}

}  // namespace

MediaEngine::MediaEngine(const core::Clock& clock, PacketSink& packets, EventSink& events,
                         core::MetricsRegistry& metrics, EngineOptions options)
    : clock_(clock),
      packets_(packets),
      events_(events),
      options_(std::move(options)),
      received_(metrics.Counter("sb_media_packets_received_total",
                                "RTP packets accepted from endpoints")),
      relayed_(metrics.Counter("sb_media_packets_relayed_total",
                               "RTP packets forwarded unchanged to a bridged leg")),
      transcoded_(metrics.Counter("sb_media_packets_transcoded_total",
                                  "RTP packets transcoded for a bridged leg")),
      rtcp_received_(metrics.Counter("sb_media_rtcp_received_total", "RTCP packets accepted")),
      errors_(metrics.Counter("sb_media_codec_errors_total",
                              "payloads a codec could not decode or encode")),
      legs_gauge_(metrics.Gauge("sb_media_legs", "legs on the node")),
      conferences_gauge_(metrics.Gauge("sb_media_conferences", "conferences on the node")) {
  for (int i = 0; i < kDropReasons; ++i) {
    dropped_[i] = &metrics.Counter("sb_media_packets_dropped_total",
                                   "packets dropped: not RTP, not from the latched source, "
                                   "unknown payload type, failed SRTP authentication or replay",
                                   {{"reason", DropReasonName(static_cast<DropReason>(i))}});
  }
}

MediaEngine::~MediaEngine() {
  legs_gauge_.Add(-static_cast<double>(legs_.size()));
  conferences_gauge_.Add(-static_cast<double>(conferences_.size()));
}

Result<MediaEngine::LegState*> MediaEngine::Find(const std::string& leg_id) {
  auto it = legs_.find(leg_id);
  if (it == legs_.end()) return Status::NotFound("no leg " + leg_id + " on this node");
  return it->second.get();
}

Result<MediaEngine::Conference*> MediaEngine::FindConference(const std::string& conference_id) {
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) {
    return Status::NotFound("no conference " + conference_id + " on this node");
  }
  return it->second.get();
}

Result<MediaEngine::Member*> MediaEngine::FindMember(const std::string& conference_id,
                                                     const std::string& leg_id) {
  auto conf = FindConference(conference_id);
  if (!conf.ok()) return conf.status();
  for (Member& m : (*conf)->members) {
    if (m.state->leg->info().leg_id == leg_id) return &m;
  }
  return Status::NotFound("leg " + leg_id + " is not in conference " + conference_id);
}

std::vector<std::string> MediaEngine::LegIds() const {
  std::vector<std::string> ids;
  ids.reserve(legs_.size());
  for (const auto& [id, state] : legs_) ids.push_back(id);
  return ids;
}

Status MediaEngine::AddLeg(LegSetup setup) {
  if (setup.info.leg_id.empty()) return Status::InvalidArgument("a leg needs an id", "leg_id");
  if (legs_.count(setup.info.leg_id) != 0) {
    return Status::AlreadyExists("leg " + setup.info.leg_id + " already exists");
  }
  auto state = std::make_unique<LegState>();
  const int rtp = setup.rtp_socket;
  const int rtcp = setup.rtcp_socket;
  std::string id = setup.info.leg_id;
  state->leg = std::make_unique<Leg>(std::move(setup), packets_, clock_);
  if (rtp >= 0) sockets_[rtp] = {state.get(), false};
  if (rtcp >= 0 && rtcp != rtp) sockets_[rtcp] = {state.get(), true};
  legs_.emplace(std::move(id), std::move(state));
  legs_gauge_.Add(1);
  return Status::Ok();
}

Result<std::unique_ptr<Leg>> MediaEngine::ExtractLeg(const std::string& leg_id) {
  auto state = Find(leg_id);
  if (!state.ok()) return state.status();
  LegState& s = **state;
  if (s.peer != nullptr || s.conference != nullptr) {
    return Status::FailedPrecondition("leg " + leg_id + " is already in a bridge or conference");
  }
  std::unique_ptr<Leg> leg = std::move(s.leg);
  sockets_.erase(leg->rtp_socket());
  sockets_.erase(leg->rtcp_socket());
  legs_.erase(leg_id);
  legs_gauge_.Add(-1);
  return leg;
}

void MediaEngine::AdoptLeg(std::unique_ptr<Leg> leg) {
  auto state = std::make_unique<LegState>();
  leg->set_sink(packets_);
  if (leg->rtp_socket() >= 0) sockets_[leg->rtp_socket()] = {state.get(), false};
  if (leg->rtcp_socket() >= 0 && leg->rtcp_socket() != leg->rtp_socket()) {
    sockets_[leg->rtcp_socket()] = {state.get(), true};
  }
  std::string id = leg->info().leg_id;
  state->leg = std::move(leg);
  legs_.emplace(std::move(id), std::move(state));
  legs_gauge_.Add(1);
}

Status MediaEngine::SetLegMedia(const std::string& leg_id, const LegMedia& media) {
  auto state = Find(leg_id);
  if (!state.ok()) return state.status();
  LegState& s = **state;
  const bool codec_changed = !s.leg->media() || s.leg->media()->codec != media.codec;
  SB_RETURN_IF_ERROR(s.leg->SetMedia(media));
  if (codec_changed && s.peer != nullptr) {
    // Re-negotiated codec: rebuild the bridge's direction of travel both ways.
    LegState* peer = s.peer;
    Detach(s);
    auto again = Bridge(leg_id, peer->leg->info().leg_id);
    if (!again.ok()) return again.status();
  }
  return Status::Ok();
}

Status MediaEngine::RemoveLeg(const std::string& leg_id) {
  auto state = Find(leg_id);
  if (!state.ok()) return state.status();
  LegState& s = **state;
  FinishPlayback(s, false);
  FinishRecording(s);
  Detach(s);
  events_.OnLegStats(s.leg->info(), s.leg->Stats(), true);
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    it = it->second.state == &s ? sockets_.erase(it) : std::next(it);
  }
  legs_.erase(leg_id);
  legs_gauge_.Add(-1);
  return Status::Ok();
}

Result<LegStatsSnapshot> MediaEngine::LegStats(const std::string& leg_id) const {
  auto it = legs_.find(leg_id);
  if (it == legs_.end()) return Status::NotFound("no leg " + leg_id + " on this node");
  return it->second->leg->Stats();
}

void MediaEngine::Detach(LegState& s) {
  if (s.peer != nullptr) {
    s.peer->peer = nullptr;
    s.peer->to_peer.reset();
    s.peer = nullptr;
    s.to_peer.reset();
  }
  if (s.conference != nullptr) {
    Conference& c = *s.conference;
    std::erase_if(c.members, [&](const Member& m) { return m.state == &s; });
    c.inputs.resize(c.members.size());
    c.outputs.resize(c.members.size());
    c.mixed.resize(c.members.size());
    s.conference = nullptr;
  }
}

Result<bool> MediaEngine::Bridge(const std::string& leg_a, const std::string& leg_b) {
  if (leg_a == leg_b) return Status::InvalidArgument("a leg cannot be bridged to itself", "leg_b");
  auto a = Find(leg_a);
  if (!a.ok()) return a.status();
  auto b = Find(leg_b);
  if (!b.ok()) return b.status();
  for (LegState* s : {*a, *b}) {
    if (s->peer != nullptr || s->conference != nullptr) {
      return Status::FailedPrecondition("leg " + s->leg->info().leg_id +
                                        " is already in a bridge or conference");
    }
    if (!s->leg->media()) {
      return Status::FailedPrecondition("leg " + s->leg->info().leg_id +
                                        " has no negotiated media yet");
    }
  }
  const codec::CodecType ca = (*a)->leg->media()->codec;
  const codec::CodecType cb = (*b)->leg->media()->codec;
  std::unique_ptr<codec::Transcoder> ab, ba;
  if (ca != cb) {
    auto t1 = codec::Transcoder::Create(TranscodeSpec(ca), TranscodeSpec(cb));
    if (!t1.ok()) return t1.status();
    auto t2 = codec::Transcoder::Create(TranscodeSpec(cb), TranscodeSpec(ca));
    if (!t2.ok()) return t2.status();
    ab = std::move(*t1);
    ba = std::move(*t2);
  }
  // The call starts (an answer): silence while it rang does not count against either party.
  (*a)->leg->RestartSilence();
  (*b)->leg->RestartSilence();
  (*a)->peer = *b;
  (*b)->peer = *a;
  (*a)->to_peer = std::move(ab);
  (*b)->to_peer = std::move(ba);
  return ca != cb;
}

Status MediaEngine::Unbridge(const std::string& leg_id) {
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if ((*s)->peer == nullptr) return Status::FailedPrecondition("leg " + leg_id + " is not bridged");
  LegState* peer = (*s)->peer;
  peer->peer = nullptr;
  peer->to_peer.reset();
  (*s)->peer = nullptr;
  (*s)->to_peer.reset();
  return Status::Ok();
}

void MediaEngine::FinishPlayback(LegState& s, bool completed) {
  auto& playback = s.leg->playback();
  if (!playback) return;
  uint32_t played_ms = static_cast<uint32_t>(playback->played * 1000 / kPcmRate);
  std::string id = playback->id;
  playback.reset();
  events_.OnPlaybackFinished(s.leg->info(), id, completed, played_ms);
}

void MediaEngine::FinishRecording(LegState& s) {
  auto& recording = s.leg->recording();
  if (!recording) return;
  Leg::Recording r = std::move(*recording);
  recording.reset();
  uint32_t duration_ms = static_cast<uint32_t>(r.writer->samples_written() * 1000 / kPcmRate);
  if (!r.writer->Close().ok()) errors_.Inc();
  events_.OnRecordingFinished(s.leg->info(), r.id, r.file, duration_ms, r.mixed);
}

Status MediaEngine::Play(const std::string& leg_id, Leg::Playback playback) {
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if (!(*s)->leg->media()) return Status::FailedPrecondition("leg " + leg_id + " has no media yet");
  FinishPlayback(**s, false);
  (*s)->leg->StartPlayback(std::move(playback));
  return Status::Ok();
}

Status MediaEngine::StopPlay(const std::string& leg_id) {
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if (!(*s)->leg->playback()) return Status::FailedPrecondition("nothing plays on leg " + leg_id);
  FinishPlayback(**s, false);
  return Status::Ok();
}

Result<std::string> MediaEngine::StartRecording(const std::string& leg_id,
                                                const std::string& recording_id, bool mixed) {
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if (!IsToken(recording_id)) {
    return Status::InvalidArgument("a recording id is letters, digits, '-' and '_'",
                                   "recording_id");
  }
  if ((*s)->leg->recording()) {
    return Status::FailedPrecondition("leg " + leg_id + " is already recording");
  }
  std::string file = options_.recordings_dir + "/" + recording_id + ".wav";
  auto writer = codec::WavWriter::Open(file, kPcmRate);
  if (!writer.ok()) return writer.status();
  (*s)->leg->recording() = Leg::Recording{recording_id, file, mixed, std::move(*writer)};
  return file;
}

Status MediaEngine::StopRecording(const std::string& leg_id) {
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if (!(*s)->leg->recording())
    return Status::FailedPrecondition("leg " + leg_id + " is not recording");
  FinishRecording(**s);
  return Status::Ok();
}

Status MediaEngine::SendDtmf(const std::string& leg_id, std::string_view digits,
                             uint32_t duration_ms, uint32_t gap_ms) {
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if (!(*s)->leg->media()) return Status::FailedPrecondition("leg " + leg_id + " has no media yet");
  return (*s)->leg->QueueDtmf(digits, duration_ms == 0 ? 100 : duration_ms,
                              gap_ms == 0 ? 50 : gap_ms);
}

Status MediaEngine::CreateConference(const std::string& conference_id) {
  if (conference_id.empty())
    return Status::InvalidArgument("a conference needs an id", "conference_id");
  if (conferences_.count(conference_id) != 0) {
    return Status::AlreadyExists("conference " + conference_id + " already exists");
  }
  auto c = std::make_unique<Conference>();
  c->id = conference_id;
  conferences_.emplace(conference_id, std::move(c));
  conferences_gauge_.Add(1);
  return Status::Ok();
}

Status MediaEngine::DestroyConference(const std::string& conference_id) {
  auto c = FindConference(conference_id);
  if (!c.ok()) return c.status();
  for (Member& m : (*c)->members) m.state->conference = nullptr;
  conferences_.erase(conference_id);
  conferences_gauge_.Add(-1);
  return Status::Ok();
}

Status MediaEngine::AddToConference(const std::string& conference_id, const std::string& leg_id) {
  auto c = FindConference(conference_id);
  if (!c.ok()) return c.status();
  auto s = Find(leg_id);
  if (!s.ok()) return s.status();
  if ((*s)->peer != nullptr || (*s)->conference != nullptr) {
    return Status::FailedPrecondition("leg " + leg_id + " is already in a bridge or conference");
  }
  if (!(*s)->leg->media()) return Status::FailedPrecondition("leg " + leg_id + " has no media yet");
  Conference& conf = **c;
  conf.members.push_back({*s});
  conf.inputs.resize(conf.members.size());
  conf.outputs.resize(conf.members.size());
  conf.mixed.resize(conf.members.size());
  (*s)->conference = &conf;
  return Status::Ok();
}

Status MediaEngine::RemoveFromConference(const std::string& conference_id,
                                         const std::string& leg_id) {
  auto m = FindMember(conference_id, leg_id);
  if (!m.ok()) return m.status();
  Detach(*(*m)->state);
  return Status::Ok();
}

Status MediaEngine::SetMuted(const std::string& conference_id, const std::string& leg_id, bool on) {
  auto m = FindMember(conference_id, leg_id);
  if (!m.ok()) return m.status();
  (*m)->muted = on;
  return Status::Ok();
}

Status MediaEngine::SetDeaf(const std::string& conference_id, const std::string& leg_id, bool on) {
  auto m = FindMember(conference_id, leg_id);
  if (!m.ok()) return m.status();
  (*m)->deaf = on;
  return Status::Ok();
}

Result<size_t> MediaEngine::ConferenceSize(const std::string& conference_id) const {
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) {
    return Status::NotFound("no conference " + conference_id + " on this node");
  }
  return it->second->members.size();
}

bool MediaEngine::NeedsPcm(const LegState& s) const {
  if (s.leg->options().inband_dtmf || s.conference != nullptr) return true;
  if (s.leg->recording()) return true;
  if (s.peer != nullptr) {
    const auto& peer_rec = s.peer->leg->recording();
    if (peer_rec && peer_rec->mixed) return true;
  }
  return false;
}

void MediaEngine::OnDatagram(int socket, const Endpoint& from, std::span<uint8_t> datagram) {
  auto it = sockets_.find(socket);
  if (it == sockets_.end()) return;
  LegState& s = *it->second.state;
  Inbound in = s.leg->Receive(datagram, from, it->second.rtcp);
  switch (in.kind) {
    case Inbound::kDropped:
      dropped_[static_cast<int>(in.reason)]->Inc();
      return;
    case Inbound::kRtcp:
      rtcp_received_.Inc();
      return;
    case Inbound::kEvent: {
      received_.Inc();
      if (auto ended = s.leg->TakeEndedEvent(in.rtp)) {
        events_.OnDtmf(s.leg->info(), ended->first, DtmfSource::kRfc4733, ended->second);
      }
      LegState* peer = s.peer;
      if (peer == nullptr || !peer->leg->HasEvents()) return;
      if (s.to_peer == nullptr && !peer->leg->overridden()) {
        // The relayed audio keeps the sender's SSRC, sequence numbers and timestamps; its events
        // belong to that stream (RFC 4733 §2.1: the audio channel's sequence number and
        // timestamp base). Events of our own SSRC in between would look like a source change
        // at every digit, and phones (baresip) drop them.
        peer->leg->Forward(datagram.first(in.plain_size),
                           static_cast<uint8_t>(peer->leg->media()->telephone_event_pt));
      } else {
        peer->leg->SendEventPayload(in.rtp, RtpClockRate(s.leg->media()->codec));
      }
      return;
    }
    case Inbound::kAudio:
      break;
  }
  received_.Inc();
  LegState* peer = s.peer;
  if (peer != nullptr && !peer->leg->overridden()) {
    if (s.to_peer == nullptr) {
      peer->leg->Forward(datagram.first(in.plain_size),
                         static_cast<uint8_t>(peer->leg->media()->payload_type));
      relayed_.Inc();
    } else {
      std::array<uint8_t, codec::kMaxPayloadBytes> out;
      auto n = s.to_peer->Transcode(in.rtp.payload, out);
      if (n.ok()) {
        peer->leg->SendPayload(std::span(out).first(*n),
                               RtpClockRate(peer->leg->media()->codec) * kFrameMs / 1000);
        transcoded_.Inc();
      } else {
        errors_.Inc();
      }
    }
  }
  if (NeedsPcm(s) && !s.leg->QueueInbound(in.rtp).ok()) errors_.Inc();
}

void MediaEngine::MixConference(Conference& c) {
  const size_t n = c.members.size();
  for (size_t i = 0; i < n; ++i) {
    const Member& m = c.members[i];
    c.inputs[i] = m.muted
                      ? nullptr
                      : (m.state->leg->current_in() ? m.state->leg->current_in()->data() : nullptr);
    c.outputs[i] = m.deaf ? nullptr : c.mixed[i].data();
  }
  MixMinusSelf(c.inputs, c.outputs, kFrameSamples);
  for (size_t i = 0; i < n; ++i) {
    if (c.outputs[i] == nullptr) continue;
    Leg& leg = *c.members[i].state->leg;
    leg.out_pcm() = c.mixed[i];
    leg.has_out_pcm() = true;
    if (!leg.overridden() && !leg.SendPcm(c.mixed[i]).ok()) errors_.Inc();
  }
}

void MediaEngine::Tick() {
  for (auto& [id, s] : legs_) {
    s->leg->has_out_pcm() = false;
    if (!NeedsPcm(*s)) {
      s->leg->IdlePcm();
      continue;
    }
    auto digit = s->leg->AdvanceFrame();
    if (!digit.ok()) {
      errors_.Inc();
    } else if (*digit != 0) {
      events_.OnDtmf(s->leg->info(), *digit, DtmfSource::kInband, 0);
    }
  }
  for (auto& [id, c] : conferences_) MixConference(*c);
  PcmFrame frame;
  for (auto& [id, s] : legs_) {
    Leg& leg = *s->leg;
    if (leg.playback()) {
      if (leg.NextPlaybackFrame(frame)) {
        if (!leg.SendPcm(frame).ok()) errors_.Inc();
        leg.out_pcm() = frame;
        leg.has_out_pcm() = true;
      } else {
        FinishPlayback(*s, true);
      }
    } else if (leg.sending_dtmf() && leg.StepDtmf(frame)) {
      if (!leg.SendPcm(frame).ok()) errors_.Inc();
      leg.out_pcm() = frame;
      leg.has_out_pcm() = true;
    }
    if (auto& rec = leg.recording()) {
      if (const PcmFrame* in = leg.current_in()) {
        frame = *in;
      } else {
        frame.fill(0);
      }
      if (rec->mixed) {
        if (leg.has_out_pcm()) {
          MixInto(frame, leg.out_pcm());
        } else if (s->peer != nullptr && s->peer->leg->current_in() != nullptr) {
          MixInto(frame, *s->peer->leg->current_in());
        }
      }
      if (!rec->writer->Append(frame).ok()) errors_.Inc();
    }
    leg.OnTick(events_);
  }
}

}  // namespace sb::media
