#include "switchboard/media_client/media_client.h"

#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/media_client/operations.h"

namespace sb::media_client {

Status FromProto(const switchboard::common::v1::Error& error) {
  const int code = static_cast<int>(error.code());
  if (code == 0) return Status::Ok();
  if (code < 0 || code > static_cast<int>(StatusCode::kInternal)) {
    return Status::Internal("unknown error code " + std::to_string(code) + ": " + error.message());
  }
  return Status(static_cast<StatusCode>(code), error.message(), error.field());
}

MediaClient::MediaClient(bus::Bus& bus, std::string node_id, bus::Duration timeout)
    : bus_(bus), node_id_(std::move(node_id)), timeout_(timeout) {}

namespace {

// What `node_id` answered to `operation`, as the client returns it.
template <typename Reply>
Result<Reply> Answered(const std::string& node_id, std::string_view operation,
                       Result<Reply> reply) {
  if (!reply.ok()) {
    // Silence and "nobody subscribed" mean the same to a caller: that node is not there (it
    // crashed, drained away, or never was), so pick another or fail the call with 503.
    const auto code = reply.status().code();
    if (code == StatusCode::kDeadlineExceeded || code == StatusCode::kUnavailable) {
      return Status::Unavailable("media node " + node_id + " did not answer " +
                                 std::string(operation) + ": " + reply.status().message());
    }
    return reply.status();
  }
  SB_RETURN_IF_ERROR(FromProto(reply->error()));
  return reply;
}

}  // namespace

template <typename Reply>
Result<Reply> MediaClient::Call(std::string_view operation,
                                const google::protobuf::MessageLite& request) {
  auto subject = bus::subjects::NodeCommand(ops::kService, node_id_, operation);
  if (!subject.ok()) return subject.status();
  return Answered(node_id_, operation, bus::RequestProto<Reply>(bus_, *subject, request, timeout_));
}

template <typename Reply>
Status MediaClient::CallStatus(std::string_view operation,
                               const google::protobuf::MessageLite& request) {
  return Call<Reply>(operation, request).status();
}

Result<media_v1::LegReply> MediaClient::CreateLeg(const media_v1::CreateLegRequest& request) {
  return Call<media_v1::LegReply>(ops::kCreateLeg, request);
}

Result<media_v1::LegReply> MediaClient::UpdateLeg(const media_v1::UpdateLegRequest& request) {
  return Call<media_v1::LegReply>(ops::kUpdateLeg, request);
}

template <typename Reply>
void MediaClient::CallAsync(bus::AsyncRequests& requests, std::string_view operation,
                            const google::protobuf::MessageLite& request,
                            std::function<void(Result<Reply>)> done) {
  auto subject = bus::subjects::NodeCommand(ops::kService, node_id_, operation);
  if (!subject.ok()) return done(subject.status());
  bus::RequestProtoAsync<Reply>(
      requests, *subject, request, timeout_,
      [node_id = node_id_, operation = std::string(operation), done = std::move(done)](
          Result<Reply> reply) { done(Answered(node_id, operation, std::move(reply))); });
}

void MediaClient::UpdateLegAsync(bus::AsyncRequests& requests,
                                 const media_v1::UpdateLegRequest& request,
                                 std::function<void(Result<media_v1::LegReply>)> done) {
  CallAsync<media_v1::LegReply>(requests, ops::kUpdateLeg, request, std::move(done));
}

Status MediaClient::DestroyLeg(std::string_view leg_id) {
  media_v1::DestroyLegRequest request;
  request.set_leg_id(std::string(leg_id));
  return CallStatus<media_v1::Ack>(ops::kDestroyLeg, request);
}

Result<media_v1::LegPairReply> MediaClient::CreateLegPair(
    const media_v1::CreateLegPairRequest& request) {
  return Call<media_v1::LegPairReply>(ops::kCreateLegPair, request);
}

namespace {

media_v1::DestroyLegsRequest DestroyLegsOf(const std::vector<std::string>& leg_ids) {
  media_v1::DestroyLegsRequest request;
  request.mutable_leg_ids()->Add(leg_ids.begin(), leg_ids.end());
  return request;
}

}  // namespace

Result<media_v1::DestroyLegsReply> MediaClient::DestroyLegs(
    const std::vector<std::string>& leg_ids) {
  return Call<media_v1::DestroyLegsReply>(ops::kDestroyLegs, DestroyLegsOf(leg_ids));
}

void MediaClient::DestroyLegsAsync(bus::AsyncRequests& requests,
                                   const std::vector<std::string>& leg_ids,
                                   std::function<void(Result<media_v1::DestroyLegsReply>)> done) {
  CallAsync<media_v1::DestroyLegsReply>(requests, ops::kDestroyLegs, DestroyLegsOf(leg_ids),
                                        std::move(done));
}

Status MediaClient::AbandonLegs(const std::vector<std::string>& leg_ids) {
  auto subject = bus::subjects::NodeCommand(ops::kService, node_id_, ops::kDestroyLegs);
  if (!subject.ok()) return subject.status();
  return bus::PublishProto(bus_, *subject, DestroyLegsOf(leg_ids));
}

Result<media_v1::BridgeReply> MediaClient::Bridge(std::string_view leg_a, std::string_view leg_b) {
  media_v1::BridgeRequest request;
  request.set_leg_a(std::string(leg_a));
  request.set_leg_b(std::string(leg_b));
  return Call<media_v1::BridgeReply>(ops::kBridge, request);
}

Status MediaClient::Unbridge(std::string_view leg_id) {
  media_v1::UnbridgeRequest request;
  request.set_leg_id(std::string(leg_id));
  return CallStatus<media_v1::Ack>(ops::kUnbridge, request);
}

Result<media_v1::PlayReply> MediaClient::Play(const media_v1::PlayRequest& request) {
  return Call<media_v1::PlayReply>(ops::kPlay, request);
}

Status MediaClient::StopPlay(std::string_view leg_id) {
  media_v1::StopPlayRequest request;
  request.set_leg_id(std::string(leg_id));
  return CallStatus<media_v1::Ack>(ops::kStopPlay, request);
}

Result<media_v1::RecordStartReply> MediaClient::RecordStart(
    const media_v1::RecordStartRequest& request) {
  return Call<media_v1::RecordStartReply>(ops::kRecordStart, request);
}

Status MediaClient::RecordStop(std::string_view leg_id) {
  media_v1::RecordStopRequest request;
  request.set_leg_id(std::string(leg_id));
  return CallStatus<media_v1::Ack>(ops::kRecordStop, request);
}

Status MediaClient::SendDtmf(const media_v1::DtmfSendRequest& request) {
  return CallStatus<media_v1::Ack>(ops::kDtmfSend, request);
}

Result<media_v1::ConferenceReply> MediaClient::ConferenceCreate(std::string_view tenant_id,
                                                                std::string_view conference_id) {
  media_v1::ConferenceCreateRequest request;
  request.set_tenant_id(std::string(tenant_id));
  request.set_conference_id(std::string(conference_id));
  return Call<media_v1::ConferenceReply>(ops::kConferenceCreate, request);
}

namespace {
media_v1::ConferenceMemberRequest Member(std::string_view conference_id, std::string_view leg_id) {
  media_v1::ConferenceMemberRequest request;
  request.set_conference_id(std::string(conference_id));
  request.set_leg_id(std::string(leg_id));
  return request;
}

media_v1::ConferenceFlagRequest Flag(std::string_view conference_id, std::string_view leg_id,
                                     bool on) {
  media_v1::ConferenceFlagRequest request;
  request.set_conference_id(std::string(conference_id));
  request.set_leg_id(std::string(leg_id));
  request.set_on(on);
  return request;
}
}  // namespace

Result<media_v1::ConferenceReply> MediaClient::ConferenceAdd(std::string_view conference_id,
                                                             std::string_view leg_id) {
  return Call<media_v1::ConferenceReply>(ops::kConferenceAdd, Member(conference_id, leg_id));
}

Result<media_v1::ConferenceReply> MediaClient::ConferenceRemove(std::string_view conference_id,
                                                                std::string_view leg_id) {
  return Call<media_v1::ConferenceReply>(ops::kConferenceRemove, Member(conference_id, leg_id));
}

Status MediaClient::ConferenceMute(std::string_view conference_id, std::string_view leg_id,
                                   bool on) {
  return CallStatus<media_v1::Ack>(ops::kConferenceMute, Flag(conference_id, leg_id, on));
}

Status MediaClient::ConferenceDeaf(std::string_view conference_id, std::string_view leg_id,
                                   bool on) {
  return CallStatus<media_v1::Ack>(ops::kConferenceDeaf, Flag(conference_id, leg_id, on));
}

Status MediaClient::ConferenceDestroy(std::string_view conference_id) {
  media_v1::ConferenceDestroyRequest request;
  request.set_conference_id(std::string(conference_id));
  return CallStatus<media_v1::Ack>(ops::kConferenceDestroy, request);
}

}  // namespace sb::media_client
