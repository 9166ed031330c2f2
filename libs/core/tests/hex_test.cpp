#include "switchboard/core/hex.h"

#include <catch2/catch.hpp>

TEST_CASE("bytes become two lowercase hex digits each", "[unit]") {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  CHECK(sb::core::ToHex(bytes) == "000fa5ff");
  CHECK(sb::core::ToHex({}) == "");
}
