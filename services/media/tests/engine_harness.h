// An engine with collecting sinks and a fake clock, and helpers to feed it RTP as an endpoint
// would: the fixture of the engine unit tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "session/engine.h"
#include "switchboard/codec/g711.h"
#include "switchboard/core/clock.h"
#include "switchboard/core/metrics.h"
#include "switchboard/rtp/rtp_packet.h"
#include "switchboard/rtp/telephone_event.h"
#include "test_util.h"

namespace sb::media::test {

inline constexpr uint32_t kLoopback = 0x7f000001;

struct Endpoint1 {
  int rtp_socket;
  Endpoint remote;
  uint32_t ssrc;
  uint16_t seq = 100;
  uint32_t ts = 5000;
};

class EngineHarness {
 public:
  EngineHarness()
      : dir_(std::filesystem::temp_directory_path() /
             ("media_engine_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(reinterpret_cast<uintptr_t>(this)))),
        engine(clock, sink, events, metrics, {.node_id = "media-t", .recordings_dir = dir_}) {
    std::filesystem::create_directories(dir_);
  }
  ~EngineHarness() { std::filesystem::remove_all(dir_); }

  // The description of leg `index`'s endpoint on 127.0.0.1, ports 5000 + 2 * index and next.
  static LegMedia MediaOf(int index, codec::CodecType codec, int pt, int te_pt = -1) {
    LegMedia media;
    media.remote_rtp = {kLoopback, static_cast<uint16_t>(5000 + 2 * index)};
    media.remote_rtcp = {kLoopback, static_cast<uint16_t>(5001 + 2 * index)};
    media.codec = codec;
    media.payload_type = pt;
    media.telephone_event_pt = te_pt;
    return media;
  }

  // A leg whose endpoint is MediaOf(index, ...); sockets 10*index and 10*index+1.
  void AddLeg(const std::string& id, int index, codec::CodecType codec, int pt, int te_pt = -1,
              LegOptions options = {}, std::optional<SrtpKeys> srtp = {}) {
    LegMedia media = MediaOf(index, codec, pt, te_pt);
    media.srtp = std::move(srtp);
    LegSetup setup{.info = {"tenant-1", "call-1", id},
                   .rtp_socket = 10 * index,
                   .rtcp_socket = 10 * index + 1,
                   .options = options,
                   .media = media,
                   .ssrc = 0x1000u + static_cast<uint32_t>(index),
                   .cname = "media-t"};
    REQUIRE(engine.AddLeg(std::move(setup)).ok());
    peers[id] = {10 * index, media.remote_rtp, 0xa0000000u + static_cast<uint32_t>(index)};
  }

  // Sends one RTP packet as leg `id`'s endpoint would (from its SDP address).
  void SendRtp(const std::string& id, int pt, std::span<const uint8_t> payload, uint32_t ts_step,
               bool marker = false) {
    Endpoint1& p = peers.at(id);
    std::vector<uint8_t> pkt(rtp::kRtpFixedHeaderSize + payload.size());
    REQUIRE(rtp::BuildRtp({.marker = marker,
                           .payload_type = static_cast<uint8_t>(pt),
                           .sequence = p.seq++,
                           .timestamp = p.ts,
                           .ssrc = p.ssrc},
                          payload, pkt)
                .ok());
    p.ts += ts_step;
    engine.OnDatagram(p.rtp_socket, p.remote, pkt);
  }

  // One 20 ms frame of PCMU carrying `pcm` (160 samples).
  void SendPcmu(const std::string& id, std::span<const int16_t> pcm) {
    std::array<uint8_t, 160> payload;
    codec::EncodeUlaw(pcm, payload);
    SendRtp(id, 0, payload, 160);
  }

  // What was sent to leg `id`'s endpoint (by its RTP socket), from packet `from` on.
  std::vector<std::vector<uint8_t>> SentTo(const std::string& id, size_t from = 0) const {
    std::vector<std::vector<uint8_t>> out;
    const Endpoint1& p = peers.at(id);
    for (size_t i = from; i < sink.sent.size(); ++i) {
      if (sink.sent[i].socket == p.rtp_socket) out.push_back(sink.sent[i].bytes);
    }
    return out;
  }

  // Decoded PCMU audio sent to leg `id` (RTP packets of payload type 0 only).
  std::vector<int16_t> HeardPcmu(const std::string& id, size_t from = 0) const {
    return test::HeardPcmu(SentTo(id, from));
  }

  double Dropped(const char* reason) {
    return metrics.Counter("sb_media_packets_dropped_total", "", {{"reason", reason}}).value();
  }

  void Tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      clock.Advance(std::chrono::milliseconds(20));
      engine.Tick();
    }
  }

  std::string dir() const { return dir_.string(); }

  std::filesystem::path dir_;
  core::FakeClock clock;
  CollectingSink sink;
  CollectingEvents events;
  core::MetricsRegistry metrics;
  MediaEngine engine;
  std::map<std::string, Endpoint1> peers;
};

}  // namespace sb::media::test
