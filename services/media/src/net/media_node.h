// MediaNode: the media node's domain API, in plain C++ types: it owns the port range, the
// sockets and one MediaWorker (event loop + engine) per core, and turns commands into engine
// calls. rpc/ maps NATS commands onto it; main.cpp builds it.
//
//   MediaNode node(options, clock, events, metrics, ids);
//   SB_RETURN_IF_ERROR(node.Start());
//   auto leg = node.CreateLeg({.tenant_id = t, .call_id = c, .kind = SdpKind::kOffer, .sdp =
//   offer}); if (leg.ok()) Reply(leg->sdp);            // the node's answer: its address and port
//   node.Bridge(leg_a, leg_b);
//
// Placement: the legs of one call go to one worker (hash of the call id); a leg bridged to a
// leg of another worker, or added to a conference that lives on another worker, moves there
// with its sockets, so that everything a mix or a bridge touches is on one thread.
// Thread-safe: commands are serialised by the node's lock, then take the worker's.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/port_allocator.h"
#include "net/udp_socket.h"
#include "net/worker.h"
#include "session/sdp_negotiator.h"
#include "switchboard/codec/tone_generator.h"
#include "switchboard/core/ids.h"

namespace sb::media {

struct NodeOptions {
  std::string node_id = "media-1";
  std::string bind_address = "127.0.0.1";
  std::string advertised_address = "127.0.0.1";
  uint16_t port_min = 30000;
  uint16_t port_max = 39999;
  std::string recordings_dir = "/var/lib/switchboard/recordings";
  int workers = 1;
};

enum class SdpKind { kNone, kOffer, kAnswer };

// Members carry {} so that designated initialisers may name only what they set.
struct CreateLegParams {
  std::string tenant_id{};
  std::string call_id{};
  std::string leg_id{};  // empty: the node picks one
  SdpKind kind = SdpKind::kNone;
  std::string sdp{};
  LegOptions options{};
  bool srtp = false;  // offer RTP/SAVP when the node makes the offer
};

struct LegDescription {
  std::string leg_id;
  std::string sdp;
  std::string codec;  // empty until negotiated
};

struct LegPair {
  LegDescription a, b;
};

// A failure of one leg of a pair, said of that leg: "leg b: ..." with the field under the leg's
// name ("b.sdp_type"), so that the caller knows which of its two requests to fix.
Status OfLeg(std::string_view which, const Status& status);

struct NodeLoadSnapshot {
  size_t legs = 0;
  size_t capacity = 0;
  size_t conferences = 0;
  bool draining = false;
};

class MediaNode {
 public:
  // References are borrowed and must outlive the node.
  MediaNode(NodeOptions options, const core::Clock& clock, EventSink& events,
            core::MetricsRegistry& metrics, core::IdGenerator& ids);
  ~MediaNode();

  Status Start();
  // Stops the workers; legs still alive are destroyed first (with their final events).
  void Stop();

  Result<LegDescription> CreateLeg(const CreateLegParams& params);
  Result<LegDescription> UpdateLeg(const std::string& leg_id, SdpKind kind, const std::string& sdp);
  Status DestroyLeg(const std::string& leg_id);
  // A two-party call's legs, each as CreateLeg makes it; all or nothing: when `b` fails, `a` is
  // destroyed before the error (said of its leg by OfLeg) comes back.
  Result<LegPair> CreateLegPair(const CreateLegParams& a, const CreateLegParams& b);
  // Every one of the legs, even after one is unknown or fails: the first failure. With `finals`,
  // each destroyed leg's final statistics (those of its final LegStatistics event), in order.
  struct DestroyedLeg {
    std::string leg_id;
    LegStatsSnapshot stats;
  };
  Status DestroyLegs(const std::vector<std::string>& leg_ids,
                     std::vector<DestroyedLeg>* finals = nullptr);

  Result<bool> Bridge(const std::string& leg_a, const std::string& leg_b);
  Status Unbridge(const std::string& leg_id);

  // Returns the playback id (`playback_id`, or a new one when empty).
  Result<std::string> PlayFile(const std::string& leg_id, std::string playback_id,
                               const std::string& path);
  Result<std::string> PlayTone(const std::string& leg_id, std::string playback_id,
                               const codec::ToneSpec& tone);
  Status StopPlay(const std::string& leg_id);

  struct RecordingStarted {
    std::string recording_id;
    std::string file;
  };
  Result<RecordingStarted> RecordStart(const std::string& leg_id, std::string recording_id,
                                       bool mixed);
  Status RecordStop(const std::string& leg_id);

  Result<std::string> CreateConference(const std::string& tenant_id, std::string conference_id);
  Status DestroyConference(const std::string& conference_id);
  Result<size_t> AddToConference(const std::string& conference_id, const std::string& leg_id);
  Result<size_t> RemoveFromConference(const std::string& conference_id, const std::string& leg_id);
  Status SetMuted(const std::string& conference_id, const std::string& leg_id, bool on);
  Status SetDeaf(const std::string& conference_id, const std::string& leg_id, bool on);

  Status SendDtmf(const std::string& leg_id, const std::string& digits, uint32_t duration_ms,
                  uint32_t gap_ms);

  // Draining: no new legs (UNAVAILABLE), everything else goes on.
  void SetDraining() { draining_ = true; }
  NodeLoadSnapshot Load() const;
  const NodeOptions& options() const { return options_; }
  // The workers' loop threads (benchmarks account their CPU time).
  std::vector<std::thread::native_handle_type> WorkerThreads() const;
  // The local RTP port of a leg (tests, diagnostics).
  Result<uint16_t> LegPort(const std::string& leg_id) const;

 private:
  struct LegEntry {
    MediaWorker* worker;
    std::unique_ptr<UdpSocket> rtp;
    std::unique_ptr<UdpSocket> rtcp;
    std::string srtp_key;  // ours, when the node offered SRTP
    uint32_t sdp_version = 1;
  };
  Result<LegEntry*> Find(const std::string& leg_id);
  // Moves a free leg to `target` (both workers locked in index order).
  Status MoveLeg(const std::string& leg_id, LegEntry& entry, MediaWorker& target);
  // `final` (may be null) gets the leg's statistics as it goes.
  Status DestroyLegLocked(const std::string& leg_id, LegStatsSnapshot* final = nullptr);
  Result<std::string> Play(const std::string& leg_id, Leg::Playback playback);
  std::string NewKey();

  NodeOptions options_;
  const core::Clock& clock_;
  core::IdGenerator& ids_;
  PortAllocator ports_;
  SdpNegotiator negotiator_;
  std::vector<std::unique_ptr<MediaWorker>> workers_;
  mutable std::mutex mu_;
  std::map<std::string, LegEntry> legs_;
  std::map<std::string, MediaWorker*> conferences_;
  std::atomic<bool> draining_{false};
  bool started_ = false;
};

}  // namespace sb::media
