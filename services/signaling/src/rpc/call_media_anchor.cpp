#include "rpc/call_media_anchor.h"

namespace sb::signaling {
namespace media_v1 = switchboard::media::v1;

MediaClientAnchor::MediaClientAnchor(bus::Bus& bus, media_client::NodeTracker& nodes,
                                     bus::Duration timeout)
    : bus_(bus), nodes_(nodes), timeout_(timeout) {}

media_client::MediaClient MediaClientAnchor::Client(std::string_view node_id) const {
  return media_client::MediaClient(bus_, std::string(node_id), timeout_);
}

Result<b2bua::MediaAnchor::Leg> MediaClientAnchor::CreateLeg(const TenantId& tenant,
                                                             std::string_view call_id,
                                                             std::string_view leg_id,
                                                             std::string_view node_id,
                                                             std::string_view offer) {
  std::string node(node_id);
  if (node.empty()) {
    auto picked = nodes_.PickLeastLoaded();
    if (!picked.ok()) return picked.status();
    node = picked->node_id;
  }
  media_v1::CreateLegRequest request;
  request.set_tenant_id(tenant.str());
  request.set_call_id(std::string(call_id));
  request.set_leg_id(std::string(leg_id));
  if (!offer.empty()) {
    request.set_sdp_type(media_v1::SDP_TYPE_OFFER);
    request.set_sdp(std::string(offer));
  }
  auto reply = Client(node).CreateLeg(request);
  if (!reply.ok()) return reply.status();
  return Leg{.node_id = node, .sdp = reply->sdp(), .codec = reply->codec()};
}

Result<b2bua::MediaAnchor::Leg> MediaClientAnchor::UpdateLeg(std::string_view node_id,
                                                             std::string_view leg_id, bool is_offer,
                                                             std::string_view sdp) {
  media_v1::UpdateLegRequest request;
  request.set_leg_id(std::string(leg_id));
  request.set_sdp_type(is_offer ? media_v1::SDP_TYPE_OFFER : media_v1::SDP_TYPE_ANSWER);
  request.set_sdp(std::string(sdp));
  auto reply = Client(node_id).UpdateLeg(request);
  if (!reply.ok()) return reply.status();
  return Leg{.node_id = std::string(node_id), .sdp = reply->sdp(), .codec = reply->codec()};
}

Result<bool> MediaClientAnchor::Bridge(std::string_view node_id, std::string_view a,
                                       std::string_view b) {
  auto reply = Client(node_id).Bridge(a, b);
  if (!reply.ok()) return reply.status();
  return reply->transcoding();
}

Status MediaClientAnchor::DestroyLeg(std::string_view node_id, std::string_view leg_id) {
  return Client(node_id).DestroyLeg(leg_id);
}

}  // namespace sb::signaling
