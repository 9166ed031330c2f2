// SRTP through libsrtp, checked against RFC 3711 Appendix B. libsrtp does not expose its
// derived keys or keystream, so the test recomputes both with OpenSSL from the RFC's own
// numbers (B.2 keystream, B.3 derivation), checks that recomputation against the RFC's printed
// values, and then requires libsrtp's protected packet to be exactly what those keys give.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "switchboard/rtp/rtcp.h"
#include "switchboard/rtp/rtp_packet.h"
#include "switchboard/rtp/sdes_crypto.h"
#include "switchboard/rtp/srtp_session.h"

using sb::rtp::CryptoSuite;
using sb::rtp::SrtpSession;
using Direction = SrtpSession::Direction;
using Bytes = std::vector<uint8_t>;

namespace {

Bytes Hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// AES-128 in counter mode as RFC 3711 §4.1.1 defines it: the 16-byte counter block `iv` with
// the block number added into its low 16 bits.
Bytes AesCmKeystream(const Bytes& key, Bytes iv, size_t length) {
  Bytes out;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key.data(), nullptr) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  for (uint32_t block = 0; out.size() < length; ++block) {
    Bytes counter = iv;
    const uint32_t low = ((counter[14] << 8) | counter[15]) + block;
    counter[14] = static_cast<uint8_t>(low >> 8);
    counter[15] = static_cast<uint8_t>(low);
    std::array<uint8_t, 32> enc{};
    int n = 0;
    REQUIRE(EVP_EncryptUpdate(ctx, enc.data(), &n, counter.data(), 16) == 1);
    out.insert(out.end(), enc.begin(), enc.begin() + 16);
  }
  EVP_CIPHER_CTX_free(ctx);
  out.resize(length);
  return out;
}

// §4.3.1 key derivation with key_derivation_rate 0: x = label << 48 XOR master_salt.
Bytes DeriveKey(const Bytes& master_key, const Bytes& master_salt, uint8_t label, size_t length) {
  Bytes iv(16, 0);
  for (size_t i = 0; i < 14; ++i) iv[i] = master_salt[i];
  iv[7] ^= label;
  return AesCmKeystream(master_key, iv, length);
}

const Bytes kMasterKey = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kMasterSalt = Hex("0EC675AD498AFEEBB6960B3AABE6");

Bytes MasterKeySalt() {
  Bytes k = kMasterKey;
  k.insert(k.end(), kMasterSalt.begin(), kMasterSalt.end());
  return k;
}

// libsrtp's reference packet: PT 15, seq 0x1234, ts 0xDECAFBAD, SSRC 0xCAFEBABE, 16 x 0xAB.
Bytes ReferencePacket() {
  Bytes p = Hex("800F1234DECAFBADCAFEBABE");
  p.insert(p.end(), 16, 0xAB);
  return p;
}

std::unique_ptr<SrtpSession> Session(Direction d, CryptoSuite suite, const Bytes& key) {
  auto s = SrtpSession::Create(d, suite, key);
  REQUIRE(s.ok());
  return std::move(*s);
}

Bytes Protect(SrtpSession& tx, const Bytes& plain) {
  Bytes buf = plain;
  buf.resize(plain.size() + sb::rtp::kSrtpMaxTrailer);
  auto n = tx.ProtectRtp(buf, plain.size());
  REQUIRE(n.ok());
  buf.resize(*n);
  return buf;
}

}  // namespace

TEST_CASE("RFC 3711 B.2: the AES-CM keystream of the appendix", "[unit]") {
  const auto ks = AesCmKeystream(Hex("2B7E151628AED2A6ABF7158809CF4F3C"),
                                 Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), 48);
  CHECK(ks == Hex("E03EAD0935C95E80E166B16DD92B4EB4"
                  "D23513162B02D0F72A43A2FE4A5F97AB"
                  "41E95B3BB0A2E8DD477901E4FCA894C0"));
}

