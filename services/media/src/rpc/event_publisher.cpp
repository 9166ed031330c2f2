#include "rpc/event_publisher.h"

#include "rpc/operations.h"
#include "switchboard/bus/typed.h"
#include "switchboard/media/v1/events.pb.h"

namespace sb::media {
namespace v1 = switchboard::media::v1;

EventPublisher::EventPublisher(bus::Bus& bus, const core::Clock& clock, core::IdGenerator& ids,
                               std::string node_id, core::MetricsRegistry& metrics)
    : bus_(bus),
      factory_(clock, ids, "media/" + node_id),
      node_id_(std::move(node_id)),
      failed_(metrics.Counter("sb_media_events_failed_total",
                              "media events that could not be published")) {}

template <typename Event>
void EventPublisher::Publish(const LegInfo& leg, std::string_view type, Event& event) {
  auto meta = factory_.NewMeta(TenantId(leg.tenant_id), "media", type, leg.call_id);
  if (!meta.ok()) {
    failed_.Inc();
    return;
  }
  *event.mutable_meta() = *meta;
  v1::LegRef* ref = event.mutable_leg();
  ref->set_node_id(node_id_);
  ref->set_leg_id(leg.leg_id);
  ref->set_call_id(leg.call_id);
  auto subject = bus::EventSubjectFor(*meta);
  if (!subject.ok() || !bus::PublishProto(bus_, *subject, event).ok()) failed_.Inc();
}

void EventPublisher::OnDtmf(const LegInfo& leg, char digit, DtmfSource source,
                            uint32_t duration_ms) {
  v1::DtmfEvent e;
  e.set_digit(std::string(1, digit));
  e.set_source(source == DtmfSource::kRfc4733 ? v1::DTMF_SOURCE_RFC4733 : v1::DTMF_SOURCE_INBAND);
  e.set_duration_ms(duration_ms);
  Publish(leg, "dtmf", e);
}

void EventPublisher::OnPlaybackFinished(const LegInfo& leg, const std::string& playback_id,
                                        bool completed, uint32_t played_ms) {
  v1::PlaybackFinishedEvent e;
  e.set_playback_id(playback_id);
  e.set_reason(completed ? v1::PLAYBACK_END_COMPLETED : v1::PLAYBACK_END_STOPPED);
  e.set_played_ms(played_ms);
  Publish(leg, "playback_finished", e);
}

void EventPublisher::OnRecordingFinished(const LegInfo& leg, const std::string& recording_id,
                                         const std::string& file, uint32_t duration_ms,
                                         bool mixed) {
  v1::RecordingFinishedEvent e;
  e.set_recording_id(recording_id);
  e.set_file(file);
  e.set_duration_ms(duration_ms);
  e.set_mixed(mixed);
  Publish(leg, "recording_finished", e);
}

void FillLegStatistics(const LegStatsSnapshot& s, bool final, v1::LegStatisticsEvent& e) {
  e.set_final(final);
  e.set_codec(s.codec);
  e.set_packets_received(s.packets_received);
  e.set_packets_lost(static_cast<uint64_t>(s.packets_lost));
  e.set_loss_fraction(s.loss_fraction);
  e.set_jitter_ms(s.jitter_ms);
  e.set_mos(s.mos);
  e.set_packets_sent(s.packets_sent);
  e.set_packets_dropped(s.packets_dropped);
}

void EventPublisher::OnLegStats(const LegInfo& leg, const LegStatsSnapshot& s, bool final) {
  v1::LegStatisticsEvent e;
  FillLegStatistics(s, final, e);
  Publish(leg, "leg_stats", e);
}

void EventPublisher::OnRtpTimeout(const LegInfo& leg, uint32_t silent_ms) {
  v1::RtpTimeoutEvent e;
  e.set_silent_ms(silent_ms);
  Publish(leg, ops::kRtpTimeoutEventType, e);
}

}  // namespace sb::media
