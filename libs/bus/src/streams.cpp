#include "switchboard/bus/streams.h"

#include "switchboard/bus/subjects.h"

namespace sb::bus {

StreamConfig EventsStream() {
  StreamConfig config;
  config.name = std::string(subjects::kEventsStream);
  for (std::string_view domain : subjects::kDurableEventDomains) {
    config.subjects.push_back(std::string(subjects::kEventPrefix) + "." + std::string(domain) +
                              ".>");
  }
  config.storage = Storage::kFile;
  config.retention = Retention::kLimits;
  // Long enough for a consumer that was down over a weekend to catch up; billing and webhooks
  // keep what they need in Postgres.
  config.max_age = std::chrono::hours(24 * 7);
  config.duplicate_window = std::chrono::minutes(2);
  return config;
}

}  // namespace sb::bus
