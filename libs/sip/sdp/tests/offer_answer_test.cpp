// Offer/answer (RFC 3264): the RFC's §10.1 example, codec intersection, telephone-event,
// direction per §6.1, rtcp-mux, crypto and rejected streams.
#include <catch2/catch.hpp>
#include <string>

#include "switchboard/sip/sdp.h"
#include "switchboard/sip/sdp_offer_answer.h"

namespace sdp = sb::sdp;

namespace {

std::string Crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

sdp::SessionDescription ParseOrFail(std::string_view text) {
  auto sd = sdp::Parse(text);
  REQUIRE(sd.ok());
  return *sd;
}

sdp::AnswerOptions Local(std::vector<sdp::LocalMedia> media) {
  sdp::AnswerOptions o;
  o.origin = sdp::Origin{"-", "7", "1", "IN", "IP4", "127.0.0.1"};
  o.address = "127.0.0.1";
  o.media = std::move(media);
  return o;
}

sdp::LocalMedia Audio(uint16_t port, std::vector<sdp::CodecCapability> codecs) {
  sdp::LocalMedia m;
  m.port = port;
  m.codecs = std::move(codecs);
  return m;
}

std::string OfferWith(std::string_view media_section) {
  return std::string("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n") +
         std::string(media_section);
}

std::vector<std::string> Encodings(const sdp::MediaDescription& m) {
  std::vector<std::string> out;
  for (const auto& c : sdp::Codecs(m)) out.push_back(c.encoding);
  return out;
}

}  // namespace

TEST_CASE("RFC 3264 §10.1: Bob's answer to Alice's audio+video offer byte for byte", "[sdp]") {
  auto offer = ParseOrFail(
      "v=0\n"
      "o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\n"
      "s=\n"
      "c=IN IP4 host.atlanta.example.com\n"
      "t=0 0\n"
      "m=audio 49170 RTP/AVP 0 8 97\n"
      "a=rtpmap:0 PCMU/8000\n"
      "a=rtpmap:8 PCMA/8000\n"
      "a=rtpmap:97 iLBC/8000\n"
      "m=video 51372 RTP/AVP 31 32\n"
      "a=rtpmap:31 H261/90000\n"
      "a=rtpmap:32 MPV/90000\n");
  sdp::AnswerOptions bob;
  bob.origin = {"bob", "2808844564", "2808844564", "IN", "IP4", "host.biloxi.example.com"};
  bob.address = "host.biloxi.example.com";
  bob.session_name = "";
  bob.explicit_sendrecv = false;
  sdp::LocalMedia audio = Audio(49174, {sdp::kPcmu});
  audio.telephone_event = false;
  audio.rtcp_mux = false;
  sdp::LocalMedia video;
  video.media = "video";
  video.port = 49170;
  video.codecs = {{"MPV", 90000, 1, 32, std::nullopt}};
  video.telephone_event = false;
  bob.media = {audio, video};

  auto answer = sdp::CreateAnswer(offer, bob);
  REQUIRE(answer.ok());
  CHECK(sdp::Serialize(*answer) ==
        Crlf("v=0\n"
             "o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\n"
             "s=\n"
             "c=IN IP4 host.biloxi.example.com\n"
             "t=0 0\n"
             "m=audio 49174 RTP/AVP 0\n"
             "a=rtpmap:0 PCMU/8000\n"
             "m=video 49170 RTP/AVP 32\n"
             "a=rtpmap:32 MPV/90000\n"));
}

TEST_CASE("codecs are intersected in the offer's order with the offer's payload types", "[sdp]") {
  auto offer =
      ParseOrFail(OfferWith("m=audio 4000 RTP/AVP 8 96 0 18\na=rtpmap:96 OPUS/48000/2\na=fmtp:96 "
                            "maxplaybackrate=16000\n"));
  // Local preference order differs from the offer's: the offer's order wins (RFC 3264 §6.1
  // lets the answerer keep the offerer's preference; we do so that both sides agree on one).
  auto answer =
      sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kPcmu, sdp::kOpus, sdp::kPcma})}));
  REQUIRE(answer.ok());
  const auto& m = answer->media.at(0);
  CHECK(m.port == 5000);
  CHECK(m.formats == std::vector<std::string>{"8", "96", "0"});
  auto codecs = sdp::Codecs(m);
  REQUIRE(codecs.size() == 3);
  CHECK(codecs[1].payload_type == 96);
  CHECK(codecs[1].encoding == "OPUS");        // case-insensitive match, offer's spelling kept
  CHECK(codecs[1].fmtp == "useinbandfec=1");  // our receive preferences, not the offer's
}