TEST_CASE("RFC 3711 B.3: session keys derived from the appendix's master key", "[unit]") {
  CHECK(DeriveKey(kMasterKey, kMasterSalt, 0x00, 16) == Hex("C61E7A93744F39EE10734AFE3FF7A087"));
  CHECK(DeriveKey(kMasterKey, kMasterSalt, 0x02, 14) == Hex("30CBBC08863D8C85D49DB34A9AE1"));
  CHECK(DeriveKey(kMasterKey, kMasterSalt, 0x01, 20) ==
        Hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

TEST_CASE("libsrtp protects a known packet under the RFC key exactly as B.2/B.3 say", "[unit]") {
  const Bytes plain = ReferencePacket();
  auto tx = Session(Direction::kOutbound, CryptoSuite::kAesCm128HmacSha1_80, MasterKeySalt());
  const Bytes wire = Protect(*tx, plain);
  REQUIRE(wire.size() == plain.size() + 10);  // 80-bit tag

  // Expected: payload XOR keystream(session key, IV = salt ^ SSRC ^ index), then HMAC-SHA1
  // over header || ciphertext || ROC, truncated to 80 bits (§4.2).
  const Bytes session_key = DeriveKey(kMasterKey, kMasterSalt, 0x00, 16);
  const Bytes session_salt = DeriveKey(kMasterKey, kMasterSalt, 0x02, 14);
  const Bytes auth_key = DeriveKey(kMasterKey, kMasterSalt, 0x01, 20);
  Bytes iv(16, 0);
  for (size_t i = 0; i < 14; ++i) iv[i] = session_salt[i];
  for (size_t i = 0; i < 4; ++i) iv[4 + i] ^= plain[8 + i];  // SSRC
  iv[12] ^= 0x12;                                            // index = ROC 0 || seq 0x1234
  iv[13] ^= 0x34;
  const Bytes ks = AesCmKeystream(session_key, iv, 16);
  Bytes expected(plain.begin(), plain.begin() + 12);
  for (size_t i = 0; i < 16; ++i) expected.push_back(plain[12 + i] ^ ks[i]);
  // The same ciphertext libsrtp's own validation vector prints (srtp_driver.c).
  CHECK(Bytes(expected.begin() + 12, expected.end()) == Hex("4E55DC4CE79978D88CA4D215949D2402"));
  Bytes mac_input = expected;
  mac_input.insert(mac_input.end(), {0, 0, 0, 0});
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned mac_len = 0;
  HMAC(EVP_sha1(), auth_key.data(), static_cast<int>(auth_key.size()), mac_input.data(),
       mac_input.size(), mac.data(), &mac_len);
  expected.insert(expected.end(), mac.begin(), mac.begin() + 10);
  CHECK(wire == expected);

  auto rx = Session(Direction::kInbound, CryptoSuite::kAesCm128HmacSha1_80, MasterKeySalt());
  Bytes back = wire;
  auto n = rx->UnprotectRtp(back);
  REQUIRE(n.ok());
  back.resize(*n);
  CHECK(back == plain);
}

TEST_CASE("each SDES suite round-trips RTP and RTCP and rejects tampering and replay", "[unit]") {
  const auto suite = GENERATE(CryptoSuite::kAesCm128HmacSha1_80, CryptoSuite::kAesCm128HmacSha1_32,
                              CryptoSuite::kAeadAes128Gcm);
  DYNAMIC_SECTION(sb::rtp::CryptoSuiteName(suite)) {
    Bytes key(sb::rtp::KeySaltLength(suite));
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
    auto tx = Session(Direction::kOutbound, suite, key);
    auto rx = Session(Direction::kInbound, suite, key);

    const size_t expected_tag = suite == CryptoSuite::kAesCm128HmacSha1_80   ? 10
                                : suite == CryptoSuite::kAesCm128HmacSha1_32 ? 4
                                                                             : 16;
    for (uint16_t seq = 100; seq < 110; ++seq) {
      Bytes plain = ReferencePacket();
      plain[2] = static_cast<uint8_t>(seq >> 8);
      plain[3] = static_cast<uint8_t>(seq);
      const Bytes wire = Protect(*tx, plain);
      CHECK(wire.size() == plain.size() + expected_tag);
      CHECK(Bytes(wire.begin() + 12, wire.begin() + 28) != Bytes(plain.begin() + 12, plain.end()));
      Bytes copy = wire;
      auto n = rx->UnprotectRtp(copy);
      REQUIRE(n.ok());
      copy.resize(*n);
      CHECK(copy == plain);

      if (seq == 105) {
        // The same packet again: a replay, told apart from a forgery.
        Bytes again = wire;
        auto replay = rx->UnprotectRtp(again);
        CHECK(replay.status().code() == sb::StatusCode::kAlreadyExists);
        CHECK(sb::rtp::IsSrtpReplay(replay.status()));
      }
    }
    // A flipped payload bit and a flipped tag bit both fail authentication.
    Bytes plain = ReferencePacket();
    plain[3] = 200;
    Bytes wire = Protect(*tx, plain);
    Bytes bad_payload = wire;
    bad_payload[20] ^= 0x01;
    CHECK(sb::rtp::IsSrtpAuthFailure(rx->UnprotectRtp(bad_payload).status()));
    Bytes bad_tag = wire;
    bad_tag.back() ^= 0x80;
    CHECK(sb::rtp::IsSrtpAuthFailure(rx->UnprotectRtp(bad_tag).status()));
    // The genuine packet still passes after the forgeries were refused.
    CHECK(rx->UnprotectRtp(wire).ok());

    // SRTCP: an RR, protected and back, then replayed.
    std::array<uint8_t, 8 + 4 + sb::rtp::kSrtpMaxTrailer> rtcp{};
    sb::rtp::ReceiverReport rr;
    rr.ssrc = 0xCAFEBABE;
    sb::rtp::RtcpWriter w(rtcp);
    REQUIRE(w.AddReceiverReport(rr).ok());
    auto protected_len = tx->ProtectRtcp(rtcp, w.size());
    REQUIRE(protected_len.ok());
    Bytes srtcp(rtcp.begin(), rtcp.begin() + static_cast<ptrdiff_t>(*protected_len));
    Bytes first = srtcp;
    auto n = rx->UnprotectRtcp(first);
    REQUIRE(n.ok());
    CHECK(*n == 8);
    CHECK(first[1] == 201);
    Bytes replayed = srtcp;
    CHECK(sb::rtp::IsSrtpReplay(rx->UnprotectRtcp(replayed).status()));
  }
}

TEST_CASE("a receiver with another key authenticates nothing", "[unit]") {
  Bytes other = MasterKeySalt();
  other[0] ^= 1;
  auto tx = Session(Direction::kOutbound, CryptoSuite::kAesCm128HmacSha1_80, MasterKeySalt());
  auto rx = Session(Direction::kInbound, CryptoSuite::kAesCm128HmacSha1_80, other);
  Bytes wire = Protect(*tx, ReferencePacket());
  CHECK(rx->UnprotectRtp(wire).status().code() == sb::StatusCode::kUnauthenticated);
}

TEST_CASE("SRTP refuses buffers without trailer room, runts and keys of the wrong size", "[unit]") {
  auto tx = Session(Direction::kOutbound, CryptoSuite::kAesCm128HmacSha1_80, MasterKeySalt());
  Bytes tight = ReferencePacket();
  CHECK(tx->ProtectRtp(tight, tight.size()).status().code() == sb::StatusCode::kResourceExhausted);
  auto rx = Session(Direction::kInbound, CryptoSuite::kAesCm128HmacSha1_80, MasterKeySalt());
  Bytes runt = {0x80, 0x00, 0x00};
  CHECK(rx->UnprotectRtp(runt).status().code() == sb::StatusCode::kInvalidArgument);
  CHECK(rx->ProtectRtp(tight, 4).status().code() == sb::StatusCode::kFailedPrecondition);
  Bytes short_key(16);
  CHECK(SrtpSession::Create(Direction::kInbound, CryptoSuite::kAeadAes128Gcm, short_key)
            .status()
            .field() == "key_salt");
}
