// Outbound routing: which of a tenant's trunks carries a dialled number, how the number is
// rewritten for the carrier and which caller id is presented. Pure: it sees only the trunks.
//
// The prefix rule with the longest `match` that starts the dialled number wins (an empty match is
// a catch-all); on a tie the trunk listed first (the older one: ids are UUIDv7), then its earlier
// rule, wins. A trunk without prefix rules never carries outbound calls.
//
//   auto route = ChooseOutboundRoute(trunks, "+4930123", "+15551230001");
//   if (route.ok()) Send(route->trunk->host, route->dialed, route->caller_id);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/model.h"
#include "switchboard/core/status.h"

namespace sb::admin {

struct OutboundRoute {
  const Trunk* trunk = nullptr;  // points into the trunks passed in
  std::string dialed;            // rewritten: strip, then prepend
  std::string caller_id;         // empty when blocked
  bool caller_id_blocked = false;
};

// INVALID_ARGUMENT (field "dialed") for an empty or malformed number: at most 32 of 0-9 * #,
// optionally after one leading +. NOT_FOUND when no rule matches.
Result<OutboundRoute> ChooseOutboundRoute(const std::vector<Trunk>& trunks, std::string_view dialed,
                                          std::string_view caller_id);

Status ValidateDialed(std::string_view dialed, std::string_view field);

}  // namespace sb::admin
