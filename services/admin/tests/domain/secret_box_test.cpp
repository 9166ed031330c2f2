// Trunk passwords at rest: AES-256-GCM sealing, bound to the owning row, refusing wrong keys,
// tampering and malformed keys with a message that names the setting.
#include "domain/secret_box.h"

#include <catch2/catch.hpp>

namespace sb::admin {
namespace {

const std::string kKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST_CASE("a sealed secret opens with its key and row and hides the clear text",
          "[admin][secrets]") {
  auto box = SecretBox::FromHexKey(kKey);
  REQUIRE(box.ok());
  auto sealed = box->Seal("carrier secret", "trunk:1");
  REQUIRE(sealed.ok());
  CHECK(SecretBox::IsSealed(*sealed));
  CHECK(sealed->find("carrier secret") == std::string::npos);
  // A fresh nonce each time: equal passwords do not look equal at rest.
  CHECK(*box->Seal("carrier secret", "trunk:1") != *sealed);
  auto opened = box->Open(*sealed, "trunk:1");
  REQUIRE(opened.ok());
  CHECK(*opened == "carrier secret");
}

TEST_CASE("a wrong key, another row or a changed byte does not open", "[admin][secrets]") {
  auto box = SecretBox::FromHexKey(kKey);
  auto other = SecretBox::FromHexKey(std::string(64, 'f'));
  REQUIRE(box.ok());
  REQUIRE(other.ok());
  const std::string sealed = *box->Seal("carrier secret", "trunk:1");
  CHECK(other->Open(sealed, "trunk:1").status().code() == StatusCode::kFailedPrecondition);
  CHECK(box->Open(sealed, "trunk:2").status().code() == StatusCode::kFailedPrecondition);
  std::string tampered = sealed;
  tampered[tampered.size() - 40] = tampered[tampered.size() - 40] == '0' ? '1' : '0';
  CHECK(box->Open(tampered, "trunk:1").status().code() == StatusCode::kFailedPrecondition);
  CHECK(box->Open("carrier secret", "trunk:1").status().code() == StatusCode::kFailedPrecondition);
  CHECK(box->Open("v1:zz", "trunk:1").status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("the key must be 64 hex digits and the error names the setting", "[admin][secrets]") {
  for (const std::string& bad : {std::string(), std::string(63, 'a'), std::string(66, 'a'),
                                 std::string(64, 'g'), std::string(32, 'a')}) {
    auto box = SecretBox::FromHexKey(bad);
    CHECK(box.status().code() == StatusCode::kInvalidArgument);
    CHECK(box.status().field() == "SB_ADMIN_SECRET_KEY");
    CHECK(box.status().message().find("64 hex digits") != std::string::npos);
  }
  CHECK(SecretBox::FromHexKey(std::string(64, 'A')).ok());
}

}  // namespace
}  // namespace sb::admin
