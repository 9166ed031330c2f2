#include "domain/outbound_route.h"

namespace sb::admin {

Status ValidateDialed(std::string_view dialed, std::string_view field) {
  std::string_view digits = dialed;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 32) {
    return Status::InvalidArgument(
        std::string(field) + " must be 1 to 32 of 0-9 * # after an optional +", std::string(field));
  }
  for (char c : digits) {
    if ((c < '0' || c > '9') && c != '*' && c != '#') {
      return Status::InvalidArgument(
          std::string(field) + " must be 1 to 32 of 0-9 * # after an optional +",
          std::string(field));
    }
  }
  return Status::Ok();
}

Result<OutboundRoute> ChooseOutboundRoute(const std::vector<Trunk>& trunks, std::string_view dialed,
                                          std::string_view caller_id) {
  SB_RETURN_IF_ERROR(ValidateDialed(dialed, "dialed"));
  const Trunk* best_trunk = nullptr;
  const PrefixRule* best_rule = nullptr;
  for (const Trunk& t : trunks) {
    for (const PrefixRule& r : t.prefix_rules) {
      if (dialed.substr(0, r.match.size()) != r.match) continue;
      // Strictly longer only: the first trunk and rule keep a tie.
      if (best_rule == nullptr || r.match.size() > best_rule->match.size()) {
        best_trunk = &t;
        best_rule = &r;
      }
    }
  }
  if (best_rule == nullptr) {
    return Status::NotFound("no trunk has a prefix rule matching the dialed number");
  }
  OutboundRoute route;
  route.trunk = best_trunk;
  const size_t strip = std::min(dialed.size(), static_cast<size_t>(std::max(0, best_rule->strip)));
  route.dialed = best_rule->prepend + std::string(dialed.substr(strip));
  switch (best_trunk->caller_id_policy) {
    case CallerIdPolicy::kFixed:
      route.caller_id = best_trunk->fixed_caller_id;
      break;
    case CallerIdPolicy::kBlock:
      route.caller_id_blocked = true;
      break;
    case CallerIdPolicy::kPassthrough:
      route.caller_id = std::string(caller_id);
      break;
  }
  return route;
}

}  // namespace sb::admin
