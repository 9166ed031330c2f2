// MediaEngine: the legs of one media node (or of one event loop of it) and what joins them:
// bridges (relay when both legs use the same codec, transcode through sb::codec::Transcoder when
// they differ), N-party conferences (mix minus self), playback, recording and DTMF. Pure: packets
// come in through OnDatagram, go out through the PacketSink, time comes from the Clock, and the
// node calls Tick every 20 ms.
//
//   MediaEngine engine(clock, sink, events, metrics, {.node_id = "media-1", .recordings_dir = d});
//   SB_RETURN_IF_ERROR(engine.AddLeg(setup_a));
//   SB_RETURN_IF_ERROR(engine.AddLeg(setup_b));
//   auto transcoding = engine.Bridge("a", "b");
//   engine.OnDatagram(socket, from, datagram);   // on every packet
//   engine.Tick();                               // every 20 ms
//
// Not thread-safe: the node serialises calls (one engine per event loop).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "session/leg.h"
#include "session/types.h"
#include "switchboard/codec/transcoder.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/metrics.h"
#include "switchboard/core/status.h"

namespace sb::media {

struct EngineOptions {
  std::string node_id;
  std::string recordings_dir;  // recordings are written as <dir>/<recording_id>.wav
};

class MediaEngine {
 public:
  // All references are borrowed and must outlive the engine.
  MediaEngine(const core::Clock& clock, PacketSink& packets, EventSink& events,
              core::MetricsRegistry& metrics, EngineOptions options);
  ~MediaEngine();
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  // --- legs ---
  Status AddLeg(LegSetup setup);  // ALREADY_EXISTS for a leg id in use
  Status SetLegMedia(const std::string& leg_id, const LegMedia& media);
  // Ends playback and recording (with their events), leaves bridge and conference, and reports
  // the final statistics. The node closes the leg's sockets afterwards.
  Status RemoveLeg(const std::string& leg_id);
  bool HasLeg(const std::string& leg_id) const { return legs_.count(leg_id) != 0; }
  std::vector<std::string> LegIds() const;
  size_t leg_count() const { return legs_.size(); }
  size_t conference_count() const { return conferences_.size(); }
  Result<LegStatsSnapshot> LegStats(const std::string& leg_id) const;
  // Hands a leg over to another engine (another worker) with its playback, recording and
  // statistics. FAILED_PRECONDITION while it is bridged or in a conference.
  Result<std::unique_ptr<Leg>> ExtractLeg(const std::string& leg_id);
  void AdoptLeg(std::unique_ptr<Leg> leg);

  // --- bridges ---
  // Returns whether the bridge transcodes. FAILED_PRECONDITION when a leg is already bridged or
  // in a conference, or has no negotiated media yet.
  Result<bool> Bridge(const std::string& leg_a, const std::string& leg_b);
  Status Unbridge(const std::string& leg_id);

  // --- playback, recording, DTMF ---
  // Replaces a running playback (which finishes as stopped).
  Status Play(const std::string& leg_id, Leg::Playback playback);
  Status StopPlay(const std::string& leg_id);
  // Returns the file path. The id must be a token (letters, digits, '-', '_').
  Result<std::string> StartRecording(const std::string& leg_id, const std::string& recording_id,
                                     bool mixed);
  Status StopRecording(const std::string& leg_id);
  Status SendDtmf(const std::string& leg_id, std::string_view digits, uint32_t duration_ms,
                  uint32_t gap_ms);

  // --- conferences ---
  Status CreateConference(const std::string& conference_id);
  Status DestroyConference(const std::string& conference_id);
  Status AddToConference(const std::string& conference_id, const std::string& leg_id);
  Status RemoveFromConference(const std::string& conference_id, const std::string& leg_id);
  Status SetMuted(const std::string& conference_id, const std::string& leg_id, bool on);
  Status SetDeaf(const std::string& conference_id, const std::string& leg_id, bool on);
  Result<size_t> ConferenceSize(const std::string& conference_id) const;

  // --- I/O ---
  // A datagram from `from` on one of a leg's sockets (modified in place for SRTP).
  void OnDatagram(int socket, const Endpoint& from, std::span<uint8_t> datagram);
  // Every 20 ms: conference mixes, playback, DTMF sending, recording, RTCP and leg timers.
  void Tick();

 private:
  struct Conference;
  struct LegState {
    std::unique_ptr<Leg> leg;
    LegState* peer = nullptr;                    // bridged leg; both point at each other
    std::unique_ptr<codec::Transcoder> to_peer;  // set when the bridge transcodes
    Conference* conference = nullptr;
  };
  struct Member {
    LegState* state;
    bool muted = false;
    bool deaf = false;
  };
  struct Conference {
    std::string id;
    std::vector<Member> members;
    // Scratch for the mix, sized with the membership so that Tick does not allocate.
    std::vector<const int16_t*> inputs;
    std::vector<int16_t*> outputs;
    std::vector<PcmFrame> mixed;
  };

  Result<LegState*> Find(const std::string& leg_id);
  Result<Conference*> FindConference(const std::string& conference_id);
  Result<Member*> FindMember(const std::string& conference_id, const std::string& leg_id);
  bool NeedsPcm(const LegState& state) const;
  void FinishPlayback(LegState& state, bool completed);
  void FinishRecording(LegState& state);
  void Detach(LegState& state);  // leaves bridge and conference
  void MixConference(Conference& conference);

  const core::Clock& clock_;
  PacketSink& packets_;
  EventSink& events_;
  EngineOptions options_;
  std::unordered_map<std::string, std::unique_ptr<LegState>> legs_;
  struct SocketRef {
    LegState* state;
    bool rtcp;
  };
  std::unordered_map<int, SocketRef> sockets_;
  std::map<std::string, std::unique_ptr<Conference>> conferences_;

  std::array<core::CounterMetric*, kDropReasons> dropped_{};
  core::CounterMetric& received_;
  core::CounterMetric& relayed_;
  core::CounterMetric& transcoded_;
  core::CounterMetric& rtcp_received_;
  core::CounterMetric& errors_;
  core::GaugeMetric& legs_gauge_;
  core::GaugeMetric& conferences_gauge_;
};

}  // namespace sb::media
