#include "net/media_node.h"

#include <openssl/rand.h>

#include <functional>

#include "switchboard/codec/resampler.h"
#include "switchboard/codec/wav.h"
#include "switchboard/rtp/sdes_crypto.h"

namespace sb::media {
namespace {

// Pairs tried before giving up when the kernel refuses to bind (another process holds the port).
constexpr int kBindAttempts = 8;

uint32_t RandomU32() {
  uint32_t v = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v));
  return v;
}

}  // namespace

Status OfLeg(std::string_view which, const Status& status) {
  if (status.ok()) return status;
  std::string field = status.field().empty() ? "" : std::string(which) + "." + status.field();
  return Status(status.code(), "leg " + std::string(which) + ": " + status.message(),
                std::move(field));
}

MediaNode::MediaNode(NodeOptions options, const core::Clock& clock, EventSink& events,
                     core::MetricsRegistry& metrics, core::IdGenerator& ids)
    : options_(std::move(options)),
      clock_(clock),
      ids_(ids),
      ports_(options_.port_min, options_.port_max),
      negotiator_(
          {.address = options_.advertised_address, .session_id = std::to_string(RandomU32())}) {
  const int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<MediaWorker>(
        i, clock_, events, metrics,
        EngineOptions{.node_id = options_.node_id, .recordings_dir = options_.recordings_dir}));
  }
}

MediaNode::~MediaNode() { Stop(); }

Status MediaNode::Start() {
  for (auto& w : workers_) SB_RETURN_IF_ERROR(w->Start());
  started_ = true;
  return Status::Ok();
}

void MediaNode::Stop() {
  {
    std::lock_guard lock(mu_);
    while (!legs_.empty()) (void)DestroyLegLocked(legs_.begin()->first);
  }
  for (auto& w : workers_) w->Stop();
}

