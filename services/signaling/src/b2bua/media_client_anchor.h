// MediaClientAnchor: the B2BUA's MediaAnchor on real media nodes (libs/media_client): a call's
// first leg goes to the least-loaded live node the NodeTracker knows, the call's other legs to
// the same node (a bridge needs both legs on one node), each command a NATS request with a
// deadline.
//
//   sb::media_client::NodeTracker nodes(bus, clock);   // started by the composition root
//   sb::signaling::b2bua::MediaClientAnchor media(bus, nodes, std::chrono::seconds(2));
//   sb::signaling::b2bua::Ports ports{auth, locator, media, events, store};
//
// Thread-safe (MediaClient and NodeTracker are); every method blocks up to the timeout.
#pragma once

#include <chrono>

#include "b2bua/ports.h"
#include "switchboard/bus/bus.h"
#include "switchboard/media_client/node_tracker.h"

namespace sb::signaling::b2bua {

class MediaClientAnchor final : public MediaAnchor {
 public:
  // Borrowed; they must outlive the anchor.
  MediaClientAnchor(bus::Bus& bus, const media_client::NodeTracker& nodes,
                    std::chrono::milliseconds timeout)
      : bus_(bus), nodes_(nodes), timeout_(timeout) {}

  Result<Leg> CreateLeg(const TenantId& tenant, std::string_view call_id, std::string_view leg_id,
                        std::string_view node_id, std::string_view offer) override;
  Result<Leg> UpdateLeg(std::string_view node_id, std::string_view leg_id, bool is_offer,
                        std::string_view sdp) override;
  Result<bool> Bridge(std::string_view node_id, std::string_view a, std::string_view b) override;
  Status DestroyLeg(std::string_view node_id, std::string_view leg_id) override;

 private:
  bus::Bus& bus_;
  const media_client::NodeTracker& nodes_;
  std::chrono::milliseconds timeout_;
};

}  // namespace sb::signaling::b2bua
