// The digest server: nonces that expire, whose counts cannot be replayed and that only their
// issuer accepts; verification from a stored HA1. Time is a FakeClock.
#include "switchboard/sip/digest_server.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/sip/digest.h"

using sb::sip::DigestAlgorithm;
using sb::sip::DigestVerdict;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kRealm = "acme.sip.example";
constexpr std::string_view kUri = "sip:acme.sip.example";

struct Fixture {
  sb::core::FakeClock clock;
  sb::core::SeededRandom random{7};
  sb::sip::DigestServerOptions options = [] {
    sb::sip::DigestServerOptions o;
    o.secret = "0123456789abcdef-shared-secret";
    o.nonce_lifetime = 300s;
    return o;
  }();
  sb::sip::DigestServer server{clock, random, options};

  std::string Ha1(DigestAlgorithm a, std::string_view password = "s3cret") {
    return sb::sip::ComputeHa1(a, "1001", kRealm, password);
  }
  sb::sip::DigestCredentials Answer(const sb::sip::DigestChallenge& c, uint32_t nc,
                                    std::string_view password = "s3cret",
                                    std::string_view body = "") {
    auto a = sb::sip::AnswerChallenge(c, {"1001", std::string(password), ""}, "REGISTER", kUri,
                                      body, "cnonce-1", nc);
    REQUIRE(a.ok());
    return *a;
  }
  DigestVerdict Verify(const sb::sip::DigestCredentials& c, DigestAlgorithm a,
                       std::string_view body = "") {
    return server.Verify(c, kRealm, "REGISTER", kUri, body, Ha1(sb::sip::BaseAlgorithm(a)));
  }
};

}  // namespace

TEST_CASE("a client answering our challenge with the right password is accepted", "[digest]") {
  Fixture f;
  auto algorithm =
      GENERATE(DigestAlgorithm::kMd5, DigestAlgorithm::kSha256, DigestAlgorithm::kMd5Sess,
               DigestAlgorithm::kSha256Sess, DigestAlgorithm::kSha512_256);
  CAPTURE(sb::sip::AlgorithmName(algorithm));
  auto challenge = f.server.Challenge(kRealm, algorithm);
  // What goes on the wire parses back into the same challenge.
  auto parsed = sb::sip::ParseChallenge(sb::sip::FormatChallenge(challenge));
  REQUIRE(parsed.ok());
  CHECK(parsed->nonce == challenge.nonce);
  auto credentials = sb::sip::ParseCredentials(sb::sip::FormatCredentials(f.Answer(*parsed, 1)));
  REQUIRE(credentials.ok());
  CHECK(f.Verify(*credentials, algorithm) == DigestVerdict::kOk);
}

TEST_CASE("a wrong password is refused and does not spend the nonce count", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kSha256);
  CHECK(f.Verify(f.Answer(challenge, 1, "guess"), DigestAlgorithm::kSha256) ==
        DigestVerdict::kWrongResponse);
  CHECK(f.Verify(f.Answer(challenge, 1), DigestAlgorithm::kSha256) == DigestVerdict::kOk);
}

TEST_CASE("a replayed nonce count is refused as stale - a higher count is accepted", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kMd5);
  auto first = f.Answer(challenge, 1);
  CHECK(f.Verify(first, DigestAlgorithm::kMd5) == DigestVerdict::kOk);
  CHECK(f.Verify(first, DigestAlgorithm::kMd5) == DigestVerdict::kStale);  // replay
  CHECK(f.Verify(f.Answer(challenge, 2), DigestAlgorithm::kMd5) == DigestVerdict::kOk);
  CHECK(f.Verify(f.Answer(challenge, 2), DigestAlgorithm::kMd5) == DigestVerdict::kStale);
  CHECK(f.Verify(f.Answer(challenge, 5), DigestAlgorithm::kMd5) == DigestVerdict::kOk);
  CHECK(f.Verify(f.Answer(challenge, 4), DigestAlgorithm::kMd5) == DigestVerdict::kStale);
}

TEST_CASE("a nonce expires after its lifetime then only earns a stale re-challenge", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kMd5);
  f.clock.Advance(299s);
  CHECK(f.Verify(f.Answer(challenge, 1), DigestAlgorithm::kMd5) == DigestVerdict::kOk);
  f.clock.Advance(2s);
  CHECK(f.Verify(f.Answer(challenge, 2), DigestAlgorithm::kMd5) == DigestVerdict::kStale);
  // An expired nonce with the wrong password is just wrong (stale is only for right ones).
  CHECK(f.Verify(f.Answer(challenge, 3, "guess"), DigestAlgorithm::kMd5) ==
        DigestVerdict::kWrongResponse);
  auto again = f.server.Challenge(kRealm, DigestAlgorithm::kMd5, /*stale=*/true);
  CHECK(sb::sip::FormatChallenge(again).find("stale=TRUE") != std::string::npos);
  CHECK(f.Verify(f.Answer(again, 1), DigestAlgorithm::kMd5) == DigestVerdict::kOk);
}

