#include "switchboard/rtp/telephone_event.h"

#include <algorithm>

#include "byte_order.h"

namespace sb::rtp {
namespace {

constexpr char kDigits[] = "0123456789*#ABCD";
constexpr uint32_t kMaxSegment = 0xFFFF;

}  // namespace

Result<TelephoneEvent> ParseTelephoneEvent(std::span<const uint8_t> p) {
  if (p.size() < kTelephoneEventSize) return Status::InvalidArgument("4733: short");
  TelephoneEvent e;
  e.event = p[0];
  e.end = (p[1] & 0x80) != 0;
  e.volume = p[1] & 0x3F;  // the R bit (0x40) is reserved and ignored
  e.duration = internal::Get16(&p[2]);
  return e;
}

Result<size_t> BuildTelephoneEvent(const TelephoneEvent& e, std::span<uint8_t> out) {
  if (out.size() < kTelephoneEventSize) return Status::ResourceExhausted("4733: buffer");
  if (e.volume > 63) return Status::InvalidArgument("4733: volume", "volume");
  out[0] = e.event;
  out[1] = static_cast<uint8_t>((e.end ? 0x80 : 0) | e.volume);
  internal::Put16(&out[2], e.duration);
  return kTelephoneEventSize;
}

Result<uint8_t> DtmfEventCode(char digit) {
  const char upper = (digit >= 'a' && digit <= 'd') ? static_cast<char>(digit - 'a' + 'A') : digit;
  for (uint8_t i = 0; i < 16; ++i) {
    if (kDigits[i] == upper) return i;
  }
  return Status::InvalidArgument("not a DTMF digit", "digit");
}

char DtmfEventDigit(uint8_t event) { return event < 16 ? kDigits[event] : 0; }

Status TelephoneEventSender::Start(uint8_t event, uint8_t volume, uint32_t duration,
                                   uint32_t timestamp) {
  if (active_) return Status::FailedPrecondition("an event is still being sent");
  if (volume > 63) return Status::InvalidArgument("volume is 0..63", "volume");
  if (duration == 0) return Status::InvalidArgument("duration must be positive", "duration");
  if (options_.packet_interval == 0 || options_.packet_interval > kMaxSegment) {
    return Status::InvalidArgument("packet interval is 1..65535", "packet_interval");
  }
  active_ = true;
  event_ = event;
  volume_ = volume;
  segment_ts_ = timestamp;
  segment_len_ = std::min(duration, kMaxSegment);
  remaining_ = duration - segment_len_;
  sent_ = 0;
  first_ = true;
  end_sent_ = 0;
  return Status::Ok();
}

std::optional<TelephoneEventSender::Packet> TelephoneEventSender::Next() {
  if (!active_) return std::nullopt;
  Packet p;
  p.marker = first_;
  first_ = false;
  p.timestamp = segment_ts_;
  TelephoneEvent e{.event = event_, .end = false, .volume = volume_, .duration = 0};

  if (sent_ < segment_len_) {
    sent_ = std::min(sent_ + options_.packet_interval, segment_len_);
  }
  e.duration = static_cast<uint16_t>(sent_);
  const bool segment_done = sent_ == segment_len_;
  if (segment_done && remaining_ > 0) {
    // A long event: this segment's last packet, then a new segment at a later timestamp that
    // continues the same event without the marker bit (§2.5.1.3).
    segment_ts_ += segment_len_;
    segment_len_ = std::min(remaining_, kMaxSegment);
    remaining_ -= segment_len_;
    sent_ = 0;
  } else if (segment_done) {
    e.end = true;
    if (++end_sent_ >= std::max(1, options_.end_repeats)) active_ = false;
  }
  (void)BuildTelephoneEvent(e, p.payload);
  return p;
}

Result<std::optional<TelephoneEventReceiver::Event>> TelephoneEventReceiver::OnPacket(
    uint32_t timestamp, std::span<const uint8_t> payload, bool marker) {
  auto parsed = ParseTelephoneEvent(payload);
  if (!parsed.ok()) return parsed.status();
  const TelephoneEvent& e = *parsed;
  const auto since_current = static_cast<int32_t>(timestamp - timestamp_);

  Event out{
      .kind = Kind::kStart, .event = e.event, .timestamp = 0, .duration = 0, .volume = e.volume};
  // The current event's end, once: it lasted from its first segment to this packet's end.
  auto end_of_current = [&]() -> std::optional<Event> {
    if (!e.end) return std::nullopt;
    ended_ = true;
    out.kind = Kind::kEnd;
    out.timestamp = first_timestamp_;
    out.duration = (timestamp - first_timestamp_) + e.duration;
    return out;
  };
  if (in_event_ && since_current == 0) {
    // Another packet of the current segment: only its first end packet matters.
    return ended_ ? std::nullopt : end_of_current();
  }
  if (in_event_ && since_current < 0) return std::optional<Event>();  // late copy of the past
  if (in_event_ && !ended_ && !marker && e.event == event_ &&
      static_cast<uint32_t>(since_current) <= kMaxSegment) {
    // The next segment of a long event.
    timestamp_ = timestamp;
    return end_of_current();
  }
  in_event_ = true;
  ended_ = e.end;
  event_ = e.event;
  timestamp_ = first_timestamp_ = timestamp;
  out.timestamp = timestamp;
  if (e.end) {
    out.kind = Kind::kEnd;
    out.duration = e.duration;
  }
  return std::optional<Event>(out);
}

}  // namespace sb::rtp
