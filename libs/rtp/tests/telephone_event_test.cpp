#include "switchboard/rtp/telephone_event.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

using namespace sb::rtp;

TEST_CASE("the RFC 4733 payload layout: event, E, volume, duration", "[unit]") {
  // Digit 9, end bit, volume 10 (-10 dBm0), duration 1280 (160 ms at 8 kHz).
  const std::array<uint8_t, 4> wire = {0x09, 0x8A, 0x05, 0x00};
  auto e = ParseTelephoneEvent(wire);
  REQUIRE(e.ok());
  CHECK(e->event == 9);
  CHECK(e->end);
  CHECK(e->volume == 10);
  CHECK(e->duration == 1280);
  std::array<uint8_t, 4> out{};
  REQUIRE(BuildTelephoneEvent(*e, out).ok());
  CHECK(out == wire);
  CHECK_FALSE(ParseTelephoneEvent(std::span(wire).first(3)).ok());
}

TEST_CASE("DTMF digits map to RFC 4733 event codes and back", "[unit]") {
  const std::string digits = "0123456789*#ABCD";
  for (size_t i = 0; i < digits.size(); ++i) {
    CHECK(*DtmfEventCode(digits[i]) == i);
    CHECK(DtmfEventDigit(static_cast<uint8_t>(i)) == digits[i]);
  }
  CHECK(*DtmfEventCode('b') == 13);
  CHECK_FALSE(DtmfEventCode('x').ok());
  CHECK(DtmfEventDigit(16) == 0);
}

TEST_CASE("a key press becomes marked start, growing updates and three end packets", "[unit]") {
  TelephoneEventSender sender({.clock_rate = 8000, .packet_interval = 160, .end_repeats = 3});
  REQUIRE(sender.Start(5, 10, 800, 48000).ok());      // 100 ms
  CHECK_FALSE(sender.Start(6, 10, 800, 48000).ok());  // busy
  std::vector<TelephoneEventSender::Packet> packets;
  while (auto p = sender.Next()) {
    packets.push_back(*p);
    REQUIRE(packets.size() < 100);
  }
  // 5 packets of growing duration (160..800), the last with E, then two more copies of it.
  REQUIRE(packets.size() == 7);
  for (size_t i = 0; i < packets.size(); ++i) {
    auto e = ParseTelephoneEvent(packets[i].payload);
    REQUIRE(e.ok());
    INFO("packet " << i);
    CHECK(packets[i].marker == (i == 0));
    CHECK(packets[i].timestamp == 48000);  // all packets carry the event's start
    CHECK(e->event == 5);
    CHECK(e->volume == 10);
    CHECK(e->duration == std::min<size_t>(160 * (i + 1), 800));
    CHECK(e->end == (i >= 4));
  }
  CHECK_FALSE(sender.busy());
}

TEST_CASE("an event longer than 0xFFFF units is split into segments (4733 2.5.1.3)", "[unit]") {
  TelephoneEventSender sender({.clock_rate = 8000, .packet_interval = 8000, .end_repeats = 3});
  REQUIRE(sender.Start(0, 0, 100000, 1000).ok());  // 12.5 s
  std::vector<TelephoneEventSender::Packet> packets;
  while (auto p = sender.Next()) packets.push_back(*p);
  auto last = ParseTelephoneEvent(packets.back().payload);
  REQUIRE(last.ok());
  CHECK(last->end);
  // The second segment starts 0xFFFF units after the first and carries the remainder.
  CHECK(packets.back().timestamp == 1000 + 0xFFFF);
  CHECK(last->duration == 100000 - 0xFFFF);
  CHECK(packets.front().marker);
  int markers = 0;
  for (auto& p : packets) markers += p.marker;
  CHECK(markers == 1);

  // The receiver sees one event with the whole duration.
  TelephoneEventReceiver receiver;
  std::vector<TelephoneEventReceiver::Event> events;
  for (auto& p : packets) {
    auto e = receiver.OnPacket(p.timestamp, p.payload);
    REQUIRE(e.ok());
    if (e->has_value()) events.push_back(**e);
  }
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == TelephoneEventReceiver::Kind::kStart);
  CHECK(events[1].kind == TelephoneEventReceiver::Kind::kEnd);
  CHECK(events[1].duration == 100000);
}

TEST_CASE("the receiver reports each event once despite repeats, losses and reordering", "[unit]") {
  TelephoneEventSender sender({});
  TelephoneEventReceiver receiver;
  std::vector<TelephoneEventReceiver::Event> events;
  auto feed = [&](const TelephoneEventSender::Packet& p) {
    auto e = receiver.OnPacket(p.timestamp, p.payload);
    REQUIRE(e.ok());
    if (e->has_value()) events.push_back(**e);
  };
  uint32_t ts = 0;
  for (char digit : std::string("1*9")) {
    REQUIRE(sender.Start(*DtmfEventCode(digit), 10, 640, ts).ok());
    std::vector<TelephoneEventSender::Packet> packets;
    while (auto p = sender.Next()) packets.push_back(*p);
    // Lose the first packet of '*', deliver the updates of '9' twice.
    for (size_t i = 0; i < packets.size(); ++i) {
      if (digit == '*' && i == 0) continue;
      feed(packets[i]);
      if (digit == '9') feed(packets[i]);
    }
    ts += 2000;
  }
  REQUIRE(events.size() == 6);
  const char expect[] = {'1', '1', '*', '*', '9', '9'};
  for (size_t i = 0; i < 6; ++i) {
    INFO("event " << i);
    CHECK(DtmfEventDigit(events[i].event) == expect[i]);
    CHECK(events[i].kind ==
          (i % 2 ? TelephoneEventReceiver::Kind::kEnd : TelephoneEventReceiver::Kind::kStart));
  }
  CHECK(events[1].duration == 640);

  // A stale copy of the first event after the third is ignored.
  auto stale = receiver.OnPacket(0, std::array<uint8_t, 4>{1, 0x8A, 0x02, 0x80});
  REQUIRE(stale.ok());
  CHECK_FALSE(stale->has_value());
}

TEST_CASE("an event seen only by its end packets is still reported", "[unit]") {
  TelephoneEventReceiver receiver;
  const std::array<uint8_t, 4> end = {11, 0x8A, 0x03, 0x20};  // '#', E, 800 units
  auto e = receiver.OnPacket(5000, end);
  REQUIRE(e.ok());
  REQUIRE(e->has_value());
  CHECK((*e)->kind == TelephoneEventReceiver::Kind::kEnd);
  CHECK((*e)->duration == 800);
  auto again = receiver.OnPacket(5000, end);
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
}

TEST_CASE("a new press of the same key is a new event even when the last end was lost", "[unit]") {
  TelephoneEventSender sender({});
  TelephoneEventReceiver receiver;
  int starts = 0, ends = 0;
  for (uint32_t ts : {8000u, 9600u}) {
    REQUIRE(sender.Start(*DtmfEventCode('5'), 10, 480, ts).ok());
    while (auto p = sender.Next()) {
      auto e = ParseTelephoneEvent(p->payload);
      REQUIRE(e.ok());
      if (ts == 8000 && e->end) continue;  // every end packet of the first press is lost
      auto got = receiver.OnPacket(p->timestamp, p->payload, p->marker);
      REQUIRE(got.ok());
      if (got->has_value()) {
        ((*got)->kind == TelephoneEventReceiver::Kind::kStart ? starts : ends) += 1;
      }
    }
  }
  CHECK(starts == 2);
  CHECK(ends == 1);
}
