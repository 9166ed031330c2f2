#include "rpc/call_media_anchor.h"

namespace sb::signaling {
namespace media_v1 = switchboard::media::v1;
namespace {

// The named call-progress tones (call_ops::kTones) as the node synthesises them: the North
// American precise tones (ITU-T E.180 Supplement 2), at -13 dBm0 per component.
Result<media_v1::Tone> NamedTone(std::string_view name) {
  media_v1::Tone tone;
  auto set = [&tone](std::initializer_list<double> hz, uint32_t on_ms, uint32_t off_ms) {
    for (double f : hz) tone.add_frequencies_hz(f);
    tone.set_level_dbm0(-13);
    tone.set_on_ms(on_ms);
    tone.set_off_ms(off_ms);
  };
  if (name == "ringback") {
    set({440, 480}, 2000, 4000);
  } else if (name == "busy") {
    set({480, 620}, 500, 500);
  } else if (name == "congestion") {
    set({480, 620}, 250, 250);
  } else {
    return Status::InvalidArgument("unknown tone " + std::string(name), "tone");
  }
  return tone;
}

// The callee's `answer` to leg `b`, then `b` bridged with `bridge_with` (when not empty).
media_v1::UpdateLegRequest AnswerRequest(std::string_view b, std::string_view answer,
                                         std::string_view bridge_with) {
  media_v1::UpdateLegRequest request;
  request.set_leg_id(std::string(b));
  request.set_sdp_type(media_v1::SDP_TYPE_ANSWER);
  request.set_sdp(std::string(answer));
  request.set_bridge_with(std::string(bridge_with));
  return request;
}

b2bua::MediaAnchor::LegFinals FinalsOf(const Result<media_v1::DestroyLegsReply>& reply) {
  b2bua::MediaAnchor::LegFinals finals;
  if (!reply.ok()) return finals;
  for (const auto& leg : reply->legs()) {
    finals[leg.leg().leg_id()] = MediaStats{.jitter_ms = leg.jitter_ms(),
                                            .loss_fraction = leg.loss_fraction(),
                                            .packets_lost = leg.packets_lost(),
                                            .packets_received = leg.packets_received(),
                                            .mos = leg.mos()};
  }
  return finals;
}

}  // namespace

MediaClientAnchor::MediaClientAnchor(bus::Bus& bus, media_client::NodeTracker& nodes,
                                     bus::Duration timeout,
                                     std::unique_ptr<bus::AsyncRequests> requests,
                                     std::chrono::milliseconds rtp_timeout)
    : bus_(bus),
      nodes_(nodes),
      timeout_(timeout),
      rtp_timeout_(rtp_timeout),
      async_(requests != nullptr),
      requests_(std::move(requests)) {}

void MediaClientAnchor::StopAsync() {
  std::unique_ptr<bus::AsyncRequests> stopped;
  {
    std::lock_guard lock(requests_mu_);
    stopped = std::move(requests_);
  }
  stopped.reset();  // outside the lock: a callback finishing meanwhile may send again
}

media_client::MediaClient MediaClientAnchor::Client(std::string_view node_id) const {
  return media_client::MediaClient(bus_, std::string(node_id), timeout_);
}

Result<std::string> MediaClientAnchor::NodeOrPick(std::string_view node_id) const {
  if (!node_id.empty()) return std::string(node_id);
  auto picked = nodes_.PickLeastLoaded();
  if (!picked.ok()) return picked.status();
  return picked->node_id;
}

Status MediaClientAnchor::Abandoned(const std::string& node_id,
                                    const std::vector<std::string>& legs, Status failure) const {
  // UNAVAILABLE: the node did not answer in time, yet may have made the legs after all; nobody
  // would destroy them (an idle leg lives until its RTP timeout, if it has one).
  if (failure.code() == StatusCode::kUnavailable) (void)Client(node_id).AbandonLegs(legs);
  return failure;
}

media_v1::CreateLegRequest MediaClientAnchor::NewLeg(const TenantId& tenant,
                                                     std::string_view call_id,
                                                     std::string_view leg_id,
                                                     std::string_view offer) const {
  media_v1::CreateLegRequest request;
  request.set_tenant_id(tenant.str());
  request.set_call_id(std::string(call_id));
  request.set_leg_id(std::string(leg_id));
  if (!offer.empty()) {
    request.set_sdp_type(media_v1::SDP_TYPE_OFFER);
    request.set_sdp(std::string(offer));
  }
  request.mutable_options()->set_rtp_timeout_ms(static_cast<uint32_t>(rtp_timeout_.count()));
  return request;
}

Result<b2bua::MediaAnchor::Leg> MediaClientAnchor::CreateLeg(const TenantId& tenant,
                                                             std::string_view call_id,
                                                             std::string_view leg_id,
                                                             std::string_view node_id,
                                                             std::string_view offer) {
  auto node = NodeOrPick(node_id);
  if (!node.ok()) return node.status();
  auto reply = Client(*node).CreateLeg(NewLeg(tenant, call_id, leg_id, offer));
  if (!reply.ok()) return Abandoned(*node, {std::string(leg_id)}, reply.status());
  return Leg{.node_id = *node, .sdp = reply->sdp(), .codec = reply->codec()};
}

Result<b2bua::MediaAnchor::LegPair> MediaClientAnchor::CreateLegPair(const TenantId& tenant,
                                                                     std::string_view call_id,
                                                                     std::string_view a,
                                                                     std::string_view b,
                                                                     std::string_view offer) {
  auto node = NodeOrPick({});
  if (!node.ok()) return node.status();
  media_v1::CreateLegPairRequest request;
  *request.mutable_a() = NewLeg(tenant, call_id, a, offer);
  *request.mutable_b() = NewLeg(tenant, call_id, b, {});
  auto reply = Client(*node).CreateLegPair(request);
  if (!reply.ok()) return Abandoned(*node, {std::string(a), std::string(b)}, reply.status());
  return LegPair{.a = {.node_id = *node, .sdp = reply->a().sdp(), .codec = reply->a().codec()},
                 .b = {.node_id = *node, .sdp = reply->b().sdp(), .codec = reply->b().codec()}};
}

Status MediaClientAnchor::AnswerLeg(std::string_view node_id, std::string_view b,
                                    std::string_view answer, std::string_view bridge_with) {
  return Client(node_id).UpdateLeg(AnswerRequest(b, answer, bridge_with)).status();
}

void MediaClientAnchor::AnswerLegAsync(std::string_view node_id, std::string_view b,
                                       std::string_view answer, std::string_view bridge_with,
                                       std::function<void(Status)> done) {
  if (!async_) return done(AnswerLeg(node_id, b, answer, bridge_with));
  std::unique_lock lock(requests_mu_);
  if (!requests_) {
    lock.unlock();
    return done(Status::Unavailable("the media anchor is stopping"));
  }
  Client(node_id).UpdateLegAsync(
      *requests_, AnswerRequest(b, answer, bridge_with),
      [done = std::move(done)](Result<media_v1::LegReply> reply) { done(reply.status()); });
}

Status MediaClientAnchor::DestroyLegs(std::string_view node_id,
                                      const std::vector<std::string>& legs) {
  return Client(node_id).DestroyLegs(legs).status();
}

void MediaClientAnchor::ReleaseLegs(std::string_view node_id,
                                    const std::vector<std::string>& legs) {
  (void)Client(node_id).AbandonLegs(legs);
}

void MediaClientAnchor::ReleaseLegsReporting(std::string_view node_id,
                                             const std::vector<std::string>& legs,
                                             std::function<void(LegFinals)> done) {
  if (!async_) return done(FinalsOf(Client(node_id).DestroyLegs(legs)));
  std::unique_lock lock(requests_mu_);
  if (!requests_) {
    lock.unlock();
    ReleaseLegs(node_id, legs);
    return done({});
  }
  Client(node_id).DestroyLegsAsync(
      *requests_, legs, [done = std::move(done)](Result<media_v1::DestroyLegsReply> reply) {
        done(FinalsOf(reply));
      });
}

Result<b2bua::MediaAnchor::Leg> MediaClientAnchor::UpdateLeg(std::string_view node_id,
                                                             std::string_view leg_id, bool is_offer,
                                                             std::string_view sdp) {
  media_v1::UpdateLegRequest request;
  request.set_leg_id(std::string(leg_id));
  request.set_sdp_type(is_offer ? media_v1::SDP_TYPE_OFFER : media_v1::SDP_TYPE_ANSWER);
  request.set_sdp(std::string(sdp));
  auto reply = Client(node_id).UpdateLeg(request);
  if (!reply.ok()) return reply.status();
  return Leg{.node_id = std::string(node_id), .sdp = reply->sdp(), .codec = reply->codec()};
}

Result<bool> MediaClientAnchor::Bridge(std::string_view node_id, std::string_view a,
                                       std::string_view b) {
  auto reply = Client(node_id).Bridge(a, b);
  if (!reply.ok()) return reply.status();
  return reply->transcoding();
}

Status MediaClientAnchor::DestroyLeg(std::string_view node_id, std::string_view leg_id) {
  return Client(node_id).DestroyLeg(leg_id);
}

Result<std::string> MediaClientAnchor::Play(std::string_view node_id, std::string_view leg_id,
                                            const PlayParams& params) {
  media_v1::PlayRequest request;
  request.set_leg_id(std::string(leg_id));
  request.set_playback_id(params.playback_id);
  if (!params.tone.empty()) {
    auto tone = NamedTone(params.tone);
    if (!tone.ok()) return tone.status();
    *request.mutable_tone() = std::move(*tone);
  } else {
    request.set_wav_file(params.wav_file);
  }
  auto reply = Client(node_id).Play(request);
  if (!reply.ok()) return reply.status();
  return reply->playback_id();
}

Status MediaClientAnchor::StopPlay(std::string_view node_id, std::string_view leg_id) {
  return Client(node_id).StopPlay(leg_id);
}

Result<RecordingStarted> MediaClientAnchor::RecordStart(std::string_view node_id,
                                                        std::string_view leg_id,
                                                        const RecordParams& params) {
  media_v1::RecordStartRequest request;
  request.set_leg_id(std::string(leg_id));
  request.set_recording_id(params.recording_id);
  request.set_mixed(params.mixed);
  auto reply = Client(node_id).RecordStart(request);
  if (!reply.ok()) return reply.status();
  return RecordingStarted{.recording_id = reply->recording_id(), .file = reply->file()};
}

Status MediaClientAnchor::RecordStop(std::string_view node_id, std::string_view leg_id) {
  return Client(node_id).RecordStop(leg_id);
}

}  // namespace sb::signaling
