#include "switchboard/rtp/jitter_buffer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sb::rtp {

Result<JitterBuffer> JitterBuffer::Create(const JitterBufferConfig& c) {
  if (c.clock_rate == 0)
    return Status::InvalidArgument("clock rate must be positive", "clock_rate");
  if (c.frame_samples == 0)
    return Status::InvalidArgument("frame must be positive", "frame_samples");
  if (c.min_delay.count() < 0 || c.max_delay < c.min_delay) {
    return Status::InvalidArgument("need 0 <= min_delay <= max_delay", "max_delay");
  }
  if (c.capacity < 2 || c.capacity > 4096)
    return Status::InvalidArgument("capacity is 2..4096", "capacity");
  if (c.max_payload == 0 || c.max_payload > 65535) {
    return Status::InvalidArgument("max_payload is 1..65535", "max_payload");
  }
  if (!(c.jitter_factor >= 0))
    return Status::InvalidArgument("jitter_factor >= 0", "jitter_factor");
  return JitterBuffer(c);
}

JitterBuffer::JitterBuffer(const JitterBufferConfig& config)
    : config_(config), slots_(config.capacity), storage_(config.capacity * config.max_payload) {}

void JitterBuffer::Clear() {
  for (auto& s : slots_) s.used = false;
  count_ = 0;
  playing_ = false;
}

void JitterBuffer::Reset() {
  Clear();
  have_played_ = false;
  have_jump_ = false;
  have_transit_ = false;
  jitter_ = 0;
  ticks_since_adjust_ = 0;
  seq_unwrap_ = SequenceUnwrapper();
  ts_unwrap_ = TimestampUnwrapper();
}

int64_t JitterBuffer::TargetTs() const {
  const auto to_ts = [&](std::chrono::milliseconds d) {
    return static_cast<int64_t>(d.count()) * config_.clock_rate / 1000;
  };
  const auto frame = static_cast<int64_t>(config_.frame_samples);
  // Whole frames: the buffer can only hold whole packets back.
  int64_t target = static_cast<int64_t>(std::ceil(config_.jitter_factor * jitter_ / frame)) * frame;
  return std::clamp(target, to_ts(config_.min_delay),
                    std::max(to_ts(config_.max_delay), to_ts(config_.min_delay)));
}

int64_t JitterBuffer::BufferedTs() const {
  if (count_ == 0) return 0;
  return highest_ts_ + config_.frame_samples - next_ts_;
}

std::chrono::microseconds JitterBuffer::target_delay() const {
  return std::chrono::microseconds(TargetTs() * 1000000 / config_.clock_rate);
}

std::chrono::microseconds JitterBuffer::buffered() const {
  const int64_t ts = playing_ ? std::max<int64_t>(BufferedTs(), 0)
                              : static_cast<int64_t>(count_) * config_.frame_samples;
  return std::chrono::microseconds(ts * 1000000 / config_.clock_rate);
}

void JitterBuffer::UpdateJitter(int64_t ts, core::Clock::TimePoint arrival) {
  if (!have_transit_) epoch_ = arrival;
  const double arrival_ts =
      std::chrono::duration<double>(arrival - epoch_).count() * config_.clock_rate;
  const double transit = arrival_ts - static_cast<double>(ts);
  if (have_transit_) jitter_ += (std::abs(transit - last_transit_) - jitter_) / 16.0;
  have_transit_ = true;
  last_transit_ = transit;
}

