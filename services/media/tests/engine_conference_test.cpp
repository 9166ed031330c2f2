#include <catch2/catch.hpp>

#include "engine_harness.h"

namespace sb::media {
namespace {

using codec::CodecType;
using test::EngineHarness;

// Each party speaks its own tone every 20 ms for `frames` ticks.
void Speak(EngineHarness& h, const std::map<std::string, double>& tones, size_t frames,
           size_t start = 0) {
  for (size_t i = start; i < start + frames; ++i) {
    for (const auto& [leg, freq] : tones) {
      h.SendPcmu(leg, test::Sine(freq, 8000, i * 160, 160));
    }
    h.Tick();
  }
}

bool Hears(const std::vector<int16_t>& pcm, double freq) {
  return test::ToneEnergy(pcm, freq, 8000) > 1e5;  // an 8000-peak sine gives 1.6e7
}

TEST_CASE("in a 3-party conference each party hears the other two and not itself",
          "[engine][conference]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  h.AddLeg("c", 3, CodecType::kPcmu, 0);
  REQUIRE(h.engine.CreateConference("room").ok());
  for (auto leg : {"a", "b", "c"}) REQUIRE(h.engine.AddToConference("room", leg).ok());
  CHECK(*h.engine.ConferenceSize("room") == 3);

  const std::map<std::string, double> tones = {{"a", 500}, {"b", 1100}, {"c", 1700}};
  Speak(h, tones, 50);
  for (const auto& [leg, own] : tones) {
    DYNAMIC_SECTION("party " << leg) {
      auto heard = h.HeardPcmu(leg);
      REQUIRE(heard.size() >= 45 * 160);
      CHECK_FALSE(Hears(heard, own));
      for (const auto& [other, freq] : tones) {
        if (other != leg) CHECK(Hears(heard, freq));
      }
    }
  }
}

TEST_CASE("a muted party is not heard and a deaf one hears nothing", "[engine][conference]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  h.AddLeg("c", 3, CodecType::kPcmu, 0);
  REQUIRE(h.engine.CreateConference("room").ok());
  for (auto leg : {"a", "b", "c"}) REQUIRE(h.engine.AddToConference("room", leg).ok());
  REQUIRE(h.engine.SetMuted("room", "b", true).ok());
  REQUIRE(h.engine.SetDeaf("room", "c", true).ok());

  const std::map<std::string, double> tones = {{"a", 500}, {"b", 1100}, {"c", 1700}};
  Speak(h, tones, 30);
  auto a = h.HeardPcmu("a");
  CHECK_FALSE(Hears(a, 1100));
  CHECK(Hears(a, 1700));
  CHECK(h.SentTo("c").empty());
  CHECK(Hears(h.HeardPcmu("b"), 500));

  size_t mark = h.sink.sent.size();
  REQUIRE(h.engine.SetMuted("room", "b", false).ok());
  REQUIRE(h.engine.SetDeaf("room", "c", false).ok());
  Speak(h, tones, 30, 30);
  CHECK(Hears(h.HeardPcmu("a", mark), 1100));
  CHECK(Hears(h.HeardPcmu("c", mark), 1100));
}

TEST_CASE("conference members may use different codecs", "[engine][conference]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcma, 8);
  REQUIRE(h.engine.CreateConference("room").ok());
  REQUIRE(h.engine.AddToConference("room", "a").ok());
  REQUIRE(h.engine.AddToConference("room", "b").ok());
  for (size_t i = 0; i < 30; ++i) {
    h.SendPcmu("a", test::Sine(700, 8000, i * 160, 160));
    h.Tick();
  }
  std::vector<int16_t> heard;
  for (const auto& pkt : h.SentTo("b")) {
    auto packet = rtp::ParseRtp(pkt);
    REQUIRE(packet.ok());
    CHECK(packet->header.payload_type == 8);
    std::vector<int16_t> frame(packet->payload.size());
    codec::DecodeAlaw(packet->payload, frame);
    heard.insert(heard.end(), frame.begin(), frame.end());
  }
  CHECK(test::DominantFrequency(heard, 8000) == Approx(700).margin(10));
}

TEST_CASE("leaving or destroying a conference stops the mix and the legs stay",
          "[engine][conference]") {
  EngineHarness h;
  h.AddLeg("a", 1, CodecType::kPcmu, 0);
  h.AddLeg("b", 2, CodecType::kPcmu, 0);
  REQUIRE(h.engine.CreateConference("room").ok());
  CHECK(h.engine.CreateConference("room").code() == StatusCode::kAlreadyExists);
  REQUIRE(h.engine.AddToConference("room", "a").ok());
  REQUIRE(h.engine.AddToConference("room", "b").ok());
  CHECK(h.engine.AddToConference("room", "b").code() == StatusCode::kFailedPrecondition);
  CHECK(h.engine.Bridge("a", "b").status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(h.engine.RemoveFromConference("room", "b").ok());
  CHECK(*h.engine.ConferenceSize("room") == 1);
  CHECK(h.engine.SetMuted("room", "b", true).code() == StatusCode::kNotFound);
  REQUIRE(h.engine.DestroyConference("room").ok());
  CHECK(h.engine.conference_count() == 0);
  CHECK(h.engine.leg_count() == 2);
  CHECK(h.engine.Bridge("a", "b").ok());
}

}  // namespace
}  // namespace sb::media
