// Descriptions across the B2BUA: a hold read from one side and written into the other's, and a
// party moved to a new media leg offered a description that continues the one it had.
#include "b2bua/sdp_direction.h"

#include <catch2/catch.hpp>
#include <string>

namespace {

using sb::signaling::b2bua::ContinuedDescription;
using sb::signaling::b2bua::OfferedDirection;
using sb::signaling::b2bua::SameDescription;
using sb::signaling::b2bua::WithDirection;

std::string Sdp(std::string_view origin, std::string_view address, int port,
                std::string_view direction) {
  return "v=0\r\no=" + std::string(origin) + " IN IP4 " + std::string(address) +
         "\r\ns=-\r\nc=IN IP4 " + std::string(address) + "\r\nt=0 0\r\nm=audio " +
         std::to_string(port) +
         " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=" + std::string(direction) + "\r\n";
}

}  // namespace

TEST_CASE("a hold is read from an offer and written into the other side's description", "[unit]") {
  const std::string offer = Sdp("phone 5 9", "10.1.1.1", 4000, "sendonly");
  CHECK(OfferedDirection(offer) == sb::sdp::Direction::kSendOnly);
  const std::string to_other = WithDirection(Sdp("node 7 1", "127.0.0.9", 30000, "sendrecv"),
                                             sb::sdp::Direction::kSendOnly, true);
  CHECK(to_other.find("o=node 7 2 ") != std::string::npos);
  CHECK(to_other.find("a=sendonly") != std::string::npos);
  CHECK(to_other.find("a=sendrecv") == std::string::npos);
  CHECK_FALSE(SameDescription(Sdp("node 7 1", "127.0.0.9", 30000, "sendrecv"), to_other));
}

TEST_CASE(
    "a party moved to a new media leg is offered the new address under the origin it had, one "
    "version on, in the direction it had",
    "[unit]") {
  const std::string had = Sdp("node-a 7 4", "127.0.0.9", 30000, "sendonly");  // held
  const std::string fresh = Sdp("node-b 9 1", "127.0.0.10", 31000, "sendrecv");
  const std::string offer = ContinuedDescription(had, fresh);
  CHECK(offer.find("o=node-a 7 5 IN IP4 127.0.0.9") != std::string::npos);
  CHECK(offer.find("c=IN IP4 127.0.0.10") != std::string::npos);
  CHECK(offer.find("m=audio 31000 ") != std::string::npos);
  CHECK(offer.find("a=sendonly") != std::string::npos);
  CHECK(offer.find("a=sendrecv") == std::string::npos);
  CHECK_FALSE(SameDescription(had, offer));
  // Nothing to continue: the new description as it is.
  CHECK(ContinuedDescription("not sdp", fresh) == fresh);
}
