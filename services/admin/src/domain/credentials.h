// Secrets: API keys and SIP digest credentials.
//
// An API key is "sbk_" + 43 base64url characters (32 random bytes). Only the hex SHA-256 of the
// whole key is stored; the key is shown once, at creation. A request presents it as
// "authorization: Bearer sbk_...", and the key is found by its hash.
//
//   core::OpenSslRandom random;
//   NewApiKey key = GenerateApiKey(random);
//   store(key.hash, key.prefix);  reply(key.secret);
//
// Extension passwords are stored only as digest HA1 values, computed by libs/sip/auth
// (sb::sip::ComputeHa1), the same code that verifies them in the registrar.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "switchboard/core/random.h"
#include "switchboard/core/status.h"

namespace sb::admin {

struct NewApiKey {
  std::string secret;  // shown to the caller once
  std::string prefix;  // "sbk_" + the first 8 secret characters, kept for lists
  std::string hash;    // hex SHA-256 of secret, stored
};

NewApiKey GenerateApiKey(core::RandomSource& random);
std::string HashApiKey(std::string_view secret);
// True if the text has the shape of a key this service issues (cheap check before a lookup).
bool LooksLikeApiKey(std::string_view secret);
// The key from an "authorization" metadata value "Bearer <key>" (scheme case-insensitive).
Result<std::string> ParseBearer(std::string_view authorization);

std::string Sha256Hex(std::string_view data);
std::string Base64Url(std::span<const uint8_t> bytes);  // unpadded

}  // namespace sb::admin
