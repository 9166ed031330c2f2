#include "session/sdp_negotiator.h"

#include <catch2/catch.hpp>

#include "switchboard/sip/sdp.h"

namespace sb::media {
namespace {

const SdpIdentity kNode{.address = "198.51.100.7", .session_id = "4242"};

std::string Repeat(const std::string& part, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += part;
  return out;
}

std::string Offer(const std::string& formats, const std::string& extra,
                  const std::string& proto = "RTP/AVP") {
  return "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
         "m=audio 49170 " +
         proto + " " + formats + "\r\n" + extra;
}

TEST_CASE("an offer is answered with one codec, telephone-event and the node's address", "[sdp]") {
  SdpNegotiator sdp(kNode);
  auto answer =
      sdp.Answer(Offer("111 0 8 101",
                       "a=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/48000\r\n"
                       "a=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n"),
                 30000, std::string(30, 'k'), 1);
  REQUIRE(answer.ok());
  CHECK(answer->media.codec == codec::CodecType::kOpus);
  CHECK(answer->media.payload_type == 111);
  CHECK(answer->media.telephone_event_pt == 101);
  CHECK(answer->media.rtcp_mux);
  CHECK(answer->media.remote_rtp == Endpoint{0xc000020a, 49170});
  CHECK(answer->media.remote_rtcp == answer->media.remote_rtp);
  CHECK_FALSE(answer->media.srtp.has_value());
  auto parsed = sdp::Parse(answer->sdp);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->connection.has_value());
  CHECK(parsed->connection->address == "198.51.100.7");
  REQUIRE(parsed->media.size() == 1);
  CHECK(parsed->media[0].port == 30000);
  CHECK(parsed->media[0].formats == std::vector<std::string>{"111", "101"});
  // The node asks for the 20 ms packets it plays out.
  CHECK(sdp::Ptime(parsed->media[0]) == 20u);
}

TEST_CASE("without rtcp-mux RTCP goes to the next port and PCMU is picked when offered first",
          "[sdp]") {
  SdpNegotiator sdp(kNode);
  auto answer = sdp.Answer(Offer("0 8", ""), 30002, "", 1);
  REQUIRE(answer.ok());
  CHECK(answer->media.codec == codec::CodecType::kPcmu);
  CHECK(answer->media.telephone_event_pt == -1);
  CHECK_FALSE(answer->media.rtcp_mux);
  CHECK(answer->media.remote_rtcp.port == 49171);
}

TEST_CASE("an SRTP offer gets our key in the answer and the endpoint's key in the media",
          "[sdp][srtp]") {
  const std::string their_key(30, '\x07');
  const std::string our_key(30, '\x09');
  SdpNegotiator sdp(kNode);
  auto answer = sdp.Answer(
      // Base64 of 30 bytes 0x07 and of 30 bytes 0x09.
      Offer("0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Repeat("BwcH", 10) + "\r\n",
            "RTP/SAVP"),
      30004, our_key, 1);
  REQUIRE(answer.ok());
  REQUIRE(answer->media.srtp.has_value());
  CHECK(answer->media.srtp->remote_key == their_key);
  CHECK(answer->media.srtp->local_key == our_key);
  CHECK(answer->sdp.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + Repeat("CQkJ", 10)) !=
        std::string::npos);
  CHECK(answer->sdp.find("RTP/SAVP") != std::string::npos);
}

TEST_CASE("offers the node cannot take are refused naming the sdp", "[sdp]") {
  SdpNegotiator sdp(kNode);
  struct Case {
    const char* what;
    std::string offer;
  };
  std::vector<Case> cases = {
      {"no common codec", Offer("18", "a=rtpmap:18 G729/8000\r\n")},
      {"not SDP", "hello"},
      {"IPv6 media",
       "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
       "m=audio 4000 RTP/AVP 0\r\n"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      auto answer = sdp.Answer(c.offer, 30000, "", 1);
      REQUIRE_FALSE(answer.ok());
      CHECK(answer.status().code() == StatusCode::kInvalidArgument);
      CHECK(answer.status().field() == "sdp");
    }
  }
}

TEST_CASE("the node's offer is completed by the endpoint's answer", "[sdp]") {
  SdpNegotiator sdp(kNode);
  std::string offer = sdp.Offer(30010, "", 1);
  auto parsed = sdp::Parse(offer);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->media.size() == 1);
  CHECK(parsed->media[0].port == 30010);
  CHECK(parsed->media[0].proto == "RTP/AVP");
  auto media = sdp.ApplyAnswer(
      "v=0\r\no=bob 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
      "m=audio 6000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
      "");
  REQUIRE(media.ok());
  CHECK(media->codec == codec::CodecType::kPcma);
  CHECK(media->telephone_event_pt == 101);
  CHECK(media->remote_rtp.port == 6000);
  CHECK(sdp.Offer(30010, std::string(30, 'x'), 2).find("a=crypto:") != std::string::npos);
  CHECK_FALSE(sdp.ApplyAnswer("v=0\r\no=bob 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20"
                              "\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n",
                              std::string(30, 'x'))
                  .ok());  // SRTP offered, plain answer
}

}  // namespace
}  // namespace sb::media
