// Idempotent consumers: JetStream delivers at least once (a redelivery after a crash between
// commit and ack, a publisher retry outside the duplicate window), so a consumer applies an
// event only if its event id is new. ProcessedEvents is that memory; services back it with a
// table written in the same transaction as the event's effects, tests and stateless consumers
// with InMemoryProcessedEvents.
//
//   sb::bus::InMemoryProcessedEvents processed;
//   consume handler:
//     auto fresh = processed.MarkProcessed("billing", EventId(meta.event_id()));
//     if (!fresh.ok()) { m.Nak(std::chrono::seconds(1)); return; }
//     if (*fresh) Apply(event);        // a duplicate is acked without applying it again
//     m.Ack();
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::bus {

class ProcessedEvents {
 public:
  virtual ~ProcessedEvents() = default;
  // Records that `consumer` processed `event_id`. True when it was new (apply the event),
  // false for a duplicate. Atomic: of two concurrent calls with one id, exactly one gets true.
  // Thread-safe.
  virtual Result<bool> MarkProcessed(std::string_view consumer, const EventId& event_id) = 0;
  virtual Result<bool> IsProcessed(std::string_view consumer, const EventId& event_id) const = 0;
};

// Remembers the last `capacity` ids (oldest forgotten first): bounded memory, and duplicates
// arrive within the ack wait times max deliveries, far fewer ids than a sane capacity.
class InMemoryProcessedEvents final : public ProcessedEvents {
 public:
  explicit InMemoryProcessedEvents(size_t capacity = 1'000'000) : capacity_(capacity) {}
  Result<bool> MarkProcessed(std::string_view consumer, const EventId& event_id) override;
  Result<bool> IsProcessed(std::string_view consumer, const EventId& event_id) const override;
  size_t size() const;

 private:
  using Key = std::pair<std::string, std::string>;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::set<Key, std::less<>> seen_;
  std::deque<Key> order_;
};

}  // namespace sb::bus
