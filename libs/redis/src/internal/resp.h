// A command in RESP, the form Redis reads requests in: "*<argc>\r\n", then "$<len>\r\n<arg>\r\n"
// for each argument. Written straight into the connection's output buffer: hiredis'
// redisFormatCommandArgv formats the lengths with sprintf and returns a fresh allocation, a
// measurable share of the SIP loop's time per Redis round trip.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sb::redis::internal {

void AppendResp(std::string& out, const std::vector<std::string>& args);
// The same for `args` whose elements at `key_positions` (ascending) are keys, written with
// `prefix` before them: a Command without building its prefixed copy first.
void AppendResp(std::string& out, const std::vector<std::string>& args,
                const std::vector<size_t>& key_positions, std::string_view prefix);

}  // namespace sb::redis::internal
