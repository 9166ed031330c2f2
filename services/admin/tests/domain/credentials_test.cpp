#include "domain/credentials.h"

#include <catch2/catch.hpp>
#include <set>

namespace sb::admin {
namespace {

// A deterministic source so that a test can predict a key; production uses OpenSslRandom.
class CountingRandom final : public sb::core::RandomSource {
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
  sb::core::OpenSslRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(GenerateApiKey(random).secret);
  CHECK(seen.size() == 100);
}

TEST_CASE("API key hashes are SHA-256 (FIPS 180-2 test vector)", "[unit]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
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
