#include "switchboard/bus/idempotency.h"

namespace sb::bus {

Result<bool> InMemoryProcessedEvents::MarkProcessed(std::string_view consumer,
                                                    const EventId& event_id) {
  if (event_id.empty()) return Status::InvalidArgument("event_id is empty", "event_id");
  Key key{std::string(consumer), event_id.str()};
  std::lock_guard lock(mu_);
  if (!seen_.insert(key).second) return false;
  order_.push_back(std::move(key));
  while (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

Result<bool> InMemoryProcessedEvents::IsProcessed(std::string_view consumer,
                                                  const EventId& event_id) const {
  std::lock_guard lock(mu_);
  return seen_.count(Key{std::string(consumer), event_id.str()}) > 0;
}

size_t InMemoryProcessedEvents::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

}  // namespace sb::bus
