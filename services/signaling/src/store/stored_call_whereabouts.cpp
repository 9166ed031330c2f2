#include "store/stored_call_whereabouts.h"

namespace sb::signaling {
namespace {

const std::optional<std::string> kHere;

}  // namespace

Result<std::optional<std::string>> StoredCallWhereabouts::ServingNode(const CallId& call) {
  auto stored = store_.Find(call.str());
  if (!stored.ok()) {
    if (stored.status().code() == StatusCode::kNotFound) return kHere;
    return stored.status();
  }
  if (stored->node_id == instance_) return kHere;
  auto alive = owners_.HeardFrom(stored->node_id, clock_.WallNow() - dead_after_);
  if (!alive.ok()) return alive.status();
  if (!*alive) return kHere;
  return std::optional<std::string>(RedisCallOwners::NodeOf(stored->node_id));
}

}  // namespace sb::signaling
