// RFC 8187 ext-value (charset "'" [language] "'" value-chars), the encoding of RFC 7616's
// username* parameter: a name that a quoted-string cannot carry, percent-encoded UTF-8.
#pragma once

#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::sip::internal {

// The decoded octets of an ext-value. Only the UTF-8 charset is accepted (the one RFC 8187
// requires of every recipient; RFC 7616 §4 names it), and the octets must be well-formed UTF-8.
Result<std::string> DecodeExtValue(std::string_view ext_value);
// "UTF-8''" then every octet outside attr-char as %XX (upper-case hex).
std::string EncodeExtValue(std::string_view utf8);

}  // namespace sb::sip::internal
