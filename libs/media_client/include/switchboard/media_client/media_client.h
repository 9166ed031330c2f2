// MediaClient: the typed, blocking client of one media node's commands
// (proto/switchboard/media/v1/commands.proto over sb.cmd.media.<node_id>.<operation>). Each call
// is one request/reply on the bus with a deadline and returns a Result: UNAVAILABLE when the node
// did not answer in time (or nobody serves that node), the node's own Error mapped to the same
// code otherwise (NOT_FOUND for an unknown leg, INVALID_ARGUMENT naming the field, ...).
//
//   auto node = tracker.PickLeastLoaded();                  // node_tracker.h
//   if (!node.ok()) return node.status();                   // no live media node: 503
//   sb::media_client::MediaClient media(bus, node->node_id, std::chrono::seconds(2));
//   v1::CreateLegRequest leg;
//   leg.set_tenant_id(tenant); leg.set_call_id(call); leg.set_leg_id("a");
//   leg.set_sdp_type(v1::SDP_TYPE_OFFER); leg.set_sdp(invite_sdp);
//   auto a = media.CreateLeg(leg);                          // a->sdp(): the node's answer
//   ...
//   auto bridged = media.Bridge("a", "b");                   // bridged->transcoding()
//   auto finals = media.DestroyLegs({"a", "b"});          // finals->legs(0).mos()
//
// Threading: thread-safe (it holds only the Bus, which is). Calls block up to the timeout, so
// an event loop (the SIP loop) makes them through its offloader, never on the loop itself.
// The Bus must outlive the client. Cheap to construct: one per node, or one per call.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/bus/async_requests.h"
#include "switchboard/bus/bus.h"
#include "switchboard/common/v1/error.pb.h"
#include "switchboard/core/status.h"
#include "switchboard/media/v1/commands.pb.h"

namespace sb::media_client {

namespace media_v1 = switchboard::media::v1;

// The Status an Error from a reply stands for (OK when its code is unset); an unknown code
// (a newer node) is INTERNAL, never OK.
Status FromProto(const switchboard::common::v1::Error& error);

class MediaClient {
 public:
  static constexpr bus::Duration kDefaultTimeout = std::chrono::seconds(2);

  MediaClient(bus::Bus& bus, std::string node_id, bus::Duration timeout = kDefaultTimeout);

  const std::string& node_id() const { return node_id_; }

  // Legs. With an SDP offer the reply's sdp is the node's answer; without SDP it is the node's
  // offer, completed later by UpdateLeg with the endpoint's answer.
  Result<media_v1::LegReply> CreateLeg(const media_v1::CreateLegRequest& request);
  // With request.bridge_with() set, the leg is then bridged with that one (reply.transcoding()).
  Result<media_v1::LegReply> UpdateLeg(const media_v1::UpdateLegRequest& request);
  // UpdateLeg without blocking (for an event loop): `done` gets what UpdateLeg would return, on
  // a thread of `requests`, which must be on this client's Bus.
  void UpdateLegAsync(bus::AsyncRequests& requests, const media_v1::UpdateLegRequest& request,
                      std::function<void(Result<media_v1::LegReply>)> done);
  Status DestroyLeg(std::string_view leg_id);

  // A two-party call's legs in one request each. CreateLegPair is all or nothing (when b fails
  // the node destroys a; the error's field says which leg: "b.sdp_type"); DestroyLegs tries
  // every leg and returns the first failure, or each leg's final statistics (reply.legs()).
  Result<media_v1::LegPairReply> CreateLegPair(const media_v1::CreateLegPairRequest& request);
  Result<media_v1::DestroyLegsReply> DestroyLegs(const std::vector<std::string>& leg_ids);
  // DestroyLegs without blocking, as UpdateLegAsync.
  void DestroyLegsAsync(bus::AsyncRequests& requests, const std::vector<std::string>& leg_ids,
                        std::function<void(Result<media_v1::DestroyLegsReply>)> done);
  // DestroyLegs without waiting for an answer, for legs that may not exist on a node that may be
  // gone: those of a create that timed out, which the node may still have made.
  Status AbandonLegs(const std::vector<std::string>& leg_ids);

  // Bridges: each leg hears the other (transcoding() when their codecs differ).
  Result<media_v1::BridgeReply> Bridge(std::string_view leg_a, std::string_view leg_b);
  Status Unbridge(std::string_view leg_id);

  // Playback and recording on one leg.
  Result<media_v1::PlayReply> Play(const media_v1::PlayRequest& request);
  Status StopPlay(std::string_view leg_id);
  Result<media_v1::RecordStartReply> RecordStart(const media_v1::RecordStartRequest& request);
  Status RecordStop(std::string_view leg_id);

  // DTMF towards the leg's endpoint.
  Status SendDtmf(const media_v1::DtmfSendRequest& request);

  // Conferences: N legs mixed.
  Result<media_v1::ConferenceReply> ConferenceCreate(std::string_view tenant_id,
                                                     std::string_view conference_id);
  Result<media_v1::ConferenceReply> ConferenceAdd(std::string_view conference_id,
                                                  std::string_view leg_id);
  Result<media_v1::ConferenceReply> ConferenceRemove(std::string_view conference_id,
                                                     std::string_view leg_id);
  Status ConferenceMute(std::string_view conference_id, std::string_view leg_id, bool on);
  Status ConferenceDeaf(std::string_view conference_id, std::string_view leg_id, bool on);
  Status ConferenceDestroy(std::string_view conference_id);

 private:
  template <typename Reply>
  Result<Reply> Call(std::string_view operation, const google::protobuf::MessageLite& request);
  template <typename Reply>
  Status CallStatus(std::string_view operation, const google::protobuf::MessageLite& request);
  template <typename Reply>
  void CallAsync(bus::AsyncRequests& requests, std::string_view operation,
                 const google::protobuf::MessageLite& request,
                 std::function<void(Result<Reply>)> done);

  bus::Bus& bus_;
  std::string node_id_;
  bus::Duration timeout_;
};

}  // namespace sb::media_client
