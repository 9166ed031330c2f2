// SDP parsing and serialization (RFC 4566), from the RFC's own example and from what phones send.
#include <catch2/catch.hpp>
#include <string>

#include "switchboard/sip/sdp.h"

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

// RFC 4566 §5, the example session description.
constexpr std::string_view kRfc4566Example =
    "v=0\n"
    "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\n"
    "s=SDP Seminar\n"
    "i=A Seminar on the session description protocol\n"
    "u=http://www.example.com/seminars/sdp.pdf\n"
    "e=j.doe@example.com (Jane Doe)\n"
    "c=IN IP4 224.2.17.12/127\n"
    "t=2873397496 2873404696\n"
    "a=recvonly\n"
    "m=audio 49170 RTP/AVP 0\n"
    "m=video 51372 RTP/AVP 99\n"
    "a=rtpmap:99 h263-1998/90000\n";

// A WebRTC-style offer: ICE, DTLS and attributes this library does not interpret.
constexpr std::string_view kWebRtcOffer =
    "v=0\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0\n"
    "a=msid-semantic: WMS\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 101\n"
    "c=IN IP4 0.0.0.0\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=ice-ufrag:8hhY\n"
    "a=ice-pwd:asd88fgpdd777uzjYhagZg\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 "
    "19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:"
    "A2\n"
    "a=setup:actpass\n"
    "a=mid:0\n"
    "a=sendrecv\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 54400 typ host generation 0\n"
    "a=x-unknown-vendor-thing\n"
    "a=ptime:20\n";

}  // namespace

TEST_CASE("RFC 4566 §5 example parses into its fields", "[sdp]") {
  auto sd = sdp::Parse(Crlf(kRfc4566Example));
  REQUIRE(sd.ok());
  CHECK(sd->version == 0);
  CHECK(sd->origin == sdp::Origin{"jdoe", "2890844526", "2890842807", "IN", "IP4", "10.47.16.5"});
  CHECK(sd->session_name == "SDP Seminar");
  CHECK(sd->information == "A Seminar on the session description protocol");
  CHECK(sd->uri == "http://www.example.com/seminars/sdp.pdf");
  REQUIRE(sd->emails.size() == 1);
  CHECK(sd->emails[0] == "j.doe@example.com (Jane Doe)");
  REQUIRE(sd->connection);
  CHECK(sd->connection->address == "224.2.17.12/127");
  REQUIRE(sd->timings.size() == 1);
  CHECK(sd->timings[0].start == 2873397496u);
  CHECK(sd->timings[0].stop == 2873404696u);
  REQUIRE(sd->media.size() == 2);
  CHECK(sd->media[0].media == "audio");
  CHECK(sd->media[0].port == 49170);
  CHECK(sd->media[0].proto == "RTP/AVP");
  CHECK(sd->media[0].formats == std::vector<std::string>{"0"});
  // Session-level recvonly applies to both streams (RFC 3264 §5.1).
  CHECK(sdp::GetDirection(*sd, sd->media[0]) == sdp::Direction::kRecvOnly);
  CHECK(sdp::GetDirection(*sd, sd->media[1]) == sdp::Direction::kRecvOnly);
  auto audio = sdp::Codecs(sd->media[0]);
  REQUIRE(audio.size() == 1);
  CHECK(audio[0].encoding == "PCMU");  // static payload type 0, no rtpmap (RFC 3551)
  CHECK(audio[0].clock_rate == 8000);
  auto video = sdp::Codecs(sd->media[1]);
  REQUIRE(video.size() == 1);
  CHECK(video[0].payload_type == 99);
  CHECK(video[0].encoding == "h263-1998");
  CHECK(video[0].clock_rate == 90000);
}

TEST_CASE("serialize gives back the RFC 4566 example byte for byte", "[sdp]") {
  std::string text = Crlf(kRfc4566Example);
  auto sd = sdp::Parse(text);
  REQUIRE(sd.ok());
  CHECK(sdp::Serialize(*sd) == text);
}

TEST_CASE("bare LF line ends are accepted and CRLF is written", "[sdp]") {
  auto sd = sdp::Parse(kRfc4566Example);
  REQUIRE(sd.ok());
  CHECK(sdp::Serialize(*sd) == Crlf(kRfc4566Example));
}

