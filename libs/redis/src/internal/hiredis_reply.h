// hiredis' parsed reply as a Reply value.
#pragma once

#include <hiredis.h>

#include "switchboard/redis/reply.h"

namespace sb::redis::internal {

Reply Convert(const redisReply* r);

}  // namespace sb::redis::internal
