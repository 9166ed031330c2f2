// The test run's redis-server (switchboard/testing/servers.h) as the stores' tests reach it: keys
// under `prefix`, so that replicas of one test share them and tests do not see each other's.
//
//   sb::redis::Client redis(sb::signaling::test::SharedRedis(sb::testing::UniqueName("sig") +
//   ":"));
#pragma once

#include <string>

#include "switchboard/redis/client.h"
#include "switchboard/testing/servers.h"

namespace sb::signaling::test {

inline redis::ClientOptions SharedRedis(const std::string& prefix) {
  const auto& servers = sb::testing::Shared();
  redis::ClientOptions options;
  options.host = servers.redis_host;
  options.port = servers.redis_port;
  options.key_prefix = prefix;
  return options;
}

}  // namespace sb::signaling::test