std::string MediaNode::NewKey() {
  // The suite the node offers and answers with (SdpNegotiator).
  std::string key(rtp::KeySaltLength(rtp::CryptoSuite::kAesCm128HmacSha1_80), '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size()));
  return key;
}

Result<MediaNode::LegEntry*> MediaNode::Find(const std::string& leg_id) {
  auto it = legs_.find(leg_id);
  if (it == legs_.end()) return Status::NotFound("no leg " + leg_id + " on this node");
  return &it->second;
}

Result<LegDescription> MediaNode::CreateLeg(const CreateLegParams& params) {
  if (draining_) return Status::Unavailable("node " + options_.node_id + " is draining");
  if (params.tenant_id.empty())
    return Status::InvalidArgument("tenant_id is required", "tenant_id");
  if (params.kind == SdpKind::kAnswer) {
    return Status::InvalidArgument("a new leg takes an offer or no SDP; answers go to update_leg",
                                   "sdp_type");
  }
  std::lock_guard lock(mu_);
  std::string leg_id = params.leg_id.empty() ? ids_.Next() : params.leg_id;
  if (legs_.count(leg_id) != 0) return Status::AlreadyExists("leg " + leg_id + " already exists");

  LegEntry entry;
  uint16_t port = 0;
  for (int attempt = 0; attempt < kBindAttempts && entry.rtp == nullptr; ++attempt) {
    auto p = ports_.Allocate();
    if (!p.ok()) return p.status();
    auto rtp = UdpSocket::Bind(options_.bind_address, *p);
    auto rtcp = UdpSocket::Bind(options_.bind_address, static_cast<uint16_t>(*p + 1));
    if (rtp.ok() && rtcp.ok()) {
      entry.rtp = std::move(*rtp);
      entry.rtcp = std::move(*rtcp);
      port = *p;
    } else {
      ports_.Release(*p);
    }
  }
  if (entry.rtp == nullptr) return Status::Unavailable("no bindable RTP port pair in the range");

  std::string key = NewKey();
  std::optional<LegMedia> media;
  std::string sdp;
  if (params.kind == SdpKind::kOffer) {
    auto answer = negotiator_.Answer(params.sdp, port, key, entry.sdp_version);
    if (!answer.ok()) {
      ports_.Release(port);
      return answer.status();
    }
    media = answer->media;
    sdp = answer->sdp;
  } else {
    if (!params.srtp) key.clear();
    sdp = negotiator_.Offer(port, key, entry.sdp_version);
    entry.srtp_key = key;
  }
  MediaWorker& worker = *workers_[std::hash<std::string>()(params.call_id) % workers_.size()];
  entry.worker = &worker;
  LegSetup setup{.info = {params.tenant_id, params.call_id, leg_id},
                 .rtp_socket = entry.rtp->fd(),
                 .rtcp_socket = entry.rtcp->fd(),
                 .options = params.options,
                 .media = media,
                 .ssrc = RandomU32(),
                 .cname = options_.node_id};
  Status added = worker.WithEngine([&](MediaEngine& e) { return e.AddLeg(std::move(setup)); });
  if (added.ok()) added = worker.Watch(entry.rtp->fd());
  if (added.ok()) added = worker.Watch(entry.rtcp->fd());
  if (!added.ok()) {
    worker.Unwatch(entry.rtp->fd());
    (void)worker.WithEngine([&](MediaEngine& e) { return e.RemoveLeg(leg_id); });
    ports_.Release(port);
    return added;
  }
  LegDescription out{leg_id, sdp, media ? std::string(codec::CodecName(media->codec)) : ""};
  legs_.emplace(leg_id, std::move(entry));
  return out;
}

Result<LegDescription> MediaNode::UpdateLeg(const std::string& leg_id, SdpKind kind,
                                            const std::string& sdp) {
  std::lock_guard lock(mu_);
  auto entry = Find(leg_id);
  if (!entry.ok()) return entry.status();
  LegEntry& e = **entry;
  LegMedia media;
  std::string ours;
  ++e.sdp_version;
  if (kind == SdpKind::kAnswer) {
    auto applied = negotiator_.ApplyAnswer(sdp, e.srtp_key);
    if (!applied.ok()) return applied.status();
    media = *applied;
    ours = negotiator_.Offer(e.rtp->port(), e.srtp_key, e.sdp_version);
  } else if (kind == SdpKind::kOffer) {
    std::string key = NewKey();
    auto answer = negotiator_.Answer(sdp, e.rtp->port(), key, e.sdp_version);
    if (!answer.ok()) return answer.status();
    media = answer->media;
    ours = answer->sdp;
  } else {
    return Status::InvalidArgument("update_leg needs an offer or an answer", "sdp_type");
  }
  SB_RETURN_IF_ERROR(
      e.worker->WithEngine([&](MediaEngine& eng) { return eng.SetLegMedia(leg_id, media); }));
  return LegDescription{leg_id, ours, std::string(codec::CodecName(media.codec))};
}

Status MediaNode::DestroyLegLocked(const std::string& leg_id, LegStatsSnapshot* final) {
  auto entry = Find(leg_id);
  if (!entry.ok()) return entry.status();
  LegEntry& e = **entry;
  e.worker->Unwatch(e.rtp->fd());
  e.worker->Unwatch(e.rtcp->fd());
  Status removed = e.worker->WithEngine([&](MediaEngine& eng) {
    // Read in the same hold of the engine as the removal, whose final event says the same.
    if (final != nullptr) {
      if (auto stats = eng.LegStats(leg_id); stats.ok()) *final = *stats;
    }
    return eng.RemoveLeg(leg_id);
  });
  ports_.Release(e.rtp->port());
  legs_.erase(leg_id);  // closes the sockets, after the worker forgot them
  return removed;
}

Status MediaNode::DestroyLeg(const std::string& leg_id) {
  std::lock_guard lock(mu_);
  return DestroyLegLocked(leg_id);
}

Result<LegPair> MediaNode::CreateLegPair(const CreateLegParams& a, const CreateLegParams& b) {
  auto leg_a = CreateLeg(a);
  if (!leg_a.ok()) return OfLeg("a", leg_a.status());
  auto leg_b = CreateLeg(b);
  if (!leg_b.ok()) {
    // Whatever the engine says of it, the node has forgotten leg a and freed its ports: the
    // caller is left nothing to clean up, and b's failure is the one to report.
    (void)DestroyLeg(leg_a->leg_id);
    return OfLeg("b", leg_b.status());
  }
  return LegPair{std::move(*leg_a), std::move(*leg_b)};
}

Status MediaNode::DestroyLegs(const std::vector<std::string>& leg_ids,
                              std::vector<DestroyedLeg>* finals) {
  std::lock_guard lock(mu_);
  Status first = Status::Ok();
  for (const auto& leg_id : leg_ids) {
    LegStatsSnapshot stats;
    Status destroyed = DestroyLegLocked(leg_id, finals != nullptr ? &stats : nullptr);
    if (destroyed.ok() && finals != nullptr) finals->push_back({leg_id, std::move(stats)});
    if (first.ok() && !destroyed.ok()) first = destroyed;
  }
  return first;
}

Status MediaNode::MoveLeg(const std::string& leg_id, LegEntry& entry, MediaWorker& target) {
  MediaWorker& source = *entry.worker;
  if (&source == &target) return Status::Ok();
  MediaWorker& first = source.index() < target.index() ? source : target;
  MediaWorker& second = source.index() < target.index() ? target : source;
  std::scoped_lock both(first.mutex(), second.mutex());
  auto leg = source.engine_unlocked().ExtractLeg(leg_id);
  if (!leg.ok()) return leg.status();
  source.Unwatch(entry.rtp->fd());
  source.Unwatch(entry.rtcp->fd());
  target.engine_unlocked().AdoptLeg(std::move(*leg));
  SB_RETURN_IF_ERROR(target.Watch(entry.rtp->fd()));
  SB_RETURN_IF_ERROR(target.Watch(entry.rtcp->fd()));
  entry.worker = &target;
  return Status::Ok();
}

Result<bool> MediaNode::Bridge(const std::string& leg_a, const std::string& leg_b) {
  std::lock_guard lock(mu_);
  auto a = Find(leg_a);
  if (!a.ok()) return a.status();
  auto b = Find(leg_b);
  if (!b.ok()) return b.status();
  if ((*a)->worker != (*b)->worker) SB_RETURN_IF_ERROR(MoveLeg(leg_b, **b, *(*a)->worker));
  return (*a)->worker->WithEngine([&](MediaEngine& e) { return e.Bridge(leg_a, leg_b); });
}

Status MediaNode::Unbridge(const std::string& leg_id) {
  std::lock_guard lock(mu_);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  return (*e)->worker->WithEngine([&](MediaEngine& eng) { return eng.Unbridge(leg_id); });
}

Result<std::string> MediaNode::Play(const std::string& leg_id, Leg::Playback playback) {
  std::lock_guard lock(mu_);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  std::string id = playback.id;
  SB_RETURN_IF_ERROR((*e)->worker->WithEngine(
      [&](MediaEngine& eng) { return eng.Play(leg_id, std::move(playback)); }));
  return id;
}

Result<std::string> MediaNode::PlayFile(const std::string& leg_id, std::string playback_id,
                                        const std::string& path) {
  // Read and resample before taking any lock: file I/O stays off the media threads.
  auto wav = codec::ReadWavFile(path);
  if (!wav.ok()) return Status::InvalidArgument(path + ": " + wav.status().message(), "wav_file");
  Leg::Playback playback;
  playback.id = playback_id.empty() ? ids_.Next() : std::move(playback_id);
  if (wav->sample_rate == kPcmRate) {
    playback.samples = std::move(wav->samples);
  } else {
    auto resampler = codec::Resampler::Create(wav->sample_rate, kPcmRate);
    if (!resampler.ok()) {
      return Status::InvalidArgument(path + ": " + resampler.status().message(), "wav_file");
    }
    playback.samples.resize((*resampler)->OutputSize(wav->samples.size()));
    auto n = (*resampler)->Process(wav->samples, playback.samples);
    if (!n.ok()) return n.status();
    playback.samples.resize(*n);
  }
  return Play(leg_id, std::move(playback));
}

Result<std::string> MediaNode::PlayTone(const std::string& leg_id, std::string playback_id,
                                        const codec::ToneSpec& tone) {
  if (tone.freq_hz[0] <= 0 || tone.freq_hz[0] >= kPcmRate / 2.0 || tone.freq_hz[1] < 0 ||
      tone.freq_hz[1] >= kPcmRate / 2.0) {
    return Status::InvalidArgument("tone frequencies are 1..3999 Hz", "tone");
  }
  Leg::Playback playback;
  playback.id = playback_id.empty() ? ids_.Next() : std::move(playback_id);
  playback.tone.emplace(kPcmRate, tone);
  return Play(leg_id, std::move(playback));
}

Status MediaNode::StopPlay(const std::string& leg_id) {
  std::lock_guard lock(mu_);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  return (*e)->worker->WithEngine([&](MediaEngine& eng) { return eng.StopPlay(leg_id); });
}

Result<MediaNode::RecordingStarted> MediaNode::RecordStart(const std::string& leg_id,
                                                           std::string recording_id, bool mixed) {
  std::lock_guard lock(mu_);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  if (recording_id.empty()) recording_id = ids_.Next();
  auto file = (*e)->worker->WithEngine(
      [&](MediaEngine& eng) { return eng.StartRecording(leg_id, recording_id, mixed); });
  if (!file.ok()) return file.status();
  return RecordingStarted{recording_id, *file};
}

Status MediaNode::RecordStop(const std::string& leg_id) {
  std::lock_guard lock(mu_);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  return (*e)->worker->WithEngine([&](MediaEngine& eng) { return eng.StopRecording(leg_id); });
}

Result<std::string> MediaNode::CreateConference(const std::string& tenant_id,
                                                std::string conference_id) {
  if (tenant_id.empty()) return Status::InvalidArgument("tenant_id is required", "tenant_id");
  std::lock_guard lock(mu_);
  if (conference_id.empty()) conference_id = ids_.Next();
  MediaWorker& worker = *workers_[std::hash<std::string>()(conference_id) % workers_.size()];
  SB_RETURN_IF_ERROR(
      worker.WithEngine([&](MediaEngine& e) { return e.CreateConference(conference_id); }));
  conferences_[conference_id] = &worker;
  return conference_id;
}

Status MediaNode::DestroyConference(const std::string& conference_id) {
  std::lock_guard lock(mu_);
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) return Status::NotFound("no conference " + conference_id);
  SB_RETURN_IF_ERROR(
      it->second->WithEngine([&](MediaEngine& e) { return e.DestroyConference(conference_id); }));
  conferences_.erase(it);
  return Status::Ok();
}

