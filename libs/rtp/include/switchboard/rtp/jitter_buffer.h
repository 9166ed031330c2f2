// JitterBuffer: turns packets that arrive early, late, out of order or not at all into one
// frame per playout tick, with a delay that follows the measured jitter.
//
//   sb::rtp::JitterBuffer jb({.clock_rate = 8000, .frame_samples = 160});
//   jb.Push(h.sequence, h.timestamp, h.marker, payload, clock.Now());     // on every packet
//   // every 20 ms, from the media loop's timer:
//   auto frame = jb.Pop(clock.Now(), buffer);
//   switch (frame.kind) {
//     case Kind::kPacket:  decoder->Decode(std::span(buffer).first(frame.size), pcm); break;
//     case Kind::kConceal: decoder->Conceal(pcm); break;     // the packet-loss concealment hook
//     case Kind::kSilence: Fill(pcm, 0); break;              // nothing to play yet, or DTX
//   }
//
// Playout follows RTP timestamps: one Pop consumes frame_samples timestamp units, so packets
// must carry one frame each (the SDP ptime). The buffer waits target_delay() after the first
// packet before it starts, then:
//  - reorders by extended sequence number (wrap-around safe) and drops duplicates;
//  - drops packets that arrive after their playout time (late) and counts them;
//  - reports a missing packet as kConceal, and a timestamp jump without missing sequence
//    numbers (the sender stopped sending in silence) as kSilence;
//  - adapts: target = clamp(jitter_factor * J, min_delay, max_delay), J being the RFC 3550 §A.8
//    interarrival jitter. When more than two frames above target are buffered it drops a frame;
//    when less than a frame below, it repeats a concealment tick to let the buffer fill;
//    at most one such adjustment every 5 ticks;
//  - after an underrun (nothing buffered) it stops and re-buffers for target_delay() again;
//  - a sequence jump of more than `capacity` packets, forwards or backwards, confirmed by the
//    next packet in sequence, starts over (the sender restarted); an unconfirmed one is dropped.
// Storage is allocated once at construction; Push and Pop never allocate. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/rtp/receive_stats.h"

namespace sb::rtp {

struct JitterBufferConfig {
  uint32_t clock_rate = 8000;
  uint32_t frame_samples = 160;  // timestamp units per packet and per Pop
  std::chrono::milliseconds min_delay{20};
  std::chrono::milliseconds max_delay{200};
  double jitter_factor = 3.0;
  size_t capacity = 64;  // packets held at most
  size_t max_payload = 1500;
};

class JitterBuffer {
 public:
  enum class PushResult { kStored, kLate, kDuplicate, kTooLarge };
  enum class Kind { kPacket, kConceal, kSilence };

  struct Frame {
    Kind kind = Kind::kSilence;
    size_t size = 0;  // bytes written to the caller's buffer (kPacket)
    uint16_t sequence = 0;
    uint32_t timestamp = 0;
    bool marker = false;
  };

  struct Stats {
    uint64_t stored = 0;
    uint64_t played = 0;
    uint64_t concealed = 0;  // ticks where a packet was missing (loss or late)
    uint64_t late = 0;       // packets that arrived after their playout time
    uint64_t duplicates = 0;
    uint64_t too_large = 0;
    uint64_t underruns = 0;    // the buffer ran dry and re-buffered
    uint64_t expanded = 0;     // ticks held back to grow the delay
    uint64_t accelerated = 0;  // frames dropped to shrink the delay
    uint64_t resyncs = 0;      // sequence jumps that restarted the buffer
  };

  static Result<JitterBuffer> Create(const JitterBufferConfig& config);

  PushResult Push(uint16_t sequence, uint32_t timestamp, bool marker,
                  std::span<const uint8_t> payload, core::Clock::TimePoint arrival);
  // The next frame; a packet's payload goes to out (config.max_payload bytes suffice).
  Frame Pop(core::Clock::TimePoint now, std::span<uint8_t> out);
  // Forgets every packet and the playout position, as if just created (statistics are kept):
  // for a caller that stopped playing out for a while and would otherwise resume from stale
  // packets. Does not allocate.
  void Reset();

  const Stats& stats() const { return stats_; }
  std::chrono::microseconds target_delay() const;
  // What is buffered ahead of the playout point, in time.
  std::chrono::microseconds buffered() const;
  size_t size() const { return count_; }
  double jitter_ms() const { return jitter_ / config_.clock_rate * 1000.0; }

 private:
  struct Slot {
    bool used = false;
    int64_t seq = 0;
    int64_t ts = 0;
    bool marker = false;
    size_t size = 0;
  };

  explicit JitterBuffer(const JitterBufferConfig& config);
  Slot& SlotFor(int64_t seq) { return slots_[static_cast<size_t>(seq) % slots_.size()]; }
  void Clear();
  int64_t TargetTs() const;
  int64_t BufferedTs() const;
  Frame Take(Slot& slot, std::span<uint8_t> out);
  void UpdateJitter(int64_t ts, core::Clock::TimePoint arrival);

  JitterBufferConfig config_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> storage_;
  SequenceUnwrapper seq_unwrap_;
  TimestampUnwrapper ts_unwrap_;

  size_t count_ = 0;
  int64_t highest_ts_ = 0;
  bool playing_ = false;
  bool have_played_ = false;
  int64_t next_seq_ = 0;
  int64_t next_ts_ = 0;
  core::Clock::TimePoint buffering_since_{};
  static constexpr int kAdjustInterval = 5;
  int ticks_since_adjust_ = 0;
  bool have_jump_ = false;
  int64_t jump_seq_ = 0;

  bool have_transit_ = false;
  core::Clock::TimePoint epoch_{};
  double last_transit_ = 0;
  double jitter_ = 0;  // timestamp units

  Stats stats_;
};

}  // namespace sb::rtp
