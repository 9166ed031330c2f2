// Lowercase hex of bytes, for digests written as text (HA1 values, key hashes, migration
// checksums, Lua script SHA-1s).
//
//   unsigned char digest[EVP_MAX_MD_SIZE];
//   unsigned int len = 0;
//   EVP_Digest(data, size, digest, &len, EVP_sha256(), nullptr);
//   std::string text = sb::core::ToHex({digest, len});
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace sb::core {

std::string ToHex(std::span<const unsigned char> bytes);

}  // namespace sb::core
