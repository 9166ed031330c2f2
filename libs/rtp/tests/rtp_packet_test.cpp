#include "switchboard/rtp/rtp_packet.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

using sb::rtp::BuildRtp;
using sb::rtp::ParseRtp;
using sb::rtp::RtpHeader;

TEST_CASE("an RTP packet from the wire parses into its header fields and payload", "[unit]") {
  // V=2, no P/X, CC=0, M=1, PT=0 (PCMU), seq 0x1234, ts 0xDECAFBAD, SSRC 0xCAFEBABE, 4 bytes.
  const std::vector<uint8_t> wire = {0x80, 0x80, 0x12, 0x34, 0xDE, 0xCA, 0xFB, 0xAD,
                                     0xCA, 0xFE, 0xBA, 0xBE, 0xFF, 0x7F, 0x00, 0x80};
  auto p = ParseRtp(wire);
  REQUIRE(p.ok());
  CHECK(p->header.marker);
  CHECK(p->header.payload_type == 0);
  CHECK(p->header.sequence == 0x1234);
  CHECK(p->header.timestamp == 0xDECAFBAD);
  CHECK(p->header.ssrc == 0xCAFEBABE);
  CHECK(p->header_size == 12);
  CHECK(std::vector<uint8_t>(p->payload.begin(), p->payload.end()) ==
        std::vector<uint8_t>{0xFF, 0x7F, 0x00, 0x80});
}

TEST_CASE("CSRCs, a header extension and padding survive a build/parse round trip", "[unit]") {
  const std::array<uint8_t, 8> ext = {0x10, 0xAA, 0x00, 0x00, 0x21, 0xBB, 0xCC, 0x00};
  RtpHeader h;
  h.marker = false;
  h.payload_type = 111;
  h.sequence = 65535;
  h.timestamp = 0xFFFFFF00;
  h.ssrc = 42;
  h.csrc_count = 2;
  h.csrc[0] = 7;
  h.csrc[1] = 8;
  h.has_extension = true;
  h.extension_profile = 0xBEDE;  // RFC 8285 one-byte header extensions
  h.extension = ext;
  const std::array<uint8_t, 5> payload = {1, 2, 3, 4, 5};
  std::array<uint8_t, 128> buf{};
  auto len = BuildRtp(h, payload, buf, /*padding=*/3);
  REQUIRE(len.ok());
  CHECK(*len == 12 + 8 + 4 + 8 + 5 + 3);
  CHECK(buf[0] == 0xB2);  // V=2, P, X, CC=2
  CHECK(buf[*len - 1] == 3);

  auto p = ParseRtp(std::span(buf).first(*len));
  REQUIRE(p.ok());
  CHECK(p->header.payload_type == 111);
  CHECK(p->header.sequence == 65535);
  CHECK(p->header.csrc_count == 2);
  CHECK(p->header.csrc[1] == 8);
  CHECK(p->header.extension_profile == 0xBEDE);
  CHECK(std::equal(p->header.extension.begin(), p->header.extension.end(), ext.begin()));
  CHECK(p->padding == 3);
  CHECK(std::equal(p->payload.begin(), p->payload.end(), payload.begin(), payload.end()));
}

TEST_CASE("malformed RTP is rejected without reading past the datagram", "[unit]") {
  const std::vector<uint8_t> good = {0x80, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xFF};
  REQUIRE(ParseRtp(good).ok());
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
  };
  const Case cases[] = {
      {"shorter than the fixed header", {0x80, 0x00, 0, 1}},
      {"version 1", {0x40, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9}},
      {"CSRC count beyond the end", {0x83, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0, 0, 0, 1}},
      {"extension header cut", {0x90, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xBE, 0xDE}},
      {"extension length beyond the end",
       {0x90, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xBE, 0xDE, 0, 2, 0, 0, 0, 0}},
      {"padding count zero", {0xA0, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 1, 0}},
      {"padding longer than the payload", {0xA0, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 1, 9}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto p = ParseRtp(c.bytes);
    CHECK_FALSE(p.ok());
    CHECK(p.status().code() == sb::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("RTP and RTCP sharing a port are told apart by the packet type (RFC 5761)", "[unit]") {
  std::vector<uint8_t> rtp = {0x80, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9};
  CHECK(sb::rtp::LooksLikeRtp(rtp));
  rtp[1] = 0x80 | 111;  // marker + PT 111
  CHECK(sb::rtp::LooksLikeRtp(rtp));
  rtp[1] = 200;  // an SR
  CHECK_FALSE(sb::rtp::LooksLikeRtp(rtp));
  rtp[1] = 201;
  CHECK_FALSE(sb::rtp::LooksLikeRtp(rtp));
}

TEST_CASE("building refuses a buffer too small or fields out of range", "[unit]") {
  RtpHeader h;
  std::array<uint8_t, 100> payload{};
  std::array<uint8_t, 111> small{};
  CHECK(BuildRtp(h, payload, small).status().code() == sb::StatusCode::kResourceExhausted);
  std::array<uint8_t, 200> buf{};
  h.payload_type = 128;
  CHECK(BuildRtp(h, payload, buf).status().field() == "payload_type");
}
