#include "rpc/command_server.h"

#include "rpc/event_publisher.h"
#include "rpc/operations.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/media/v1/commands.pb.h"

namespace sb::media {
namespace v1 = switchboard::media::v1;
namespace {

void ToProto(const Status& status, switchboard::common::v1::Error* error) {
  error->set_code(static_cast<switchboard::common::v1::ErrorCode>(status.code()));
  error->set_message(status.message());
  error->set_field(status.field());
}

template <typename Reply>
Reply ErrorReply(const Status& status) {
  Reply reply;
  ToProto(status, reply.mutable_error());
  return reply;
}

v1::LegReply LegReplyOf(const LegDescription& leg) {
  v1::LegReply reply;
  reply.set_leg_id(leg.leg_id);
  reply.set_sdp(leg.sdp);
  reply.set_codec(leg.codec);
  return reply;
}

v1::Ack AckOf(const Status& status) {
  v1::Ack ack;
  if (!status.ok()) ToProto(status, ack.mutable_error());
  return ack;
}

Result<SdpKind> KindOf(v1::SdpType type, bool sdp_empty) {
  switch (type) {
    case v1::SDP_TYPE_OFFER:
      return SdpKind::kOffer;
    case v1::SDP_TYPE_ANSWER:
      return SdpKind::kAnswer;
    default:
      if (!sdp_empty) return Status::InvalidArgument("sdp given without sdp_type", "sdp_type");
      return SdpKind::kNone;
  }
}

Result<CreateLegParams> ParamsOf(const v1::CreateLegRequest& r) {
  auto kind = KindOf(r.sdp_type(), r.sdp().empty());
  if (!kind.ok()) return kind.status();
  return CreateLegParams{.tenant_id = r.tenant_id(),
                         .call_id = r.call_id(),
                         .leg_id = r.leg_id(),
                         .kind = *kind,
                         .sdp = r.sdp(),
                         .options = {.rtp_timeout_ms = r.options().rtp_timeout_ms(),
                                     .stats_interval_ms = r.options().stats_interval_ms(),
                                     .inband_dtmf = r.options().inband_dtmf()},
                         .srtp = r.options().srtp()};
}

v1::ConferenceReply ConferenceReplyOf(const std::string& id, const Result<size_t>& members) {
  v1::ConferenceReply reply;
  reply.set_conference_id(id);
  if (!members.ok()) {
    ToProto(members.status(), reply.mutable_error());
  } else {
    reply.set_members(static_cast<uint32_t>(*members));
  }
  return reply;
}

}  // namespace

CommandServer::CommandServer(bus::Bus& bus, MediaNode& node, core::MetricsRegistry& metrics)
    : bus_(bus),
      node_(node),
      metrics_(metrics),
      bad_requests_(metrics.Counter("sb_media_bad_commands_total",
                                    "commands whose body was not the expected protobuf")) {}

CommandServer::~CommandServer() { Stop(); }

void CommandServer::Stop() { subscription_.reset(); }

template <typename Request, typename Reply, typename Handler>
Status CommandServer::Serve(std::string_view operation, Handler handler) {
  SB_RETURN_IF_ERROR(bus::subjects::ValidateToken(operation, "operation"));
  auto& handled = metrics_.Counter("sb_media_commands_total", "commands handled",
                                   {{"operation", std::string(operation)}});
  auto& failed =
      metrics_.Counter("sb_media_commands_failed_total", "commands answered with an error",
                       {{"operation", std::string(operation)}});
  handlers_[std::string(operation)] = [this, handler, &handled, &failed](const bus::Message& m) {
    Request request;
    Reply reply;
    if (!request.ParseFromString(m.data)) {
      bad_requests_.Inc();
      reply = ErrorReply<Reply>(
          Status::InvalidArgument("the request body is not a " + request.GetTypeName()));
    } else {
      reply = handler(request);
    }
    handled.Inc();
    if (reply.has_error() && reply.error().code() != 0) failed.Inc();
    if (!m.reply.empty()) (void)bus::PublishProto(bus_, m.reply, reply);
  };
  return Status::Ok();
}

Status CommandServer::Subscribe() {
  // One subscription for every operation: its messages are delivered one at a time, in the
  // order each sender sent them, so an abandon sent after a create is never overtaken by it.
  auto pattern = bus::subjects::NodeCommandFilter(ops::kService, node_.options().node_id);
  if (!pattern.ok()) return pattern.status();
  auto sub = bus_.Subscribe(*pattern, "", [this](const bus::Message& m) {
    const std::string_view operation = std::string_view(m.subject).substr(m.subject.rfind('.') + 1);
    auto handler = handlers_.find(operation);
    if (handler == handlers_.end()) {
      bad_requests_.Inc();  // no such operation: the sender hears nothing, as from no node
      return;
    }
    handler->second(m);
  });
  if (!sub.ok()) return sub.status();
  subscription_ = std::move(*sub);
  return Status::Ok();
}

Status CommandServer::Start() {
  MediaNode& node = node_;
  SB_RETURN_IF_ERROR((Serve<v1::CreateLegRequest, v1::LegReply>(
      ops::kCreateLeg, [&node](const v1::CreateLegRequest& r) {
        auto params = ParamsOf(r);
        if (!params.ok()) return ErrorReply<v1::LegReply>(params.status());
        auto leg = node.CreateLeg(*params);
        if (!leg.ok()) return ErrorReply<v1::LegReply>(leg.status());
        return LegReplyOf(*leg);
      })));
  SB_RETURN_IF_ERROR((Serve<v1::CreateLegPairRequest, v1::LegPairReply>(
      ops::kCreateLegPair, [&node](const v1::CreateLegPairRequest& r) {
        auto a = ParamsOf(r.a());
        if (!a.ok()) return ErrorReply<v1::LegPairReply>(OfLeg("a", a.status()));
        auto b = ParamsOf(r.b());
        if (!b.ok()) return ErrorReply<v1::LegPairReply>(OfLeg("b", b.status()));
        auto pair = node.CreateLegPair(*a, *b);
        if (!pair.ok()) return ErrorReply<v1::LegPairReply>(pair.status());
        v1::LegPairReply reply;
        *reply.mutable_a() = LegReplyOf(pair->a);
        *reply.mutable_b() = LegReplyOf(pair->b);
        return reply;
      })));
  SB_RETURN_IF_ERROR((Serve<v1::UpdateLegRequest, v1::LegReply>(
      ops::kUpdateLeg, [&node](const v1::UpdateLegRequest& r) {
        auto kind = KindOf(r.sdp_type(), r.sdp().empty());
        if (!kind.ok()) return ErrorReply<v1::LegReply>(kind.status());
        auto leg = node.UpdateLeg(r.leg_id(), *kind, r.sdp());
        if (!leg.ok()) return ErrorReply<v1::LegReply>(leg.status());
        v1::LegReply reply = LegReplyOf(*leg);
        if (!r.bridge_with().empty()) {
          auto transcoding = node.Bridge(r.bridge_with(), r.leg_id());
          if (!transcoding.ok()) {
            ToProto(transcoding.status(), reply.mutable_error());
          } else {
            reply.set_transcoding(*transcoding);
          }
        }
        return reply;
      })));
  SB_RETURN_IF_ERROR((Serve<v1::DestroyLegRequest, v1::Ack>(
      ops::kDestroyLeg,
      [&node](const v1::DestroyLegRequest& r) { return AckOf(node.DestroyLeg(r.leg_id())); })));
  SB_RETURN_IF_ERROR((Serve<v1::DestroyLegsRequest, v1::DestroyLegsReply>(
      ops::kDestroyLegs, [&node](const v1::DestroyLegsRequest& r) {
        std::vector<MediaNode::DestroyedLeg> finals;
        Status destroyed = node.DestroyLegs({r.leg_ids().begin(), r.leg_ids().end()}, &finals);
        v1::DestroyLegsReply reply;
        if (!destroyed.ok()) ToProto(destroyed, reply.mutable_error());
        for (const auto& leg : finals) {
          auto* out = reply.add_legs();
          out->mutable_leg()->set_leg_id(leg.leg_id);
          FillLegStatistics(leg.stats, true, *out);
        }
        return reply;
      })));
  SB_RETURN_IF_ERROR(
      (Serve<v1::BridgeRequest, v1::BridgeReply>(ops::kBridge, [&node](const v1::BridgeRequest& r) {
        auto transcoding = node.Bridge(r.leg_a(), r.leg_b());
        if (!transcoding.ok()) return ErrorReply<v1::BridgeReply>(transcoding.status());
        v1::BridgeReply reply;
        reply.set_transcoding(*transcoding);
        return reply;
      })));
  SB_RETURN_IF_ERROR(
      (Serve<v1::UnbridgeRequest, v1::Ack>(ops::kUnbridge, [&node](const v1::UnbridgeRequest& r) {
        return AckOf(node.Unbridge(r.leg_id()));
      })));
  SB_RETURN_IF_ERROR(
      (Serve<v1::PlayRequest, v1::PlayReply>(ops::kPlay, [&node](const v1::PlayRequest& r) {
        Result<std::string> id =
            Status::InvalidArgument("play needs a wav_file or a tone", "source");
        if (r.has_tone()) {
          const v1::Tone& t = r.tone();
          if (t.frequencies_hz_size() < 1 || t.frequencies_hz_size() > 2) {
            return ErrorReply<v1::PlayReply>(
                Status::InvalidArgument("a tone has one or two frequencies", "tone"));
          }
          const double level = t.level_dbm0() == 0 ? -10 : t.level_dbm0();
          codec::ToneSpec spec{.freq_hz = {t.frequencies_hz(0),
                                           t.frequencies_hz_size() > 1 ? t.frequencies_hz(1) : 0},
                               .level_dbm0 = {level, level},
                               .on_ms = static_cast<int>(t.on_ms()),
                               .off_ms = static_cast<int>(t.off_ms()),
                               .cycles = static_cast<int>(t.cycles())};
          id = node.PlayTone(r.leg_id(), r.playback_id(), spec);
        } else if (!r.wav_file().empty()) {
          id = node.PlayFile(r.leg_id(), r.playback_id(), r.wav_file());
        }
        if (!id.ok()) return ErrorReply<v1::PlayReply>(id.status());
        v1::PlayReply reply;
        reply.set_playback_id(*id);
        return reply;
      })));
  SB_RETURN_IF_ERROR(
      (Serve<v1::StopPlayRequest, v1::Ack>(ops::kStopPlay, [&node](const v1::StopPlayRequest& r) {
        return AckOf(node.StopPlay(r.leg_id()));
      })));
  SB_RETURN_IF_ERROR((Serve<v1::RecordStartRequest, v1::RecordStartReply>(
      ops::kRecordStart, [&node](const v1::RecordStartRequest& r) {
        auto started = node.RecordStart(r.leg_id(), r.recording_id(), r.mixed());
        if (!started.ok()) return ErrorReply<v1::RecordStartReply>(started.status());
        v1::RecordStartReply reply;
        reply.set_recording_id(started->recording_id);
        reply.set_file(started->file);
        return reply;
      })));
  SB_RETURN_IF_ERROR((Serve<v1::RecordStopRequest, v1::Ack>(
      ops::kRecordStop,
      [&node](const v1::RecordStopRequest& r) { return AckOf(node.RecordStop(r.leg_id())); })));
  SB_RETURN_IF_ERROR((Serve<v1::ConferenceCreateRequest, v1::ConferenceReply>(
      ops::kConferenceCreate, [&node](const v1::ConferenceCreateRequest& r) {
        auto id = node.CreateConference(r.tenant_id(), r.conference_id());
        if (!id.ok()) return ErrorReply<v1::ConferenceReply>(id.status());
        return ConferenceReplyOf(*id, size_t{0});
      })));
  SB_RETURN_IF_ERROR((Serve<v1::ConferenceMemberRequest, v1::ConferenceReply>(
      ops::kConferenceAdd, [&node](const v1::ConferenceMemberRequest& r) {
        return ConferenceReplyOf(r.conference_id(),
                                 node.AddToConference(r.conference_id(), r.leg_id()));
      })));
  SB_RETURN_IF_ERROR((Serve<v1::ConferenceMemberRequest, v1::ConferenceReply>(
      ops::kConferenceRemove, [&node](const v1::ConferenceMemberRequest& r) {
        return ConferenceReplyOf(r.conference_id(),
                                 node.RemoveFromConference(r.conference_id(), r.leg_id()));
      })));
  SB_RETURN_IF_ERROR((Serve<v1::ConferenceFlagRequest, v1::Ack>(
      ops::kConferenceMute, [&node](const v1::ConferenceFlagRequest& r) {
        return AckOf(node.SetMuted(r.conference_id(), r.leg_id(), r.on()));
      })));
  SB_RETURN_IF_ERROR((Serve<v1::ConferenceFlagRequest, v1::Ack>(
      ops::kConferenceDeaf, [&node](const v1::ConferenceFlagRequest& r) {
        return AckOf(node.SetDeaf(r.conference_id(), r.leg_id(), r.on()));
      })));
  SB_RETURN_IF_ERROR((Serve<v1::ConferenceDestroyRequest, v1::Ack>(
      ops::kConferenceDestroy, [&node](const v1::ConferenceDestroyRequest& r) {
        return AckOf(node.DestroyConference(r.conference_id()));
      })));
  SB_RETURN_IF_ERROR(
      (Serve<v1::DtmfSendRequest, v1::Ack>(ops::kDtmfSend, [&node](const v1::DtmfSendRequest& r) {
        return AckOf(node.SendDtmf(r.leg_id(), r.digits(), r.duration_ms(), r.gap_ms()));
      })));
  return Subscribe();
}

}  // namespace sb::media
