// The auth-param list of Digest header values (RFC 7235 §2.1 / RFC 3261 §25.1): a scheme token,
// then name=value pairs separated by commas, values tokens or quoted strings.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/core/ascii.h"
#include "switchboard/core/status.h"

namespace sb::sip::internal {

using core::EqualsIgnoreCase;
// The pairs after "Digest", values unquoted and unescaped. Bounded: at most 64 parameters.
Result<std::vector<std::pair<std::string, std::string>>> ParseDigestParams(std::string_view value);
// RFC 3261 §25.1 token: what qop, nc and algorithm must be, since they are written unquoted.
bool IsStrictToken(std::string_view value);
// A quoted-string with '"' and '\' escaped.
std::string Quote(std::string_view value);
// "auth,auth-int" or "auth, auth-int" -> {"auth", "auth-int"}.
std::vector<std::string_view> SplitList(std::string_view value);

}  // namespace sb::sip::internal