Result<size_t> MediaNode::AddToConference(const std::string& conference_id,
                                          const std::string& leg_id) {
  std::lock_guard lock(mu_);
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) return Status::NotFound("no conference " + conference_id);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  SB_RETURN_IF_ERROR(MoveLeg(leg_id, **e, *it->second));
  return it->second->WithEngine([&](MediaEngine& eng) -> Result<size_t> {
    SB_RETURN_IF_ERROR(eng.AddToConference(conference_id, leg_id));
    return eng.ConferenceSize(conference_id);
  });
}

Result<size_t> MediaNode::RemoveFromConference(const std::string& conference_id,
                                               const std::string& leg_id) {
  std::lock_guard lock(mu_);
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) return Status::NotFound("no conference " + conference_id);
  return it->second->WithEngine([&](MediaEngine& eng) -> Result<size_t> {
    SB_RETURN_IF_ERROR(eng.RemoveFromConference(conference_id, leg_id));
    return eng.ConferenceSize(conference_id);
  });
}

Status MediaNode::SetMuted(const std::string& conference_id, const std::string& leg_id, bool on) {
  std::lock_guard lock(mu_);
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) return Status::NotFound("no conference " + conference_id);
  return it->second->WithEngine(
      [&](MediaEngine& eng) { return eng.SetMuted(conference_id, leg_id, on); });
}