TEST_CASE("ICE DTLS and unknown attributes survive a round trip verbatim", "[sdp]") {
  std::string text = Crlf(kWebRtcOffer);
  auto sd = sdp::Parse(text);
  REQUIRE(sd.ok());
  CHECK(sdp::Serialize(*sd) == text);
  const auto& m = sd->media.at(0);
  CHECK(m.proto == "UDP/TLS/RTP/SAVPF");
  REQUIRE(m.Find("ice-ufrag"));
  CHECK(m.Find("ice-ufrag")->value == "8hhY");
  REQUIRE(m.Find("fingerprint"));
  CHECK(m.Find("fingerprint")->value->rfind("sha-256 19:E2:", 0) == 0);
  CHECK(m.Find("setup")->value == "actpass");
  REQUIRE(m.Find("x-unknown-vendor-thing"));
  CHECK_FALSE(m.Find("x-unknown-vendor-thing")->value);
  REQUIRE(sd->Find("msid-semantic"));
  CHECK(sd->Find("msid-semantic")->value == " WMS");
  CHECK(sdp::RtcpMux(m));
  CHECK(sdp::Ptime(m) == 20u);
  auto codecs = sdp::Codecs(m);
  REQUIRE(codecs.size() == 4);
  CHECK(codecs[0] == sdp::Codec{111, "opus", 48000, 2, std::string("minptime=10;useinbandfec=1")});
  CHECK(codecs[1] == sdp::Codec{0, "PCMU", 8000, 1, std::nullopt});
  CHECK(codecs[2] == sdp::Codec{8, "PCMA", 8000, 1, std::nullopt});
  CHECK(codecs[3] == sdp::Codec{101, "telephone-event", 8000, 1, std::nullopt});
  CHECK(sdp::MediaConnection(*sd, m)->address == "0.0.0.0");
}

TEST_CASE("direction attributes and hold", "[sdp]") {
  struct Case {
    const char* attribute;
    sdp::Direction direction;
    bool on_hold;
  };
  auto c = GENERATE(Case{"", sdp::Direction::kSendRecv, false},
                    Case{"a=sendrecv\n", sdp::Direction::kSendRecv, false},
                    Case{"a=sendonly\n", sdp::Direction::kSendOnly, true},
                    Case{"a=recvonly\n", sdp::Direction::kRecvOnly, false},
                    Case{"a=inactive\n", sdp::Direction::kInactive, true});
  std::string text =
      std::string("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n") +
      "m=audio 4000 RTP/AVP 0\n" + c.attribute;
  auto sd = sdp::Parse(text);
  REQUIRE(sd.ok());
  CHECK(sdp::GetDirection(*sd, sd->media[0]) == c.direction);
  CHECK(sdp::IsOnHold(*sd, sd->media[0]) == c.on_hold);
}

TEST_CASE("RFC 2543 hold: connection address 0.0.0.0", "[sdp]") {
  auto sd = sdp::Parse(
      "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\n"
      "m=audio 4000 RTP/AVP 0\n");
  REQUIRE(sd.ok());
  CHECK(sdp::GetDirection(*sd, sd->media[0]) == sdp::Direction::kSendRecv);
  CHECK(sdp::IsOnHold(*sd, sd->media[0]));
}

