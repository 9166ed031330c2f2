#include "switchboard/rtp/jitter_buffer.h"

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sb::core::FakeClock;
using sb::rtp::JitterBuffer;
using Kind = JitterBuffer::Kind;

namespace {

JitterBuffer Make(std::chrono::milliseconds min = 40ms, std::chrono::milliseconds max = 200ms) {
  auto jb = JitterBuffer::Create(
      {.clock_rate = 8000, .frame_samples = 160, .min_delay = min, .max_delay = max});
  REQUIRE(jb.ok());
  return std::move(*jb);
}

std::array<uint8_t, 1> Payload(uint16_t seq) { return {static_cast<uint8_t>(seq)}; }

// Pops one frame and renders it: the payload's sequence byte, 'C' (conceal) or 'S' (silence).
std::string PopOne(JitterBuffer& jb, FakeClock& clock) {
  std::array<uint8_t, 1500> out;
  auto f = jb.Pop(clock.Now(), out);
  if (f.kind == Kind::kPacket) return std::to_string(out[0]);
  return f.kind == Kind::kConceal ? "C" : "S";
}

struct Arrival {
  int tick;
  uint16_t seq;
  uint32_t ts;
};

// Runs the media loop for `ticks` 20 ms ticks: each tick delivers that tick's arrivals, then
// plays one frame. Returns what was played, space-separated.
std::string Simulate(JitterBuffer& jb, FakeClock& clock, const std::vector<Arrival>& arrivals,
                     int ticks) {
  std::string played;
  for (int tick = 0; tick < ticks; ++tick) {
    for (const auto& a : arrivals) {
      if (a.tick == tick) jb.Push(a.seq, a.ts, false, Payload(a.seq), clock.Now());
    }
    played += PopOne(jb, clock) + " ";
    clock.Advance(20ms);
  }
  return played;
}

}  // namespace

TEST_CASE("playout waits for the target delay, then plays one packet per tick", "[unit]") {
  FakeClock clock;
  auto jb = Make(40ms);
  std::string played;
  for (uint16_t seq = 0; seq < 6; ++seq) {
    jb.Push(seq, seq * 160u, seq == 0, Payload(seq), clock.Now());
    played += PopOne(jb, clock) + " ";
    clock.Advance(20ms);
  }
  // 0 ms and 20 ms: still buffering; at 40 ms playout starts from the first packet.
  CHECK(played == "S S 0 1 2 3 ");
}

TEST_CASE("reordered packets are played in sequence order", "[unit]") {
  FakeClock clock;
  auto jb = Make(40ms, 40ms);
  // One packet per tick, pairs swapped in flight.
  std::vector<Arrival> arrivals;
  const uint16_t order[] = {0, 2, 1, 3, 5, 4, 6, 7};
  for (int tick = 0; tick < 8; ++tick) arrivals.push_back({tick, order[tick], order[tick] * 160u});
  CHECK(Simulate(jb, clock, arrivals, 8) == "S S 0 1 2 3 4 5 ");
  CHECK(jb.stats().concealed == 0);
  CHECK(jb.stats().late == 0);
}

TEST_CASE("sequence numbers and timestamps wrapping mid-stream play straight through", "[unit]") {
  FakeClock clock;
  auto jb = Make(40ms, 40ms);
  std::vector<Arrival> arrivals;
  for (int tick = 0; tick < 8; ++tick) {
    arrivals.push_back({tick, static_cast<uint16_t>(65533 + tick),
                        static_cast<uint32_t>(0xFFFFFE00u + 160u * tick)});
  }
  CHECK(Simulate(jb, clock, arrivals, 8) == "S S 253 254 255 0 1 2 ");
  CHECK(jb.stats().late == 0);
  CHECK(jb.stats().concealed == 0);
}

