#include "session/mixer.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

namespace sb::media {
namespace {

TEST_CASE("each member hears the sum of the others and not itself", "[mixer]") {
  std::vector<int16_t> a(160, 100), b(160, 20), c(160, 3);
  std::vector<int16_t> oa(160), ob(160), oc(160);
  std::array<const int16_t*, 3> in = {a.data(), b.data(), c.data()};
  std::array<int16_t*, 3> out = {oa.data(), ob.data(), oc.data()};
  MixMinusSelf(in, out, 160);
  CHECK(oa[0] == 23);
  CHECK(ob[17] == 103);
  CHECK(oc[159] == 120);
}

TEST_CASE("a silent member adds nothing and still hears everyone", "[mixer]") {
  std::vector<int16_t> a(160, 100), b(160, 20);
  std::vector<int16_t> oa(160), ob(160), oc(160);
  std::array<const int16_t*, 3> in = {a.data(), b.data(), nullptr};
  std::array<int16_t*, 3> out = {oa.data(), ob.data(), oc.data()};
  MixMinusSelf(in, out, 160);
  CHECK(oa[5] == 20);
  CHECK(ob[5] == 100);
  CHECK(oc[5] == 120);
}

TEST_CASE("a deaf member's output is left untouched", "[mixer]") {
  std::vector<int16_t> a(160, 100), b(160, 20);
  std::vector<int16_t> oa(160, -7);
  std::vector<int16_t> ob(160);
  std::array<const int16_t*, 2> in = {a.data(), b.data()};
  std::array<int16_t*, 2> out = {nullptr, ob.data()};
  MixMinusSelf(in, out, 160);
  CHECK(oa[0] == -7);
  CHECK(ob[0] == 100);
}

TEST_CASE("the mix clips at the 16-bit limits instead of wrapping", "[mixer]") {
  std::vector<int16_t> a(480, 30000), b(480, 30000), c(480, -30000), d(480, -30000);
  std::vector<int16_t> oc(480), oa(480);
  std::array<const int16_t*, 4> in = {a.data(), b.data(), c.data(), d.data()};
  std::array<int16_t*, 4> out = {oa.data(), nullptr, oc.data(), nullptr};
  MixMinusSelf(in, out, 480);
  // a hears b + c + d = -30000; c hears a + b + d = 30000.
  CHECK(oa[0] == -30000);
  CHECK(oc[479] == 30000);
  // A silent listener of two loud members hears 60000, clipped.
  std::array<const int16_t*, 3> three = {nullptr, a.data(), b.data()};
  std::array<int16_t*, 3> outs = {oa.data(), nullptr, nullptr};
  MixMinusSelf(three, outs, 480);
  CHECK(oa[100] == 32767);
}

TEST_CASE("frames longer than the internal chunk are mixed whole", "[mixer]") {
  std::vector<int16_t> a(960), b(960);
  for (size_t i = 0; i < 960; ++i) {
    a[i] = static_cast<int16_t>(i);
    b[i] = static_cast<int16_t>(-2 * static_cast<int>(i));
  }
  std::vector<int16_t> oa(960), ob(960);
  std::array<const int16_t*, 2> in = {a.data(), b.data()};
  std::array<int16_t*, 2> out = {oa.data(), ob.data()};
  MixMinusSelf(in, out, 960);
  CHECK(oa[900] == -1800);
  CHECK(ob[900] == 900);
}

TEST_CASE("MixInto adds with clipping", "[mixer]") {
  std::vector<int16_t> a = {1, 32000, -32000};
  std::vector<int16_t> b = {2, 1000, -1000};
  MixInto(a, b);
  CHECK(a == std::vector<int16_t>{3, 32767, -32768});
}

}  // namespace
}  // namespace sb::media
