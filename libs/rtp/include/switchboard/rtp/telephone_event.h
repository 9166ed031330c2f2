// RFC 4733 telephone-events (DTMF digits and other named events carried in RTP, not in the
// audio): the 4-byte payload of §2.3, a sender that turns one key press into the packet sequence
// of §2.5.1 and a receiver that turns the packets back into one start and one end per event.
//
//   sb::rtp::TelephoneEventSender sender({.clock_rate = 8000});
//   sender.Start(sb::rtp::DtmfEventCode('5').value(), /*volume=*/10, /*duration=*/800, ts);
//   while (auto p = sender.Next()) Send(p->marker, p->timestamp, p->payload);  // every 20 ms
//
//   sb::rtp::TelephoneEventReceiver receiver;
//   auto e = receiver.OnPacket(h.timestamp, payload, h.marker);
//   if (e.ok() && e->has_value() && (*e)->kind == Kind::kEnd) Report((*e)->event, (*e)->duration);
//
// The sender marks the first packet, grows the duration by one packet interval each packet,
// splits events longer than 0xFFFF timestamp units into segments (§2.5.1.3), and sends the
// final (E bit) packet three times (§2.5.1.4) so that one loss does not lose the end. The caller
// paces Next() at the packet interval; the sender keeps no clock.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "switchboard/core/status.h"

namespace sb::rtp {

struct TelephoneEvent {
  uint8_t event = 0;      // 0-9 digits, 10 '*', 11 '#', 12-15 A-D, others per RFC 4734
  bool end = false;       // E bit
  uint8_t volume = 0;     // 0..63, -dBm0
  uint16_t duration = 0;  // timestamp units since the event's timestamp
};

inline constexpr size_t kTelephoneEventSize = 4;

Result<TelephoneEvent> ParseTelephoneEvent(std::span<const uint8_t> payload);
Result<size_t> BuildTelephoneEvent(const TelephoneEvent& event, std::span<uint8_t> out);

// '0'..'9', '*', '#', 'A'..'D' <-> event codes 0..15 (RFC 4733 §3.2).
Result<uint8_t> DtmfEventCode(char digit);
char DtmfEventDigit(uint8_t event);  // 0 when not a DTMF event

class TelephoneEventSender {
 public:
  struct Options {
    uint32_t clock_rate = 8000;
    uint32_t packet_interval = 160;  // timestamp units between packets (20 ms at 8 kHz)
    int end_repeats = 3;             // copies of the final packet
  };
  struct Packet {
    bool marker = false;
    uint32_t timestamp = 0;
    std::array<uint8_t, kTelephoneEventSize> payload{};
  };

  explicit TelephoneEventSender(const Options& options) : options_(options) {}

  // Begins an event lasting `duration` timestamp units, starting at `timestamp`. Refused while
  // another event is still being sent.
  Status Start(uint8_t event, uint8_t volume, uint32_t duration, uint32_t timestamp);
  // The next packet to send, or nullopt when the event (with its repeats) is done.
  std::optional<Packet> Next();
  bool busy() const { return active_; }

 private:
  Options options_;
  bool active_ = false;
  uint8_t event_ = 0;
  uint8_t volume_ = 0;
  uint32_t remaining_ = 0;    // timestamp units still to cover after the current segment
  uint32_t segment_ts_ = 0;   // RTP timestamp of the current segment
  uint32_t segment_len_ = 0;  // duration of the current segment when complete
  uint32_t sent_ = 0;         // duration already reported in the current segment
  bool first_ = true;
  int end_sent_ = 0;
};

class TelephoneEventReceiver {
 public:
  enum class Kind { kStart, kEnd };
  struct Event {
    Kind kind = Kind::kStart;
    uint8_t event = 0;
    uint32_t timestamp = 0;  // RTP timestamp of the event
    uint32_t duration = 0;   // for kEnd: total duration in timestamp units (all segments)
    uint8_t volume = 0;
  };

  // Feeds one packet's timestamp and payload; returns an event at most once per start and once
  // per end, however many copies arrive. An event whose only surviving packets are its final
  // ones is reported by its end alone. Packets older than the current event are ignored.
  // `marker` is the RTP marker bit: set on an event's first packet (§2.5.1.2), it tells a new
  // press of the same key from the next segment of a long event whose end was lost.
  Result<std::optional<Event>> OnPacket(uint32_t timestamp, std::span<const uint8_t> payload,
                                        bool marker = false);

 private:
  bool in_event_ = false;
  bool ended_ = false;
  uint8_t event_ = 0;
  uint32_t timestamp_ = 0;  // of the current segment
  uint32_t first_timestamp_ = 0;
};

}  // namespace sb::rtp