TEST_CASE("a lost packet becomes one concealment tick and a late one is dropped", "[unit]") {
  FakeClock clock;
  auto jb = Make(40ms, 40ms);
  // Packet 2 arrives three ticks late, after its playout time; packet 4 arrives twice.
  const std::vector<Arrival> arrivals = {{0, 0, 0},   {1, 1, 160}, {3, 3, 480},
                                         {4, 4, 640}, {5, 2, 320}, {5, 4, 640},
                                         {5, 5, 800}, {6, 6, 960}, {7, 7, 1120}};
  CHECK(Simulate(jb, clock, arrivals, 8) == "S S 0 1 C 3 4 5 ");
  CHECK(jb.stats().concealed == 1);
  CHECK(jb.stats().late == 1);
  CHECK(jb.stats().duplicates == 1);
}

TEST_CASE("a pause in timestamps without lost packets plays silence, not concealment", "[unit]") {
  FakeClock clock;
  auto jb = Make(80ms, 80ms);
  // The sender stops for two frames (silence suppression): seq 4 carries ts 960, not 640, and
  // the marker bit of a new talkspurt.
  std::vector<Arrival> arrivals = {{0, 0, 0}, {1, 1, 160}, {2, 2, 320}, {3, 3, 480}};
  for (int i = 0; i < 5; ++i) {
    arrivals.push_back({6 + i, static_cast<uint16_t>(4 + i), static_cast<uint32_t>(960 + 160 * i)});
  }
  CHECK(Simulate(jb, clock, arrivals, 11) == "S S S S 0 1 2 3 S S 4 ");
  CHECK(jb.stats().concealed == 0);
}

TEST_CASE("an underrun re-buffers for the target delay before playing again", "[unit]") {
  FakeClock clock;
  auto jb = Make(40ms);
  jb.Push(0, 0, false, Payload(0), clock.Now());
  clock.Advance(40ms);
  CHECK(PopOne(jb, clock) == "0");
  CHECK(PopOne(jb, clock) == "C");  // ran dry
  CHECK(jb.stats().underruns == 1);
  jb.Push(1, 160, false, Payload(1), clock.Now());  // the sender only paused
  CHECK(PopOne(jb, clock) == "S");
  clock.Advance(40ms);
  CHECK(PopOne(jb, clock) == "1");
}

TEST_CASE("the target delay follows jitter, bounded by min and max", "[unit]") {
  FakeClock clock;
  auto jb = Make(20ms, 120ms);
  std::array<uint8_t, 1500> out;
  // Steady arrivals: the target stays at the minimum.
  for (uint16_t seq = 0; seq < 100; ++seq) {
    jb.Push(seq, seq * 160u, false, Payload(seq), clock.Now());
    jb.Pop(clock.Now(), out);
    clock.Advance(20ms);
  }
  CHECK(jb.target_delay() == 20ms);
  CHECK(jb.stats().concealed == 0);

  // Arrival delay uniform in 0..60 ms: J is about 20 ms, the target about 3 J = 60 ms.
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> delay_ms(0, 60);
  struct Arrival {
    std::chrono::milliseconds at;
    uint16_t seq;
  };
  std::vector<Arrival> arrivals;
  const auto start = 2000ms;
  for (uint16_t seq = 100; seq < 1100; ++seq) {
    arrivals.push_back(
        {start + (seq - 100) * 20ms + std::chrono::milliseconds(delay_ms(rng)), seq});
  }
  std::sort(arrivals.begin(), arrivals.end(), [](auto& a, auto& b) { return a.at < b.at; });
  size_t next = 0;
  const uint64_t late_before = jb.stats().late;
  const auto origin = clock.Now() - start;
  for (auto t = start; t < start + 20000ms + 200ms; t += 20ms) {
    // Deliver everything that arrived by this tick, stamped with its true arrival time.
    while (next < arrivals.size() && arrivals[next].at <= t) {
      jb.Push(arrivals[next].seq, arrivals[next].seq * 160u, false, Payload(arrivals[next].seq),
              origin + arrivals[next].at);
      ++next;
    }
    jb.Pop(clock.Now(), out);
    clock.Advance(20ms);
  }
  CHECK(jb.jitter_ms() > 12);
  CHECK(jb.target_delay() >= 40ms);
  CHECK(jb.target_delay() <= 120ms);
  // Once adapted, packets late for their playout time are rare (under 2%).
  CHECK(jb.stats().late - late_before < 20);

  // Huge jitter: the target stops at max.
  JitterBuffer capped = Make(20ms, 100ms);
  for (uint16_t seq = 0; seq < 200; ++seq) {
    capped.Push(seq, seq * 160u, false, Payload(seq),
                clock.Now() + std::chrono::milliseconds(seq % 2 ? 400 : 0));
    clock.Advance(20ms);
  }
  CHECK(capped.target_delay() == 100ms);
}

