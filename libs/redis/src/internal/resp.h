// A command in RESP, the form Redis reads requests in: "*<argc>\r\n", then "$<len>\r\n<arg>\r\n"
// for each argument. Written straight into the connection's output buffer: hiredis'
// redisFormatCommandArgv formats the lengths with sprintf and returns a fresh allocation, a
// measurable share of the SIP loop's time per Redis round trip.
#pragma once

#include <string>
#include <vector>

namespace sb::redis::internal {

void AppendResp(std::string& out, const std::vector<std::string>& args);

}  // namespace sb::redis::internal
