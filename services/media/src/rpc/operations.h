// The media node serves the command and report names its callers use: they are spelled once, in
// libs/media_client (switchboard/media_client/operations.h), and the server side reads them here.
#pragma once

#include "switchboard/media_client/operations.h"

namespace sb::media {
namespace ops = ::sb::media_client::ops;
}  // namespace sb::media