TEST_CASE("a sequence jump confirmed by the next packet restarts the buffer", "[unit]") {
  FakeClock clock;
  auto jb = Make(20ms, 20ms);
  jb.Push(5000, 0, false, Payload(5000), clock.Now());
  clock.Advance(20ms);
  CHECK(PopOne(jb, clock) == std::to_string(5000 % 256));
  SECTION("forwards") {
    // A lone stray far ahead is dropped; two in sequence are a restart.
    CHECK(jb.Push(30000, 4800000, false, Payload(30000), clock.Now()) ==
          JitterBuffer::PushResult::kLate);
    CHECK(jb.Push(5001, 160, false, Payload(5001), clock.Now()) ==
          JitterBuffer::PushResult::kStored);
    CHECK(jb.stats().resyncs == 0);
    CHECK(jb.Push(30000, 4800000, false, Payload(30000), clock.Now()) ==
          JitterBuffer::PushResult::kLate);
    CHECK(jb.Push(30001, 4800160, false, Payload(30001), clock.Now()) ==
          JitterBuffer::PushResult::kStored);
    CHECK(jb.stats().resyncs == 1);
    clock.Advance(20ms);
    CHECK(PopOne(jb, clock) == std::to_string(30001 % 256));
  }
  SECTION("backwards") {
    CHECK(jb.Push(100, 99999, false, Payload(100), clock.Now()) == JitterBuffer::PushResult::kLate);
    CHECK(jb.Push(101, 100159, false, Payload(101), clock.Now()) ==
          JitterBuffer::PushResult::kStored);
    CHECK(jb.stats().resyncs == 1);
    clock.Advance(20ms);
    CHECK(PopOne(jb, clock) == "101");
    CHECK(jb.Push(102, 100319, false, Payload(102), clock.Now()) ==
          JitterBuffer::PushResult::kStored);
    CHECK(PopOne(jb, clock) == "102");
  }
}

TEST_CASE("after Reset a stream far behind or ahead plays from its first packet", "[unit]") {
  FakeClock clock;
  auto jb = Make(40ms, 40ms);
  std::vector<Arrival> first;
  for (int t = 0; t < 4; ++t) first.push_back({t, static_cast<uint16_t>(t), t * 160u});
  CHECK(Simulate(jb, clock, first, 4) == "S S 0 1 ");
  // The caller stopped playing out; packets 2 and 3 are stale now.
  jb.Reset();
  CHECK(jb.size() == 0);
  // The same sender 200 packets later: without Reset this would be an unconfirmed jump.
  std::vector<Arrival> later;
  for (int t = 0; t < 4; ++t) {
    later.push_back({t, static_cast<uint16_t>(200 + t), (200 + t) * 160u});
  }
  CHECK(Simulate(jb, clock, later, 4) == "S S 200 201 ");
  CHECK(jb.stats().late == 0);
  CHECK(jb.stats().resyncs == 0);
}

TEST_CASE("oversized payloads and bad configurations are refused", "[unit]") {
  FakeClock clock;
  auto jb = JitterBuffer::Create({.max_payload = 200});
  REQUIRE(jb.ok());
  std::vector<uint8_t> big(201);
  CHECK(jb->Push(0, 0, false, big, clock.Now()) == JitterBuffer::PushResult::kTooLarge);
  CHECK(JitterBuffer::Create({.frame_samples = 0}).status().field() == "frame_samples");
  CHECK(JitterBuffer::Create({.min_delay = 100ms, .max_delay = 50ms}).status().field() ==
        "max_delay");
}
