// Shared by the media tests: tone synthesis, frequency measurement and collecting sinks for the
// engine's two I/O edges.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "session/types.h"
#include "switchboard/codec/g711.h"
#include "switchboard/rtp/rtp_packet.h"

namespace sb::media::test {

// `count` samples of a sine at `freq` Hz, peak `amplitude`, starting at sample `start`.
inline std::vector<int16_t> Sine(double freq, int rate, size_t start, size_t count,
                                 double amplitude = 8000) {
  std::vector<int16_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = static_cast<int16_t>(
        amplitude * std::sin(2 * std::numbers::pi * freq * static_cast<double>(start + i) / rate));
  }
  return out;
}

// Frame `i` (20 ms, 160 samples) of a PCMU stream carrying a sine at `freq` Hz.
inline std::vector<uint8_t> PcmuFrame(double freq, size_t i) {
  auto pcm = Sine(freq, 8000, i * 160, 160);
  std::vector<uint8_t> out(160);
  codec::EncodeUlaw(pcm, out);
  return out;
}

// The PCMU audio in received datagrams (payload type 0), decoded; anything else is skipped.
inline std::vector<int16_t> HeardPcmu(const std::vector<std::vector<uint8_t>>& datagrams) {
  std::vector<int16_t> pcm;
  for (const auto& d : datagrams) {
    auto packet = rtp::ParseRtp(d);
    if (!packet.ok() || packet->header.payload_type != 0) continue;
    std::vector<int16_t> frame(packet->payload.size());
    codec::DecodeUlaw(packet->payload, frame);
    pcm.insert(pcm.end(), frame.begin(), frame.end());
  }
  return pcm;
}

// Power of `freq` in the samples (Goertzel), normalised by length: a full-scale-ish sine of
// amplitude A gives about A^2/4.
inline double ToneEnergy(std::span<const int16_t> pcm, double freq, int rate) {
  double coeff = 2 * std::cos(2 * std::numbers::pi * freq / rate);
  double s1 = 0, s2 = 0;
  for (int16_t x : pcm) {
    double s = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  double n = static_cast<double>(pcm.size());
  return power / (n * n);
}

// The strongest frequency in 10 Hz steps between lo and hi.
inline double DominantFrequency(std::span<const int16_t> pcm, int rate, double lo = 100,
                                double hi = 3800) {
  double best = 0, best_energy = -1;
  for (double f = lo; f <= hi; f += 10) {
    double e = ToneEnergy(pcm, f, rate);
    if (e > best_energy) {
      best_energy = e;
      best = f;
    }
  }
  return best;
}

struct SentPacket {
  int socket;
  Endpoint to;
  std::vector<uint8_t> bytes;
};

class CollectingSink final : public PacketSink {
 public:
  void Send(int socket, const Endpoint& to, std::span<const uint8_t> datagram) override {
    sent.push_back({socket, to, {datagram.begin(), datagram.end()}});
  }
  std::vector<SentPacket> sent;
};

struct DtmfSeen {
  std::string leg;
  char digit;
  DtmfSource source;
  uint32_t duration_ms;
};
struct PlaybackSeen {
  std::string leg, id;
  bool completed;
  uint32_t played_ms;
};
struct RecordingSeen {
  std::string leg, id, file;
  uint32_t duration_ms;
  bool mixed;
};
struct StatsSeen {
  std::string leg;
  LegStatsSnapshot stats;
  bool final;
};

class CollectingEvents final : public EventSink {
 public:
  void OnDtmf(const LegInfo& leg, char digit, DtmfSource source, uint32_t ms) override {
    dtmf.push_back({leg.leg_id, digit, source, ms});
  }
  void OnPlaybackFinished(const LegInfo& leg, const std::string& id, bool completed,
                          uint32_t played_ms) override {
    playbacks.push_back({leg.leg_id, id, completed, played_ms});
  }
  void OnRecordingFinished(const LegInfo& leg, const std::string& id, const std::string& file,
                           uint32_t duration_ms, bool mixed) override {
    recordings.push_back({leg.leg_id, id, file, duration_ms, mixed});
  }
  void OnLegStats(const LegInfo& leg, const LegStatsSnapshot& stats, bool final) override {
    stats_reports.push_back({leg.leg_id, stats, final});
  }
  void OnRtpTimeout(const LegInfo& leg, uint32_t silent_ms) override {
    timeouts.emplace_back(leg.leg_id, silent_ms);
  }
  std::vector<DtmfSeen> dtmf;
  std::vector<PlaybackSeen> playbacks;
  std::vector<RecordingSeen> recordings;
  std::vector<StatsSeen> stats_reports;
  std::vector<std::pair<std::string, uint32_t>> timeouts;
};

}  // namespace sb::media::test
