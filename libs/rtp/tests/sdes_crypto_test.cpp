#include "switchboard/rtp/sdes_crypto.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace sb::rtp;

TEST_CASE("the RFC 4568 example crypto attribute parses with lifetime and MKI", "[unit]") {
  // RFC 4568 §4 example.
  auto c = ParseCryptoAttribute(
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
      "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
  REQUIRE(c.ok());
  CHECK(c->tag == 1);
  CHECK(c->suite == CryptoSuite::kAesCm128HmacSha1_80);
  CHECK(c->key().size() == 30);
  // base64 "PS1u" = 0x3D 0x2D 0x6E
  CHECK(c->key()[0] == 0x3D);
  CHECK(c->key()[1] == 0x2D);
  CHECK(c->key()[2] == 0x6E);
  CHECK(c->lifetime == (1u << 20));
  CHECK(c->mki_value == 1);
  CHECK(c->mki_length == 32);
  CHECK(FormatCryptoAttribute(*c) ==
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
  CHECK(FormatKeyParams(*c) == "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
}

TEST_CASE("our own crypto line round-trips for every suite", "[unit]") {
  for (auto suite : {CryptoSuite::kAesCm128HmacSha1_80, CryptoSuite::kAesCm128HmacSha1_32,
                     CryptoSuite::kAeadAes128Gcm}) {
    std::vector<uint8_t> key(KeySaltLength(suite));
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(255 - i * 3);
    auto made = MakeCrypto(7, suite, key);
    REQUIRE(made.ok());
    const std::string line = FormatCryptoAttribute(*made);
    INFO(line);
    auto back = ParseCryptoAttribute(line);
    REQUIRE(back.ok());
    CHECK(back->tag == 7);
    CHECK(back->suite == suite);
    CHECK(std::vector<uint8_t>(back->key().begin(), back->key().end()) == key);
    CHECK(back->lifetime == 0);
    CHECK(back->mki_length == 0);
  }
  CHECK(KeySaltLength(CryptoSuite::kAeadAes128Gcm) == 28);
}

TEST_CASE("session parameters are kept, unsupported or broken lines are refused", "[unit]") {
  auto c = ParseCryptoAttribute(
      "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31 "
      "UNENCRYPTED_SRTCP");
  REQUIRE(c.ok());
  CHECK(c->lifetime == (1ull << 31));
  CHECK(c->session_params == "UNENCRYPTED_SRTCP");

  struct Case {
    const char* line;
    const char* field;
  };
  const Case bad[] = {
      {"1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", "crypto-suite"},
      {"x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", "tag"},
      {"1 AES_CM_128_HMAC_SHA1_80 uri:http://x", "key-params"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkp", "key-params"},  // 15 bytes
      {"1 AEAD_AES_128_GCM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", "key-params"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx!VBR", "key-params"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^x",
       "key-params"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0",
       "key-params"},
  };
  for (const auto& b : bad) {
    INFO(b.line);
    auto r = ParseCryptoAttribute(b.line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().field() == b.field);
  }
}
