// MediaClientAnchor: the B2BUA's MediaAnchor port (b2bua/ports.h) on real media nodes, through
// libs/media_client: a leg with no node named goes to the least-loaded live node the NodeTracker
// knows, and every call is one MediaClient request with the anchor's deadline (a call's leg
// pair, its answer-and-bridge and its tear-down included). Errors are the
// media client's: UNAVAILABLE when no node is live or the node did not answer (the B2BUA answers
// 503), the node's own code otherwise (INVALID_ARGUMENT for an SDP it cannot take: 488).
//
//   sb::media_client::NodeTracker nodes(bus, clock);
//   SB_RETURN_IF_ERROR(nodes.Start());
//   MediaClientAnchor media(bus, nodes, std::chrono::seconds(2));
//   b2bua::Ports ports{authorizer, locator, media, events, store};
//
// Every leg it creates reports an RTP timeout (media's rtp_timeout event) after `rtp_timeout`
// without a packet from its endpoint, when that is not zero (B2bua::OnMediaSilent).
//
// AnswerLegAsync (the callee's answer at connect time, on the SIP loop) sends its request through
// `requests` and hears back on the bus's thread, when the anchor was given them; without, it
// blocks as AnswerLeg does.
//
// Threading: thread-safe; the other calls block up to the timeout (the B2BUA makes them through
// its Offloader). The Bus and the tracker must outlive the anchor. StopAsync (idempotent) ends
// the asynchronous requests: no callback runs after it returns, and later ones fail UNAVAILABLE
// at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "b2bua/ports.h"
#include "switchboard/bus/async_requests.h"
#include "switchboard/bus/bus.h"
#include "switchboard/media_client/media_client.h"
#include "switchboard/media_client/node_tracker.h"

namespace sb::signaling {

class MediaClientAnchor final : public b2bua::MediaAnchor {
 public:
  MediaClientAnchor(bus::Bus& bus, media_client::NodeTracker& nodes,
                    bus::Duration timeout = media_client::MediaClient::kDefaultTimeout,
                    std::unique_ptr<bus::AsyncRequests> requests = nullptr,
                    std::chrono::milliseconds rtp_timeout = std::chrono::milliseconds(0));
  void StopAsync();

  Result<Leg> CreateLeg(const TenantId& tenant, std::string_view call_id, std::string_view leg_id,
                        std::string_view node_id, std::string_view offer) override;
  Result<Leg> UpdateLeg(std::string_view node_id, std::string_view leg_id, bool is_offer,
                        std::string_view sdp) override;
  Result<bool> Bridge(std::string_view node_id, std::string_view a, std::string_view b) override;
  Status DestroyLeg(std::string_view node_id, std::string_view leg_id) override;
  // A two-party call's media in three requests to its node rather than six: create_leg_pair,
  // update_leg with bridge_with, destroy_legs.
  Result<LegPair> CreateLegPair(const TenantId& tenant, std::string_view call_id,
                                std::string_view a, std::string_view b,
                                std::string_view offer) override;
  Status AnswerLeg(std::string_view node_id, std::string_view b, std::string_view answer,
                   std::string_view bridge_with) override;
  void AnswerLegAsync(std::string_view node_id, std::string_view b, std::string_view answer,
                      std::string_view bridge_with, std::function<void(Status)> done) override;
  Status DestroyLegs(std::string_view node_id, const std::vector<std::string>& legs) override;
  // Sent without waiting for the node's answer (MediaClient::AbandonLegs).
  void ReleaseLegs(std::string_view node_id, const std::vector<std::string>& legs) override;
  // destroy_legs through the requests, its reply's statistics to `done`.
  void ReleaseLegsReporting(std::string_view node_id, const std::vector<std::string>& legs,
                            std::function<void(LegFinals)> done) override;
  Result<std::string> Play(std::string_view node_id, std::string_view leg_id,
                           const PlayParams& params) override;
  Status StopPlay(std::string_view node_id, std::string_view leg_id) override;
  Result<RecordingStarted> RecordStart(std::string_view node_id, std::string_view leg_id,
                                       const RecordParams& params) override;
  Status RecordStop(std::string_view node_id, std::string_view leg_id) override;

 private:
  media_client::MediaClient Client(std::string_view node_id) const;
  // `node_id`, or the least-loaded live node when it is empty.
  Result<std::string> NodeOrPick(std::string_view node_id) const;
  // `failure` of a create of `legs` on `node_id`, after abandoning what the node may have made.
  Status Abandoned(const std::string& node_id, const std::vector<std::string>& legs,
                   Status failure) const;
  // A new leg of the call: the node answers `offer`, or offers itself when it is empty.
  switchboard::media::v1::CreateLegRequest NewLeg(const TenantId& tenant, std::string_view call_id,
                                                  std::string_view leg_id,
                                                  std::string_view offer) const;

  bus::Bus& bus_;
  media_client::NodeTracker& nodes_;
  bus::Duration timeout_;
  const std::chrono::milliseconds rtp_timeout_;
  const bool async_;  // given requests: AnswerLegAsync and ReleaseLegsReporting never block
  std::mutex requests_mu_;
  std::unique_ptr<bus::AsyncRequests> requests_;
};

}  // namespace sb::signaling
