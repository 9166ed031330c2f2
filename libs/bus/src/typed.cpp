#include "switchboard/bus/typed.h"

#include <charconv>

namespace sb::bus {

Result<std::string> Serialize(const google::protobuf::MessageLite& message) {
  std::string out;
  if (!message.SerializeToString(&out)) {
    return Status::Internal("cannot serialize a " + message.GetTypeName());
  }
  return out;
}

Status PublishProto(Bus& bus, std::string_view subject, const google::protobuf::MessageLite& body,
                    Headers headers) {
  auto data = Serialize(body);
  if (!data.ok()) return data.status();
  return bus.Publish(
      {.subject = std::string(subject), .data = std::move(*data), .headers = std::move(headers)});
}

Result<PublishAck> JsPublishProto(Bus& bus, std::string_view subject,
                                  const google::protobuf::MessageLite& body, std::string msg_id,
                                  Duration timeout) {
  auto data = Serialize(body);
  if (!data.ok()) return data.status();
  return bus.JsPublish({.message = {.subject = std::string(subject), .data = std::move(*data)},
                        .msg_id = std::move(msg_id)},
                       timeout);
}

Status StatusFromReply(const Message& reply) {
  auto code_it = reply.headers.find(kStatusHeader);
  if (code_it == reply.headers.end()) return Status::Ok();
  int code = 0;
  const std::string& text = code_it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (ec != std::errc() || end != text.data() + text.size() ||
      code < static_cast<int>(StatusCode::kInvalidArgument) ||
      code > static_cast<int>(StatusCode::kInternal)) {
    return Status::Internal("the responder sent an unknown status \"" + text + "\"");
  }
  auto message_it = reply.headers.find(kStatusMessageHeader);
  return Status(static_cast<StatusCode>(code),
                message_it == reply.headers.end() ? std::string() : message_it->second);
}

Status ReplyWithStatus(Bus& bus, std::string_view reply_to, const Status& status) {
  Message reply{.subject = std::string(reply_to)};
  // An OK status would read as "no error" on the other side while carrying no body: say so.
  const Status sent =
      status.ok() ? Status::Internal("responder replied OK without a body") : status;
  reply.headers.emplace(std::string(kStatusHeader), std::to_string(static_cast<int>(sent.code())));
  reply.headers.emplace(std::string(kStatusMessageHeader), sent.message());
  return bus.Publish(reply);
}

}  // namespace sb::bus