Status MediaNode::SetDeaf(const std::string& conference_id, const std::string& leg_id, bool on) {
  std::lock_guard lock(mu_);
  auto it = conferences_.find(conference_id);
  if (it == conferences_.end()) return Status::NotFound("no conference " + conference_id);
  return it->second->WithEngine(
      [&](MediaEngine& eng) { return eng.SetDeaf(conference_id, leg_id, on); });
}

Status MediaNode::SendDtmf(const std::string& leg_id, const std::string& digits,
                           uint32_t duration_ms, uint32_t gap_ms) {
  std::lock_guard lock(mu_);
  auto e = Find(leg_id);
  if (!e.ok()) return e.status();
  return (*e)->worker->WithEngine(
      [&](MediaEngine& eng) { return eng.SendDtmf(leg_id, digits, duration_ms, gap_ms); });
}

NodeLoadSnapshot MediaNode::Load() const {
  std::lock_guard lock(mu_);
  return {legs_.size(), ports_.capacity(), conferences_.size(), draining_.load()};
}

std::vector<std::thread::native_handle_type> MediaNode::WorkerThreads() const {
  std::vector<std::thread::native_handle_type> threads;
  for (const auto& w : workers_) threads.push_back(w->native_thread());
  return threads;
}

Result<uint16_t> MediaNode::LegPort(const std::string& leg_id) const {
  std::lock_guard lock(mu_);
  auto it = legs_.find(leg_id);
  if (it == legs_.end()) return Status::NotFound("no leg " + leg_id + " on this node");
  return it->second.rtp->port();
}

}  // namespace sb::media
