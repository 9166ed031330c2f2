// EventPublisher: the engine's EventSink on the bus. Each media event becomes its
// switchboard.media.v1 message with an EventMeta (UUIDv7 id, tenant, time, type, the call id as
// correlation id, "media/<node>" as source) and is published on sb.evt.media.<type>.<tenant>
// with core NATS: media events are about live calls and are worth nothing late, so they are not
// put through JetStream.
//
//   EventPublisher events(bus, clock, ids, "media-1");
//   MediaNode node(options, clock, events, metrics, ids);
//
// Thread-safe (called from every worker thread).
#pragma once

#include <string>

#include "session/types.h"
#include "switchboard/bus/bus.h"
#include "switchboard/bus/envelope.h"
#include "switchboard/core/metrics.h"
#include "switchboard/media/v1/events.pb.h"

namespace sb::media {

// A leg's statistics as its LegStatistics event carries them (no meta, no leg): the event's
// body, and each leg of destroy_legs' reply.
void FillLegStatistics(const LegStatsSnapshot& stats, bool final,
                       switchboard::media::v1::LegStatisticsEvent& out);

class EventPublisher final : public EventSink {
 public:
  EventPublisher(bus::Bus& bus, const core::Clock& clock, core::IdGenerator& ids,
                 std::string node_id, core::MetricsRegistry& metrics);

  void OnDtmf(const LegInfo& leg, char digit, DtmfSource source, uint32_t duration_ms) override;
  void OnPlaybackFinished(const LegInfo& leg, const std::string& playback_id, bool completed,
                          uint32_t played_ms) override;
  void OnRecordingFinished(const LegInfo& leg, const std::string& recording_id,
                           const std::string& file, uint32_t duration_ms, bool mixed) override;
  void OnLegStats(const LegInfo& leg, const LegStatsSnapshot& stats, bool final) override;
  void OnRtpTimeout(const LegInfo& leg, uint32_t silent_ms) override;

 private:
  template <typename Event>
  void Publish(const LegInfo& leg, std::string_view type, Event& event);

  bus::Bus& bus_;
  bus::EventFactory factory_;
  std::string node_id_;
  core::CounterMetric& failed_;
};

}  // namespace sb::media