TEST_CASE("a=crypto (RFC 4568 §9.1) parses and formats", "[sdp]") {
  // RFC 4568 §8.1's offer line.
  auto c = sdp::ParseCrypto(
      "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
  REQUIRE(c.ok());
  CHECK(c->tag == 1);
  CHECK(c->suite == "AES_CM_128_HMAC_SHA1_80");
  CHECK(c->key_params == "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
  CHECK(c->session_params.empty());
  CHECK(sdp::FormatCrypto(*c) ==
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");

  auto with_params =
      sdp::ParseCrypto("2 AES_CM_128_HMAC_SHA1_32 inline:abc KDR=1 UNENCRYPTED_SRTCP");
  REQUIRE(with_params.ok());
  CHECK(with_params->session_params == std::vector<std::string>{"KDR=1", "UNENCRYPTED_SRTCP"});

  CHECK_FALSE(sdp::ParseCrypto("x AES_CM_128_HMAC_SHA1_80 inline:abc").ok());
  CHECK_FALSE(sdp::ParseCrypto("1 AES_CM_128_HMAC_SHA1_80").ok());
  CHECK_FALSE(sdp::ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 key:abc").ok());
  CHECK_FALSE(sdp::ParseCrypto("1234567890 AES_CM_128_HMAC_SHA1_80 inline:abc").ok());
}

TEST_CASE("malformed descriptions are refused with a reason", "[sdp]") {
  constexpr std::string_view kHead = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n";
  struct Case {
    std::string text;
    const char* why;
  };
  auto c = GENERATE_COPY(
      Case{"", "empty"}, Case{"o=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n", "no v= first"},
      Case{"v=1\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n", "version 1"},
      Case{"v=0\ns=-\nt=0 0\n", "no o="}, Case{"v=0\no=- 1 1 IN IP4 127.0.0.1\nt=0 0\n", "no s="},
      Case{"v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\n", "no t="},
      Case{"v=0\no=- 1 1 IN IP4\ns=-\nt=0 0\n", "short o="},
      Case{std::string(kHead) + "x=unknown\n", "unknown type letter"},
      Case{std::string(kHead) + "m=audio 70000 RTP/AVP 0\n", "port out of range"},
      Case{std::string(kHead) + "m=audio 4000 RTP/AVP\n", "no format"},
      Case{std::string(kHead) + "m=audio x RTP/AVP 0\n", "port not a number"},
      Case{std::string(kHead) + "m=audio 4000/0 RTP/AVP 0\n", "port count 0"},
      Case{std::string(kHead) + "m=audio 4000 RTP/AVP 0\nu=http://x\n", "u= in media"},
      Case{std::string(kHead) + "c=IN IP4\n", "short c="},
      Case{std::string(kHead) + "b=AS\n", "b= without value"},
      Case{std::string(kHead) + "b=AS:-1\n", "negative bandwidth"},
      Case{"v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0\n", "short t="},
      Case{"v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nr=7d 1h 0 25h\nt=0 0\n", "r= before t="},
      Case{std::string(kHead) + "\na=x\n", "empty line in the middle"},
      Case{std::string(kHead) + "a=x\x01y\n", "control character"},
      Case{std::string(kHead) + "a\n", "no ="},
      Case{"v=0\nv=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n", "repeated v="},
      Case{std::string(kHead) + "c=IN IP4 1.2.3.4\nc=IN IP4 1.2.3.5\n", "two session c="},
      Case{std::string(kHead) + std::string(sdp::kMaxSdpSize, 'a'), "too large"});
  DYNAMIC_SECTION(c.why) {
    auto sd = sdp::Parse(c.text);
    CHECK_FALSE(sd.ok());
    CHECK(sd.status().code() == sb::StatusCode::kInvalidArgument);
    CHECK_FALSE(sd.status().message().empty());
  }
}

TEST_CASE("repeat times zones and keys are kept", "[sdp]") {
  // RFC 4566 §5.10's repeat example, §5.11's zone example.
  std::string text = Crlf(
      "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=3034423619 3042462419\nr=604800 3600 0 90000\n"
      "r=7d 1h 0 25h\nz=2882844526 -1h 2898848070 0\nk=prompt\nm=audio 4000/2 RTP/AVP 0\n"
      "i=the audio\nc=IN IP4 127.0.0.1\nc=IN IP4 127.0.0.2\nb=AS:64\nk=clear:secret\n");
  auto sd = sdp::Parse(text);
  REQUIRE(sd.ok());
  REQUIRE(sd->timings.size() == 1);
  CHECK(sd->timings[0].repeats == std::vector<std::string>{"604800 3600 0 90000", "7d 1h 0 25h"});
  CHECK(sd->zone == "2882844526 -1h 2898848070 0");
  CHECK(sd->key == "prompt");
  const auto& m = sd->media.at(0);
  CHECK(m.port_count == 2u);
  CHECK(m.title == "the audio");
  CHECK(m.connections.size() == 2);
  CHECK(m.bandwidths == std::vector<sdp::Bandwidth>{{"AS", 64}});
  CHECK(m.key == "clear:secret");
  CHECK(sdp::Serialize(*sd) == text);
}

TEST_CASE("AddCodec writes rtpmap and fmtp that Codecs reads back", "[sdp]") {
  sdp::MediaDescription m;
  m.media = "audio";
  m.port = 4000;
  m.proto = "RTP/AVP";
  sdp::Codec opus{111, "opus", 48000, 2, std::string("useinbandfec=1")};
  sdp::Codec te{101, "telephone-event", 8000, 1, std::string("0-16")};
  sdp::AddCodec(m, opus);
  sdp::AddCodec(m, te);
  CHECK(m.formats == std::vector<std::string>{"111", "101"});
  CHECK(sdp::Codecs(m) == std::vector<sdp::Codec>{opus, te});
  CHECK(m.attributes.at(0) == sdp::Attribute{"rtpmap", std::string("111 opus/48000/2")});
}
