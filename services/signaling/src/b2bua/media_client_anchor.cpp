#include "b2bua/media_client_anchor.h"

#include <string>

#include "switchboard/media_client/media_client.h"

namespace sb::signaling::b2bua {

namespace media_v1 = media_client::media_v1;

Result<MediaAnchor::Leg> MediaClientAnchor::CreateLeg(const TenantId& tenant,
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
  media_client::MediaClient client(bus_, node, timeout_);
  media_v1::CreateLegRequest request;
  request.set_tenant_id(tenant.str());
  request.set_call_id(std::string(call_id));
  request.set_leg_id(std::string(leg_id));
  if (!offer.empty()) {
    request.set_sdp_type(media_v1::SDP_TYPE_OFFER);
    request.set_sdp(std::string(offer));
  }
  auto reply = client.CreateLeg(request);
  if (!reply.ok()) return reply.status();
  return Leg{node, reply->sdp(), reply->codec()};
}

Result<MediaAnchor::Leg> MediaClientAnchor::UpdateLeg(std::string_view node_id,
                                                      std::string_view leg_id, bool is_offer,
                                                      std::string_view sdp) {
  media_client::MediaClient client(bus_, std::string(node_id), timeout_);
  media_v1::UpdateLegRequest request;
  request.set_leg_id(std::string(leg_id));
  request.set_sdp_type(is_offer ? media_v1::SDP_TYPE_OFFER : media_v1::SDP_TYPE_ANSWER);
  request.set_sdp(std::string(sdp));
  auto reply = client.UpdateLeg(request);
  if (!reply.ok()) return reply.status();
  return Leg{std::string(node_id), reply->sdp(), reply->codec()};
}

Result<bool> MediaClientAnchor::Bridge(std::string_view node_id, std::string_view a,
                                       std::string_view b) {
  media_client::MediaClient client(bus_, std::string(node_id), timeout_);
  auto reply = client.Bridge(a, b);
  if (!reply.ok()) return reply.status();
  return reply->transcoding();
}

Status MediaClientAnchor::DestroyLeg(std::string_view node_id, std::string_view leg_id) {
  media_client::MediaClient client(bus_, std::string(node_id), timeout_);
  return client.DestroyLeg(leg_id);
}

}  // namespace sb::signaling::b2bua