TEST_CASE("only the issuer accepts a nonce - another replica or a restart re-challenges stale",
          "[digest]") {
  Fixture a;
  auto challenge = a.server.Challenge(kRealm, DigestAlgorithm::kSha256);
  const std::string ha1 = a.Ha1(DigestAlgorithm::kSha256);
  // Same secret and clock: a replica beside it, or this one started again (a new issuer draw).
  sb::core::SeededRandom other_random(99);
  sb::sip::DigestServer replica(a.clock, other_random, a.options);
  CHECK(replica.Verify(a.Answer(challenge, 1), kRealm, "REGISTER", kUri, "", ha1) ==
        DigestVerdict::kStale);
  // It has no count to check against, so it never accepts, not even a first count...
  CHECK(replica.Verify(a.Answer(challenge, 2), kRealm, "REGISTER", kUri, "", ha1) ==
        DigestVerdict::kStale);
  // ... and a wrong password is still wrong there (stale is for right answers only).
  CHECK(replica.Verify(a.Answer(challenge, 3, "guess"), kRealm, "REGISTER", kUri, "", ha1) ==
        DigestVerdict::kWrongResponse);
  // The issuer still has the nonce, counts unspent by the replica's refusals.
  CHECK(a.Verify(a.Answer(challenge, 1), DigestAlgorithm::kSha256) == DigestVerdict::kOk);
  // The replica's own nonce is good there.
  auto own = replica.Challenge(kRealm, DigestAlgorithm::kSha256);
  CHECK(replica.Verify(a.Answer(own, 1), kRealm, "REGISTER", kUri, "", ha1) == DigestVerdict::kOk);
}

TEST_CASE("a nonce pushed out of the ledger by newer ones earns a stale re-challenge", "[digest]") {
  Fixture f;
  f.options.nonce_slots = 4;
  sb::sip::DigestServer server(f.clock, f.random, f.options);
  const std::string ha1 = f.Ha1(DigestAlgorithm::kMd5);
  auto old = server.Challenge(kRealm, DigestAlgorithm::kMd5);
  CHECK(server.Verify(f.Answer(old, 1), kRealm, "REGISTER", kUri, "", ha1) == DigestVerdict::kOk);
  for (int i = 0; i < 4; ++i) server.MakeNonce(kRealm);
  CHECK(server.Verify(f.Answer(old, 2), kRealm, "REGISTER", kUri, "", ha1) ==
        DigestVerdict::kStale);
}

TEST_CASE("nonces not made by us are refused", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kMd5);
  SECTION("another secret") {
    auto options = f.options;
    options.secret = "a-different-secret-of-16+";
    sb::sip::DigestServer stranger(f.clock, f.random, options);
    auto foreign = stranger.Challenge(kRealm, DigestAlgorithm::kMd5);
    CHECK(f.Verify(f.Answer(foreign, 1), DigestAlgorithm::kMd5) == DigestVerdict::kBadNonce);
  }
  SECTION("a tampered nonce") {
    auto tampered = challenge;
    tampered.nonce[3] = tampered.nonce[3] == 'A' ? 'B' : 'A';
    CHECK(f.Verify(f.Answer(tampered, 1), DigestAlgorithm::kMd5) == DigestVerdict::kBadNonce);
  }
  SECTION("a truncated or non-base64 nonce") {
    for (std::string nonce : {challenge.nonce.substr(0, 20), std::string("dcd98b7102dd2f0e8b11"),
                              std::string("!!!!"), std::string()}) {
      auto bad = challenge;
      bad.nonce = nonce;
      CHECK(f.Verify(f.Answer(bad, 1), DigestAlgorithm::kMd5) == DigestVerdict::kBadNonce);
    }
  }
  SECTION("a nonce issued for another realm") {
    auto other = f.server.Challenge("other.sip.example", DigestAlgorithm::kMd5);
    auto c = f.Answer(challenge, 1);
    c.nonce = other.nonce;
    CHECK(f.Verify(c, DigestAlgorithm::kMd5) == DigestVerdict::kBadNonce);
  }
  SECTION("a nonce from the future") {
    sb::core::FakeClock later;
    later.Advance(60s);
    sb::sip::DigestServer ahead(later, f.random, f.options);
    auto future = ahead.Challenge(kRealm, DigestAlgorithm::kMd5);
    CHECK(f.Verify(f.Answer(future, 1), DigestAlgorithm::kMd5) == DigestVerdict::kBadNonce);
  }
}

