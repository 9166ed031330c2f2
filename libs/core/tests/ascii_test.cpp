#include "switchboard/core/ascii.h"

#include <catch2/catch.hpp>

using sb::core::AsciiLower;
using sb::core::AsciiLowered;
using sb::core::EqualsIgnoreCase;

TEST_CASE("ASCII lower case changes A-Z only", "[unit]") {
  CHECK(AsciiLowered("SIP/2.0 Via: UDP") == "sip/2.0 via: udp");
  // The neighbours of A-Z stay: '@' and '[' are not '`' and '{'.
  CHECK(AsciiLower('@') == '@');
  CHECK(AsciiLower('[') == '[');
  CHECK(AsciiLower('A') == 'a');
  CHECK(AsciiLower('Z') == 'z');
  // Bytes past ASCII (UTF-8 in a display name) are not letters here.
  CHECK(AsciiLower('\xC3') == '\xC3');
}

TEST_CASE("case-insensitive equality of ASCII text", "[unit]") {
  CHECK(EqualsIgnoreCase("Digest", "dIGEST"));
  CHECK(EqualsIgnoreCase("", ""));
  CHECK_FALSE(EqualsIgnoreCase("sip", "sips"));
  CHECK_FALSE(EqualsIgnoreCase("a@b", "a`b"));
  CHECK_FALSE(EqualsIgnoreCase("[x]", "{x}"));
}
