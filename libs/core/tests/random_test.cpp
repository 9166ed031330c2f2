#include "switchboard/core/random.h"

#include <catch2/catch.hpp>
#include <vector>

TEST_CASE("the system random source gives fresh bytes across its internal blocks", "[unit]") {
  sb::core::OpenSslRandom random;
  std::vector<uint8_t> a(700), b(700);
  random.Fill(a);
  random.Fill(b);
  CHECK(a != b);
  CHECK(std::vector<uint8_t>(a.begin(), a.begin() + 350) !=
        std::vector<uint8_t>(a.begin() + 350, a.end()));
}

TEST_CASE("a seeded source gives the same bytes for the same seed, others for another", "[unit]") {
  sb::core::SeededRandom one(7), again(7), other(8);
  std::vector<uint8_t> a(64), b(64), c(64);
  one.Fill(a);
  again.Fill(b);
  other.Fill(c);
  CHECK(a == b);
  CHECK(a != c);
}
