#include "domain/credentials.h"

#include <catch2/catch.hpp>
#include <set>

namespace sb::admin {
namespace {

// A deterministic source so that a test can predict a key; production uses OpenSslRandom.
class CountingRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  uint8_t next_ = 0;
};

TEST_CASE("an API key is sbk_ and 43 base64url characters, and only its SHA-256 is kept",
          "[unit]") {
  CountingRandom random;
  NewApiKey key = GenerateApiKey(random);
  // Bytes 0x00..0x1f in base64url.
  CHECK(key.secret == "sbk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
  CHECK(key.prefix == "sbk_AAECAwQF");
  CHECK(key.hash == Sha256Hex(key.secret));
  CHECK(key.hash.size() == 64);
  CHECK(key.hash.find(key.secret) == std::string::npos);
  CHECK(LooksLikeApiKey(key.secret));
}

TEST_CASE("keys from the system random source differ", "[unit]") {
  OpenSslRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(GenerateApiKey(random).secret);
  CHECK(seen.size() == 100);
}

TEST_CASE("SHA-256 and MD5 match their published test vectors", "[unit]") {
  // FIPS 180-2 and RFC 1321 appendix A.5.
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Md5Hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(Md5Hex("") == "d41d8cd98f00b204e9800998ecf8427e");
}

TEST_CASE("HA1 is H(user:realm:password) (RFC 2617 §3.5 example, RFC 7616 §3.9.1)", "[unit]") {
  // RFC 2617's example: Mufasa / testrealm@host.com / Circle Of Life.
  CHECK(Ha1Md5("Mufasa", "testrealm@host.com", "Circle Of Life") ==
        "939e7578ed9e3c518a452acee763bce9");
  // RFC 7616 §3.9.1's SHA-256 example realm and password.
  CHECK(Ha1Sha256("Mufasa", "http-auth@example.org", "Circle of Life") ==
        Sha256Hex("Mufasa:http-auth@example.org:Circle of Life"));
  CHECK(Ha1Sha256("Mufasa", "http-auth@example.org", "Circle of Life") ==
        "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
}

TEST_CASE("Base64Url is unpadded RFC 4648 §5", "[unit]") {
  auto enc = [](std::string s) {
    return Base64Url(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  };
  // RFC 4648 §10 vectors without padding.
  CHECK(enc("") == "");
  CHECK(enc("f") == "Zg");
  CHECK(enc("fo") == "Zm8");
  CHECK(enc("foo") == "Zm9v");
  CHECK(enc("foob") == "Zm9vYg");
  CHECK(enc("fooba") == "Zm9vYmE");
  CHECK(enc("foobar") == "Zm9vYmFy");
  CHECK(enc("\xfb\xff") == "-_8");
}

TEST_CASE("the bearer token is taken from the authorization value", "[unit]") {
  const std::string key = "sbk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  CHECK(*ParseBearer("Bearer " + key) == key);
  CHECK(*ParseBearer("bearer  " + key + " ") == key);
  for (std::string bad :
       {std::string(""), std::string("Bearer "), "Basic " + key, key,
        std::string("Bearer sbk_short"), "Bearer " + key + "x", "Bearer xyz_" + key.substr(4)}) {
    DYNAMIC_SECTION("'" << bad << "'") {
      auto r = ParseBearer(bad);
      REQUIRE(!r.ok());
      CHECK(r.status().code() == StatusCode::kUnauthenticated);
    }
  }
}

}  // namespace
}  // namespace sb::admin
