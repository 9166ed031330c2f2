// The packet path allocates nothing once a leg is set up: relay, transcoding, conference mixing
// and recording, counted by sb::alloc_counter's replacement of operator new.
#include <catch2/catch.hpp>

#include "engine_harness.h"
#include "switchboard/testing/alloc_counter.h"

// AddressSanitizer owns operator new, so under -DSB_SANITIZE=ON there is nothing to count and this
// binary has no test.
#if !defined(__SANITIZE_ADDRESS__)

namespace sb::media {
namespace {

using codec::CodecType;

// A sink that only counts, so that the measurement sees the engine's allocations alone.
class CountingSink final : public PacketSink {
 public:
  void Send(int, const Endpoint&, std::span<const uint8_t> datagram) override {
    ++packets;
    bytes += datagram.size();
  }
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct Fixture {
  core::FakeClock clock;
  CountingSink sink;
  test::CollectingEvents events;
  core::MetricsRegistry metrics;
  std::string dir =
      std::filesystem::temp_directory_path() / ("media_alloc_test_" + std::to_string(::getpid()));
  MediaEngine engine{clock, sink, events, metrics, {.node_id = "n", .recordings_dir = dir}};
  std::array<std::array<uint8_t, 172>, 50> packets{};  // prebuilt PCMU packets, per leg index

  Fixture() { std::filesystem::create_directories(dir); }
  ~Fixture() { std::filesystem::remove_all(dir); }

  void Add(const std::string& id, int index, CodecType codec, int pt) {
    LegMedia media;
    media.remote_rtp = {test::kLoopback, static_cast<uint16_t>(5000 + index)};
    media.codec = codec;
    media.payload_type = pt;
    REQUIRE(engine
                .AddLeg({.info = {"t", "c", id},
                         .rtp_socket = 10 * index,
                         .rtcp_socket = 10 * index + 1,
                         .options = {},
                         .media = media,
                         .ssrc = static_cast<uint32_t>(index),
                         .cname = "n"})
                .ok());
  }

  // Frame i of a PCMU tone from leg `index`'s endpoint; written into a preallocated buffer.
  void Send(int index, size_t i, double freq) {
    auto& pkt = packets[i % packets.size()];
    // The header alone (no payload yet): the tone is written in place after it.
    (void)rtp::BuildRtp({.payload_type = 0,
                         .sequence = static_cast<uint16_t>(i),
                         .timestamp = static_cast<uint32_t>(i * 160),
                         .ssrc = 0x100u + index},
                        {}, pkt);
    for (size_t s = 0; s < 160; ++s) {
      pkt[12 + s] = codec::LinearToUlaw(static_cast<int16_t>(
          6000 * std::sin(2 * 3.14159265358979 * freq * static_cast<double>(i * 160 + s) / 8000)));
    }
    engine.OnDatagram(10 * index, {test::kLoopback, static_cast<uint16_t>(5000 + index)}, pkt);
  }
};

TEST_CASE("relaying, transcoding, mixing and recording allocate nothing per packet",
          "[engine][alloc]") {
  Fixture f;
  f.Add("relay-a", 1, CodecType::kPcmu, 0);
  f.Add("relay-b", 2, CodecType::kPcmu, 0);
  f.Add("tc-a", 3, CodecType::kPcmu, 0);
  f.Add("tc-b", 4, CodecType::kOpus, 111);
  f.Add("m1", 5, CodecType::kPcmu, 0);
  f.Add("m2", 6, CodecType::kPcmu, 0);
  f.Add("m3", 7, CodecType::kPcmu, 0);
  REQUIRE(f.engine.Bridge("relay-a", "relay-b").ok());
  REQUIRE(f.engine.Bridge("tc-a", "tc-b").ok());
  REQUIRE(f.engine.CreateConference("room").ok());
  for (auto m : {"m1", "m2", "m3"}) REQUIRE(f.engine.AddToConference("room", m).ok());
  REQUIRE(f.engine.StartRecording("relay-a", "rec", true).ok());

  auto run = [&](size_t from, size_t frames) {
    for (size_t i = from; i < from + frames; ++i) {
      f.Send(1, i, 500);
      f.Send(2, i, 700);
      f.Send(3, i, 1000);
      for (int m = 5; m <= 7; ++m) f.Send(m, i, 300.0 * m);
      f.clock.Advance(std::chrono::milliseconds(20));
      f.engine.Tick();
    }
  };
  run(0, 20);  // warm-up: codecs made on first use, stdio buffer of the recording
  const uint64_t sent_before = f.sink.packets;
  // The counter sees allocations (otherwise the zero below would prove nothing).
  REQUIRE(testing::CountsAllocations());
  const uint64_t before = testing::AllocationCount();
  run(20, 300);  // 6 s, RTCP included
  const uint64_t allocations = testing::AllocationCount() - before;
  CHECK(allocations == 0);
  // Every path did work: 2 relayed + 1 transcoded + 3 mixed per frame, plus RTCP.
  CHECK(f.sink.packets - sent_before >= 300 * 6);
  REQUIRE(f.engine.StopRecording("relay-a").ok());
}

}  // namespace
}  // namespace sb::media

#endif  // !defined(__SANITIZE_ADDRESS__)
