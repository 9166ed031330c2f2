#include "rpc/call_command_server.h"

#include <algorithm>

#include "rpc/call_operations.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/call/v1/commands.pb.h"

namespace sb::signaling {
namespace v1 = switchboard::call::v1;
namespace {

// Beyond this a ringing call is a forgotten one.
constexpr uint32_t kMaxOriginateTimeoutSeconds = 600;

void ToProto(const Status& status, switchboard::common::v1::Error* error) {
  error->set_code(static_cast<switchboard::common::v1::ErrorCode>(status.code()));
  error->set_message(status.message());
  error->set_field(status.field());
}

template <typename Reply>
Reply ReplyOf(const Status& status) {
  Reply reply;
  if (!status.ok()) ToProto(status, reply.mutable_error());
  return reply;
}

Status RequireUuid(const std::string& value, const std::string& field) {
  if (value.empty()) return Status::InvalidArgument(field + " is required", field);
  if (!core::IsUuid(value)) return Status::InvalidArgument(field + " is not a UUID", field);
  return Status::Ok();
}

struct Ref {
  TenantId tenant;
  CallId call;
};

// `prefix` is the request field holding the CallRef ("call", "other_call").
Result<Ref> RefOf(const v1::CallRef& ref, bool present, const std::string& prefix) {
  if (!present) return Status::InvalidArgument(prefix + " is required", prefix);
  SB_RETURN_IF_ERROR(RequireUuid(ref.tenant_id(), prefix + ".tenant_id"));
  SB_RETURN_IF_ERROR(RequireUuid(ref.call_id(), prefix + ".call_id"));
  return Ref{TenantId(ref.tenant_id()), CallId(ref.call_id())};
}

Status CheckUri(const std::string& uri, const std::string& field) {
  if (uri.empty()) return Status::InvalidArgument(field + " is required", field);
  const bool scheme =
      uri.starts_with("sip:") || uri.starts_with("sips:") || uri.starts_with("tel:");
  if (!scheme || uri.find_first_of(" \t\r\n") != std::string::npos ||
      uri.find(':') + 1 == uri.size()) {
    return Status::InvalidArgument(field + " must be a sip:, sips: or tel: URI", field);
  }
  return Status::Ok();
}

Status CheckSipCode(int32_t code) {
  if (code == 0 || (code >= 300 && code <= 699)) return Status::Ok();
  return Status::InvalidArgument("sip_code must be a final failure code (300-699) or 0",
                                 "sip_code");
}

Result<PlayParams> PlayOf(const v1::PlayRequest& r) {
  PlayParams params{.playback_id = r.playback_id()};
  switch (r.source_case()) {
    case v1::PlayRequest::kWavFile:
      if (r.wav_file().empty()) return Status::InvalidArgument("wav_file is empty", "wav_file");
      params.wav_file = r.wav_file();
      return params;
    case v1::PlayRequest::kTone:
      if (std::find(call_ops::kTones.begin(), call_ops::kTones.end(), r.tone()) ==
          call_ops::kTones.end()) {
        return Status::InvalidArgument("unknown tone \"" + r.tone() + "\"", "tone");
      }
      params.tone = r.tone();
      return params;
    case v1::PlayRequest::SOURCE_NOT_SET:
      break;
  }
  return Status::InvalidArgument("a wav_file or a tone is required", "source");
}

Result<OriginateParams> OriginateOf(const v1::OriginateRequest& r) {
  SB_RETURN_IF_ERROR(RequireUuid(r.tenant_id(), "tenant_id"));
  OriginateParams params{.tenant = TenantId(r.tenant_id())};
  switch (r.from_case()) {
    case v1::OriginateRequest::kExtension:
      if (r.extension().empty()) return Status::InvalidArgument("extension is empty", "extension");
      params.extension = r.extension();
      break;
    case v1::OriginateRequest::kTrunkId:
      SB_RETURN_IF_ERROR(RequireUuid(r.trunk_id(), "trunk_id"));
      params.trunk_id = r.trunk_id();
      break;
    case v1::OriginateRequest::FROM_NOT_SET:
      return Status::InvalidArgument("an extension or a trunk_id is required", "from");
  }
  SB_RETURN_IF_ERROR(CheckUri(r.to_uri(), "to_uri"));
  params.to_uri = r.to_uri();
  if (r.caller_id().find_first_of("\r\n\"<>") != std::string::npos) {
    return Status::InvalidArgument("caller_id holds characters a header cannot carry", "caller_id");
  }
  params.caller_id = r.caller_id();
  if (r.timeout_seconds() > kMaxOriginateTimeoutSeconds) {
    return Status::InvalidArgument(
        "timeout_seconds is at most " + std::to_string(kMaxOriginateTimeoutSeconds),
        "timeout_seconds");
  }
  if (r.timeout_seconds() > 0) params.timeout = std::chrono::seconds(r.timeout_seconds());
  if (!r.call_id().empty()) {
    SB_RETURN_IF_ERROR(RequireUuid(r.call_id(), "call_id"));
    params.call_id = CallId(r.call_id());
  }
  return params;
}

}  // namespace

CallCommandServer::CallCommandServer(bus::Bus& bus, std::string node_id, CallControl& control,
                                     CallWhereabouts* whereabouts, bus::Duration pass_on_timeout)
    : bus_(bus),
      node_id_(std::move(node_id)),
      control_(control),
      whereabouts_(whereabouts),
      pass_on_timeout_(pass_on_timeout) {}

CallCommandServer::~CallCommandServer() { Stop(); }

void CallCommandServer::Stop() { subscriptions_.clear(); }

template <typename Request, typename Reply, typename Handle>
Status CallCommandServer::Serve(const std::string& subject, std::string_view queue_group,
                                Handle handle) {
  auto sub = bus::ServeProto<Request, Reply>(
      bus_, subject, queue_group,
      [handle](const Request& request, const bus::Message&) -> Result<Reply> {
        return handle(request);
      },
      &bad_bodies_);
  if (!sub.ok()) return sub.status();
  subscriptions_.push_back(std::move(*sub));
  return Status::Ok();
}

template <typename Request, typename Reply, typename Handle>
Reply CallCommandServer::PassOnOrHandle(std::string_view operation, const Request& request,
                                        const Handle& handle) {
  // A malformed reference is refused by `handle`, as on the node's own subject.
  if (!request.has_call() || !core::IsUuid(request.call().call_id())) return handle(request);
  auto node = whereabouts_->ServingNode(CallId(request.call().call_id()));
  if (!node.ok()) return ReplyOf<Reply>(node.status());
  if (!node->has_value() || **node == node_id_) return handle(request);
  auto subject = bus::subjects::NodeCommand(call_ops::kService, **node, operation);
  if (!subject.ok()) return ReplyOf<Reply>(subject.status());
  passed_on_.fetch_add(1, std::memory_order_relaxed);
  auto reply = bus::RequestProto<Reply>(bus_, *subject, request, pass_on_timeout_);
  if (!reply.ok()) return ReplyOf<Reply>(reply.status());
  return *reply;
}

template <typename Request, typename Reply, typename Handle>
Status CallCommandServer::ServeCallCommand(std::string_view operation, Handle handle) {
  SB_RETURN_IF_ERROR((Serve<Request, Reply>(
      *bus::subjects::NodeCommand(call_ops::kService, node_id_, operation), "", handle)));
  if (whereabouts_ == nullptr) return Status::Ok();
  auto any_node = bus::subjects::Command(call_ops::kService, operation);
  if (!any_node.ok()) return any_node.status();
  return Serve<Request, Reply>(*any_node, call_ops::kQueueGroup,
                               [this, operation, handle](const Request& request) {
                                 return PassOnOrHandle<Request, Reply>(operation, request, handle);
                               });
}

Status CallCommandServer::Start() {
  SB_RETURN_IF_ERROR(bus::subjects::ValidateToken(node_id_, "node_id"));
  SB_RETURN_IF_ERROR((ServeCallCommand<v1::AnswerRequest, v1::CommandReply>(
      call_ops::kAnswer, [this](const v1::AnswerRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::CommandReply>(ref.status());
        return ReplyOf<v1::CommandReply>(control_.Answer(ref->tenant, ref->call));
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::HangupRequest, v1::CommandReply>(
      call_ops::kHangup, [this](const v1::HangupRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::CommandReply>(ref.status());
        if (Status s = CheckSipCode(r.sip_code()); !s.ok()) return ReplyOf<v1::CommandReply>(s);
        return ReplyOf<v1::CommandReply>(control_.Hangup(
            ref->tenant, ref->call, {.sip_code = r.sip_code(), .reason = r.reason()}));
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::BridgeRequest, v1::CommandReply>(
      call_ops::kBridge, [this](const v1::BridgeRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::CommandReply>(ref.status());
        auto other = RefOf(r.other_call(), r.has_other_call(), "other_call");
        if (!other.ok()) return ReplyOf<v1::CommandReply>(other.status());
        // A tenant's command never reaches another tenant's call.
        if (other->tenant != ref->tenant) {
          return ReplyOf<v1::CommandReply>(Status::InvalidArgument(
              "other_call belongs to another tenant", "other_call.tenant_id"));
        }
        if (other->call == ref->call) {
          return ReplyOf<v1::CommandReply>(
              Status::InvalidArgument("a call cannot be bridged to itself", "other_call.call_id"));
        }
        return ReplyOf<v1::CommandReply>(control_.Bridge(ref->tenant, ref->call, other->call));
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::TransferRequest, v1::CommandReply>(
      call_ops::kTransfer, [this](const v1::TransferRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::CommandReply>(ref.status());
        if (Status s = CheckUri(r.target_uri(), "target_uri"); !s.ok()) {
          return ReplyOf<v1::CommandReply>(s);
        }
        return ReplyOf<v1::CommandReply>(control_.Transfer(ref->tenant, ref->call, r.target_uri()));
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::PlayRequest, v1::PlayReply>(
      call_ops::kPlay, [this](const v1::PlayRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::PlayReply>(ref.status());
        auto params = PlayOf(r);
        if (!params.ok()) return ReplyOf<v1::PlayReply>(params.status());
        auto played = control_.Play(ref->tenant, ref->call, *params);
        if (!played.ok()) return ReplyOf<v1::PlayReply>(played.status());
        v1::PlayReply reply;
        reply.set_playback_id(*played);
        return reply;
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::StopPlayRequest, v1::CommandReply>(
      call_ops::kStopPlay, [this](const v1::StopPlayRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::CommandReply>(ref.status());
        return ReplyOf<v1::CommandReply>(control_.StopPlay(ref->tenant, ref->call));
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::RecordStartRequest, v1::RecordStartReply>(
      call_ops::kRecordStart, [this](const v1::RecordStartRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::RecordStartReply>(ref.status());
        auto started = control_.RecordStart(ref->tenant, ref->call,
                                            {.recording_id = r.recording_id(), .mixed = r.mixed()});
        if (!started.ok()) return ReplyOf<v1::RecordStartReply>(started.status());
        v1::RecordStartReply reply;
        reply.set_recording_id(started->recording_id);
        reply.set_file(started->file);
        return reply;
      })));

  SB_RETURN_IF_ERROR((ServeCallCommand<v1::RecordStopRequest, v1::CommandReply>(
      call_ops::kRecordStop, [this](const v1::RecordStopRequest& r) {
        auto ref = RefOf(r.call(), r.has_call(), "call");
        if (!ref.ok()) return ReplyOf<v1::CommandReply>(ref.status());
        return ReplyOf<v1::CommandReply>(control_.RecordStop(ref->tenant, ref->call));
      })));

  auto originate = [this](const v1::OriginateRequest& r) {
    auto params = OriginateOf(r);
    if (!params.ok()) return ReplyOf<v1::OriginateReply>(params.status());
    auto call = control_.Originate(*params);
    if (!call.ok()) return ReplyOf<v1::OriginateReply>(call.status());
    v1::OriginateReply reply;
    reply.set_call_id(call->str());
    return reply;
  };
  SB_RETURN_IF_ERROR((Serve<v1::OriginateRequest, v1::OriginateReply>(
      *bus::subjects::NodeCommand(call_ops::kService, node_id_, call_ops::kOriginate), "",
      originate)));
  auto any_node = bus::subjects::Command(call_ops::kService, call_ops::kOriginate);
  if (!any_node.ok()) return any_node.status();
  return Serve<v1::OriginateRequest, v1::OriginateReply>(*any_node, call_ops::kQueueGroup,
                                                         originate);
}

}  // namespace sb::signaling