TEST_CASE("opus must match channels and clock rate", "[sdp]") {
  auto offer = ParseOrFail(OfferWith("m=audio 4000 RTP/AVP 96 0\na=rtpmap:96 opus/48000\n"));
  auto answer = sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kOpus, sdp::kPcmu})}));
  REQUIRE(answer.ok());
  CHECK(Encodings(answer->media.at(0)) == std::vector<std::string>{"PCMU"});
}

TEST_CASE("telephone-event is answered only at a clock rate in use", "[sdp]") {
  auto offer =
      ParseOrFail(OfferWith("m=audio 4000 RTP/AVP 111 0 101 102\na=rtpmap:111 opus/48000/2\n"
                            "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"
                            "a=rtpmap:102 telephone-event/48000\n"));
  SECTION("PCMU only: the 8 kHz events") {
    auto answer = sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kPcmu})}));
    REQUIRE(answer.ok());
    auto codecs = sdp::Codecs(answer->media.at(0));
    REQUIRE(codecs.size() == 2);
    CHECK(codecs[1] == sdp::Codec{101, "telephone-event", 8000, 1, std::string("0-15")});
  }
  SECTION("opus and PCMU: both") {
    auto answer = sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kOpus, sdp::kPcmu})}));
    REQUIRE(answer.ok());
    CHECK(answer->media.at(0).formats == std::vector<std::string>{"111", "0", "101", "102"});
  }
  SECTION("events switched off locally") {
    auto local = Audio(5000, {sdp::kPcmu});
    local.telephone_event = false;
    auto answer = sdp::CreateAnswer(offer, Local({local}));
    REQUIRE(answer.ok());
    CHECK(answer->media.at(0).formats == std::vector<std::string>{"0"});
  }
}

TEST_CASE("direction of the answer per RFC 3264 §6.1", "[sdp]") {
  using D = sdp::Direction;
  struct Case {
    D offered;
    D local;
    D answered;
  };
  auto c = GENERATE(Case{D::kSendRecv, D::kSendRecv, D::kSendRecv},
                    Case{D::kSendRecv, D::kSendOnly, D::kSendOnly},  // we put them on hold
                    Case{D::kSendRecv, D::kRecvOnly, D::kRecvOnly},
                    Case{D::kSendRecv, D::kInactive, D::kInactive},
                    Case{D::kSendOnly, D::kSendRecv, D::kRecvOnly},  // they put us on hold
                    Case{D::kSendOnly, D::kSendOnly, D::kInactive},
                    Case{D::kRecvOnly, D::kSendRecv, D::kSendOnly},
                    Case{D::kRecvOnly, D::kRecvOnly, D::kInactive},
                    Case{D::kInactive, D::kSendRecv, D::kInactive});
  auto offer = ParseOrFail(OfferWith(std::string("m=audio 4000 RTP/AVP 0\na=") +
                                     std::string(sdp::DirectionName(c.offered)) + "\n"));
  auto local = Audio(5000, {sdp::kPcmu});
  local.direction = c.local;
  auto answer = sdp::CreateAnswer(offer, Local({local}));
  REQUIRE(answer.ok());
  CHECK(sdp::GetDirection(*answer, answer->media.at(0)) == c.answered);
  // Written out, sendrecv included, unless explicit_sendrecv is off.
  CHECK(answer->media.at(0).Has(sdp::DirectionName(c.answered)));
}

TEST_CASE("a session-level direction in the offer applies to its streams", "[sdp]") {
  auto offer = ParseOrFail(
      "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\na=sendonly\n"
      "m=audio 4000 RTP/AVP 0\n");
  auto answer = sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kPcmu})}));
  REQUIRE(answer.ok());
  CHECK(sdp::GetDirection(*answer, answer->media.at(0)) == sdp::Direction::kRecvOnly);
}