TEST_CASE("credentials that do not fit the request are refused", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kMd5);
  auto good = f.Answer(challenge, 1);
  auto verify = [&](const sb::sip::DigestCredentials& c, std::string_view uri = kUri) {
    return f.server.Verify(c, kRealm, "REGISTER", uri, "", f.Ha1(DigestAlgorithm::kMd5));
  };
  auto c = good;
  c.realm = "other";
  CHECK(verify(c) == DigestVerdict::kWrongRealm);
  CHECK(verify(good, "sip:elsewhere.example") == DigestVerdict::kWrongUri);
  c = good;
  c.algorithm = "SHA-1";
  CHECK(verify(c) == DigestVerdict::kUnsupported);
  c = good;
  c.qop = "auth-conf";
  CHECK(verify(c) == DigestVerdict::kUnsupported);
  c = good;
  c.nc.emplace("1");  // not `= "1"`: GCC 12 warns (-Wrestrict) on that inlined assignment
  CHECK(verify(c) == DigestVerdict::kMalformed);
  c = good;
  c.nc = "0000000g";
  CHECK(verify(c) == DigestVerdict::kMalformed);
  c = good;
  c.nc = "00000000";
  CHECK(verify(c) == DigestVerdict::kMalformed);
  c = good;
  c.cnonce.reset();
  CHECK(verify(c) == DigestVerdict::kMalformed);
  c = good;
  c.response[0] = c.response[0] == 'a' ? 'b' : 'a';
  CHECK(verify(c) == DigestVerdict::kWrongResponse);
  c = good;
  for (char& ch : c.response) ch = static_cast<char>(std::toupper(ch));
  CHECK(verify(c) == DigestVerdict::kOk);  // hex digits in either case
}

TEST_CASE("auth-int covers the body", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kSha256);
  challenge.qop = {sb::sip::Qop::kAuthInt};
  auto c = f.Answer(challenge, 1, "s3cret", "v=0\r\n");
  CHECK(c.qop == "auth-int");
  CHECK(f.Verify(c, DigestAlgorithm::kSha256, "v=1\r\n") == DigestVerdict::kWrongResponse);
  CHECK(f.Verify(c, DigestAlgorithm::kSha256, "v=0\r\n") == DigestVerdict::kOk);
}

TEST_CASE("RFC 2069 clients without qop get one request per nonce", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kMd5);
  challenge.qop.clear();
  auto c = f.Answer(challenge, 1);
  CHECK(f.Verify(c, DigestAlgorithm::kMd5) == DigestVerdict::kOk);
  CHECK(f.Verify(c, DigestAlgorithm::kMd5) == DigestVerdict::kStale);

  f.options.allow_no_qop = false;
  sb::sip::DigestServer strict(f.clock, f.random, f.options);
  auto fresh = strict.Challenge(kRealm, DigestAlgorithm::kMd5);
  fresh.qop.clear();
  CHECK(strict.Verify(f.Answer(fresh, 1), kRealm, "REGISTER", kUri, "",
                      f.Ha1(DigestAlgorithm::kMd5)) == DigestVerdict::kUnsupported);
}

TEST_CASE("nonces are distinct and quote-safe", "[digest]") {
  Fixture f;
  std::string a = f.server.MakeNonce(kRealm);
  std::string b = f.server.MakeNonce(kRealm);
  CHECK(a != b);
  CHECK(a.size() == 43);  // 32 bytes in unpadded base64url
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
}

TEST_CASE("a nonce is its time, issuer and serial tagged with HMAC-SHA256 of them and the realm",
          "[digest]") {
  // The layout, checked against OpenSSL's HMAC: every replica tells a nonce of another one (stale)
  // from a forged one by this tag.
  auto decode = [](std::string_view in) {
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::vector<uint8_t> out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
      acc = (acc << 6) | static_cast<uint32_t>(alphabet.find(c));
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
      }
    }
    return out;
  };
  for (std::string secret :
       {std::string("0123456789abcdef-shared-secret"), std::string(100, 'k')}) {
    Fixture f;
    f.options.secret = secret;  // longer than SHA-256's block: HMAC hashes the key first
    sb::sip::DigestServer server(f.clock, f.random, f.options);
    std::vector<uint8_t> nonce = decode(server.MakeNonce(kRealm));
    REQUIRE(nonce.size() == 32);
    uint64_t ms = 0;
    for (size_t i = 0; i < 6; ++i) ms = (ms << 8) | nonce[i];
    CHECK(std::chrono::milliseconds(ms) == std::chrono::duration_cast<std::chrono::milliseconds>(
                                               f.clock.WallNow().time_since_epoch()));
    std::vector<uint8_t> next = decode(server.MakeNonce(kRealm));
    REQUIRE(next.size() == 32);
    CHECK(std::equal(nonce.begin() + 6, nonce.begin() + 12, next.begin() + 6));  // one issuer
    CHECK(next[15] == static_cast<uint8_t>(nonce[15] + 1));                      // next serial
    std::string data(nonce.begin(), nonce.begin() + 16);
    data += kRealm;
    std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
    CHECK(std::vector<uint8_t>(nonce.begin() + 16, nonce.end()) ==
          std::vector<uint8_t>(mac.begin(), mac.begin() + 16));
  }
}