JitterBuffer::PushResult JitterBuffer::Push(uint16_t sequence, uint32_t timestamp, bool marker,
                                            std::span<const uint8_t> payload,
                                            core::Clock::TimePoint arrival) {
  if (payload.size() > config_.max_payload) {
    ++stats_.too_large;
    return PushResult::kTooLarge;
  }
  const int64_t seq = seq_unwrap_.Unwrap(sequence);
  const int64_t ts = ts_unwrap_.Unwrap(timestamp);
  const auto cap = static_cast<int64_t>(slots_.size());
  // A packet more than the buffer's capacity away from the playout point, either way, is a
  // sender that restarted its sequence (or a stray). As in RFC 3550 §A.1, the jump is believed
  // only when the next packet follows it in sequence.
  const bool jumped = have_played_ && (seq >= next_seq_ + cap || seq < next_seq_ - cap);
  if (jumped && !(have_jump_ && seq == jump_seq_ + 1)) {
    have_jump_ = true;
    jump_seq_ = seq;
    ++stats_.late;
    return PushResult::kLate;
  }
  have_jump_ = false;
  const bool resync = jumped;
  if (resync) {
    // Start over; the sender's timestamps start over too, so the transit time is not
    // comparable with the last one. The jump's first packet was dropped above.
    Clear();
    have_played_ = false;
    have_transit_ = false;
    ++stats_.resyncs;
  }
  UpdateJitter(ts, arrival);
  if (!resync && have_played_ && (seq < next_seq_ || (playing_ && ts < next_ts_))) {
    ++stats_.late;
    return PushResult::kLate;
  }
  Slot& slot = SlotFor(seq);
  if (slot.used && slot.seq == seq) {
    ++stats_.duplicates;
    return PushResult::kDuplicate;
  }
  if (slot.used) {
    // Before playout starts, a slot can still hold a packet a whole ring older: the newer wins.
    --count_;
  }
  if (count_ == 0) {
    highest_ts_ = ts;
    if (!playing_) buffering_since_ = arrival;
  }
  slot = Slot{true, seq, ts, marker, payload.size()};
  std::copy(payload.begin(), payload.end(),
            storage_.begin() + static_cast<ptrdiff_t>((static_cast<size_t>(seq) % slots_.size()) *
                                                      config_.max_payload));
  highest_ts_ = std::max(highest_ts_, ts);
  ++count_;
  ++stats_.stored;
  return PushResult::kStored;
}

JitterBuffer::Frame JitterBuffer::Take(Slot& slot, std::span<uint8_t> out) {
  Frame f;
  f.kind = Kind::kPacket;
  f.size = std::min(slot.size, out.size());
  const auto* src =
      storage_.data() + (static_cast<size_t>(slot.seq) % slots_.size()) * config_.max_payload;
  std::copy(src, src + f.size, out.begin());
  f.sequence = static_cast<uint16_t>(slot.seq);
  f.timestamp = static_cast<uint32_t>(slot.ts);
  f.marker = slot.marker;
  slot.used = false;
  --count_;
  ++stats_.played;
  next_seq_ = slot.seq + 1;
  next_ts_ = slot.ts + config_.frame_samples;
  return f;
}

JitterBuffer::Frame JitterBuffer::Pop(core::Clock::TimePoint now, std::span<uint8_t> out) {
  const int64_t frame = config_.frame_samples;
  if (!playing_) {
    if (count_ == 0 || now - buffering_since_ < target_delay()) return Frame{};
    // Start from the oldest packet held.
    int64_t lowest = std::numeric_limits<int64_t>::max();
    for (const auto& s : slots_) {
      if (s.used) lowest = std::min(lowest, s.seq);
    }
    playing_ = true;
    have_played_ = true;
    next_seq_ = lowest;
    next_ts_ = SlotFor(lowest).ts;
  }

  Slot& slot = SlotFor(next_seq_);
  const bool present = slot.used && slot.seq == next_seq_;
  if (!present) {
    ++stats_.concealed;
    if (count_ == 0) {
      // Nothing left: conceal this tick, then re-buffer before playing again. The missing
      // packet is not declared lost: if the sender only paused, it comes next.
      ++stats_.underruns;
      playing_ = false;
      return Frame{Kind::kConceal};
    }
    ++next_seq_;
    next_ts_ += frame;
    return Frame{Kind::kConceal};
  }
  if (slot.ts > next_ts_ + frame / 2) {
    // Timestamps moved on without a sequence gap: the sender paused (silence suppression).
    next_ts_ += frame;
    return Frame{Kind::kSilence};
  }
  const int64_t target = TargetTs();
  const int64_t buffered = BufferedTs();
  // One adjustment per kAdjustInterval ticks at most: a burst after a stall or a brief
  // jitter spike should not make every tick a dropped or a repeated frame.
  const bool may_adjust = ++ticks_since_adjust_ >= kAdjustInterval;
  if (may_adjust && buffered + frame < target) {
    ++stats_.expanded;
    ticks_since_adjust_ = 0;
    return Frame{Kind::kConceal};
  }
  if (may_adjust && buffered > target + 2 * frame) {
    Slot& next = SlotFor(next_seq_ + 1);
    if (next.used && next.seq == next_seq_ + 1) {
      slot.used = false;
      --count_;
      ++stats_.accelerated;
      ticks_since_adjust_ = 0;
      ++next_seq_;
      return Take(next, out);
    }
  }
  return Take(slot, out);
}

}  // namespace sb::rtp
