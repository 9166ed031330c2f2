// Encryption at rest for the secrets admin must give back in clear (a trunk's outbound password is
// sent to the carrier's digest challenge, so it cannot be hashed): AES-256-GCM (OpenSSL) with a
// random 96-bit nonce per value and the owning row's id as associated data, so a sealed value
// copied onto another row does not open.
//
// Sealed form: "v1:" + hex(nonce[12] || ciphertext || tag[16]). The key is 32 bytes given as 64
// hex digits (setting SB_ADMIN_SECRET_KEY; `openssl rand -hex 32` makes one).
//
//   auto box = SecretBox::FromHexKey(settings.Get("secret-key"));
//   if (!box.ok()) Die(box.status());
//   auto sealed = box->Seal("carrier-password", trunk_id);
//   auto clear = box->Open(*sealed, trunk_id);
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::admin {

class SecretBox {
 public:
  // INVALID_ARGUMENT (field "SB_ADMIN_SECRET_KEY") unless exactly 64 hex digits.
  static Result<SecretBox> FromHexKey(std::string_view hex);

  Result<std::string> Seal(std::string_view plaintext, std::string_view associated) const;
  // FAILED_PRECONDITION when the value was not sealed with this key and associated data (a
  // wrong key, another row's value, tampering) or is not in the sealed form.
  Result<std::string> Open(std::string_view sealed, std::string_view associated) const;
  static bool IsSealed(std::string_view value);

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace sb::admin
