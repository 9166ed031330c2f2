// Base64 (RFC 4648 §4, with padding) for the inline keys of RFC 4568.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::rtp::internal {

std::string Base64Encode(std::span<const uint8_t> bytes);
// Decodes into out; returns the decoded length. Rejects characters outside the alphabet,
// misplaced padding and output that does not fit.
Result<size_t> Base64Decode(std::string_view text, std::span<uint8_t> out);

}  // namespace sb::rtp::internal