TEST_CASE("streams that cannot be used are rejected with port 0 others still answered", "[sdp]") {
  auto offer =
      ParseOrFail(OfferWith("m=video 4002 RTP/AVP 31\n"
                            "m=audio 4000 RTP/AVP 18\n"  // G729 only: no codec in common
                            "m=audio 4004 RTP/AVP 0\n"
                            "m=audio 0 RTP/AVP 0\n"        // disabled by the offerer
                            "m=audio 4006 TCP/MSRP *\n"    // a transport we do not speak
                            "m=audio 4008 RTP/AVP 8\n"));  // no second local audio left
  auto answer = sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kPcmu, sdp::kPcma})}));
  REQUIRE(answer.ok());
  REQUIRE(answer->media.size() == 6);  // one per offered m-line, in order (§6)
  std::vector<uint16_t> ports;
  for (const auto& m : answer->media) ports.push_back(m.port);
  CHECK(ports == std::vector<uint16_t>{0, 0, 5000, 0, 0, 0});
  CHECK(answer->media[0].media == "video");
  CHECK(answer->media[0].formats == std::vector<std::string>{"31"});
  CHECK(answer->media[0].attributes.empty());
  CHECK(answer->media[4].proto == "TCP/MSRP");
}

TEST_CASE("an offer with nothing acceptable fails so that the caller answers 488", "[sdp]") {
  auto offer = ParseOrFail(OfferWith("m=audio 4000 RTP/AVP 18\n"));
  auto answer = sdp::CreateAnswer(offer, Local({Audio(5000, {sdp::kPcmu})}));
  CHECK_FALSE(answer.ok());
  CHECK(answer.status().code() == sb::StatusCode::kInvalidArgument);
}

TEST_CASE("rtcp-mux is answered only when offered and supported", "[sdp]") {
  auto with = ParseOrFail(OfferWith("m=audio 4000 RTP/AVP 0\na=rtcp-mux\n"));
  auto without = ParseOrFail(OfferWith("m=audio 4000 RTP/AVP 0\n"));
  auto local = Audio(5000, {sdp::kPcmu});
  CHECK(sdp::RtcpMux(sdp::CreateAnswer(with, Local({local}))->media.at(0)));
  CHECK_FALSE(sdp::RtcpMux(sdp::CreateAnswer(without, Local({local}))->media.at(0)));
  local.rtcp_mux = false;
  CHECK_FALSE(sdp::RtcpMux(sdp::CreateAnswer(with, Local({local}))->media.at(0)));
}

TEST_CASE("SDES crypto: the first offered suite we have a key for same tag", "[sdp]") {
  // RFC 4568 §8.1-style offer with two suites.
  auto offer =
      ParseOrFail(OfferWith("m=audio 4000 RTP/SAVP 0\n"
                            "a=crypto:1 AES_256_CM_HMAC_SHA1_80 "
                            "inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32\n"
                            "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
                            "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32\n"));
  auto local = Audio(5000, {sdp::kPcmu});
  local.crypto_keys = {
      {"AES_CM_128_HMAC_SHA1_80", "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"}};
  auto answer = sdp::CreateAnswer(offer, Local({local}));
  REQUIRE(answer.ok());
  const auto& m = answer->media.at(0);
  CHECK(m.proto == "RTP/SAVP");
  auto cryptos = sdp::CryptoAttributes(m);
  REQUIRE(cryptos.size() == 1);
  CHECK(cryptos[0] ==
        sdp::Crypto{
            2, "AES_CM_128_HMAC_SHA1_80", "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", {}});

  SECTION("no key for any offered suite: the stream is rejected") {
    auto plain = Audio(5000, {sdp::kPcmu});
    CHECK_FALSE(sdp::CreateAnswer(offer, Local({plain})).ok());
  }
}

TEST_CASE("an offer built from local media answers itself", "[sdp]") {
  auto local = Audio(5000, {sdp::kOpus, sdp::kPcmu, sdp::kPcma});
  local.ptime = 20;
  auto offer_sd = sdp::CreateOffer(Local({local}));
  auto reparsed = sdp::Parse(sdp::Serialize(offer_sd));
  REQUIRE(reparsed.ok());
  CHECK(*reparsed == offer_sd);
  const auto& m = offer_sd.media.at(0);
  // opus at 48 kHz and G.711 at 8 kHz: one telephone-event per clock rate.
  CHECK(m.formats == std::vector<std::string>{"111", "0", "8", "101", "102"});
  CHECK(sdp::Ptime(m) == 20u);
  CHECK(sdp::RtcpMux(m));

  auto answer = sdp::CreateAnswer(*reparsed, Local({Audio(6000, {sdp::kPcma})}));
  REQUIRE(answer.ok());
  CHECK(answer->media.at(0).formats == std::vector<std::string>{"8", "101"});
}