TEST_CASE("RFC 7616 userhash: the client hides its name and the server still verifies",
          "[digest]") {
  Fixture f;
  f.options.userhash = true;
  sb::sip::DigestServer server{f.clock, f.random, f.options};
  auto challenge = server.Challenge(kRealm, DigestAlgorithm::kSha256);
  CHECK(challenge.userhash);
  auto wire = sb::sip::FormatChallenge(challenge);
  CHECK(wire.find("userhash=true") != std::string::npos);
  auto parsed = sb::sip::ParseChallenge(wire);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->userhash);

  auto credentials = f.Answer(*parsed, 1);
  CHECK(credentials.userhash);
  // H("1001:acme.sip.example") with SHA-256, computed independently with Python's hashlib.
  CHECK(credentials.username == "e635f3257017d5723f5447c5c8ec875336b059eda81cec2e0582ee6910e51bce");
  CHECK(credentials.username == sb::sip::ComputeUserhash(DigestAlgorithm::kSha256, "1001", kRealm));
  auto back = sb::sip::ParseCredentials(sb::sip::FormatCredentials(credentials));
  REQUIRE(back.ok());
  CHECK(back->userhash);
  CHECK(back->username == credentials.username);
  // The response is still made from the HA1 of the plain name, which is what the server has.
  CHECK(server.Verify(*back, kRealm, "REGISTER", kUri, "", f.Ha1(DigestAlgorithm::kSha256)) ==
        DigestVerdict::kOk);
}

TEST_CASE("without userhash in the challenge the client sends its name", "[digest]") {
  Fixture f;
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kMd5);
  CHECK_FALSE(challenge.userhash);
  CHECK(sb::sip::FormatChallenge(challenge).find("userhash") == std::string::npos);
  auto credentials = f.Answer(challenge, 1);
  CHECK_FALSE(credentials.userhash);
  CHECK(credentials.username == "1001");
  CHECK(sb::sip::FormatCredentials(credentials).find("userhash") == std::string::npos);
  // MD5 userhash, and -sess hashes like its base (Python's hashlib again).
  CHECK(sb::sip::ComputeUserhash(DigestAlgorithm::kMd5Sess, "1001", kRealm) ==
        "0886bc2e24137e73d65dd2e33e9b8afe");
  auto off = sb::sip::ParseCredentials(
      "Digest username=\"1001\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"x\", "
      "userhash=false");
  REQUIRE(off.ok());
  CHECK_FALSE(off->userhash);
}

TEST_CASE("RFC 7616 username*: a name sent encoded verifies against the decoded name", "[digest]") {
  Fixture f;
  constexpr std::string_view kName = "J\xC3\xA4s\xC3\xB8n Doe";
  auto challenge = f.server.Challenge(kRealm, DigestAlgorithm::kSha256);
  auto answer = sb::sip::AnswerChallenge(challenge, {std::string(kName), "s3cret", ""}, "REGISTER",
                                         kUri, "", "cnonce-1", 1);
  REQUIRE(answer.ok());
  answer->username_encoded = true;
  std::string wire = sb::sip::FormatCredentials(*answer);
  CHECK(wire.find("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe") != std::string::npos);
  auto back = sb::sip::ParseCredentials(wire);
  REQUIRE(back.ok());
  REQUIRE(back->username == kName);
  // The server finds the account by the decoded name: its HA1 verifies, another name's does not.
  CHECK(f.server.Verify(*back, kRealm, "REGISTER", kUri, "",
                        sb::sip::ComputeHa1(DigestAlgorithm::kSha256, "Jason Doe", kRealm,
                                            "s3cret")) == DigestVerdict::kWrongResponse);
  CHECK(f.server.Verify(*back, kRealm, "REGISTER", kUri, "",
                        sb::sip::ComputeHa1(DigestAlgorithm::kSha256, kName, kRealm, "s3cret")) ==
        DigestVerdict::kOk);
}
