#include "internal/nats_util.h"

#include <cstdlib>

#include "switchboard/bus/subjects.h"

namespace sb::bus::internal {

std::string NatsErrorText(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && last == s && *detail != '\0' && text != detail) {
    text += ": ";
    text += detail;
  }
  return text;
}

Status FromNats(natsStatus s, std::string_view what) {
  if (s == NATS_OK) return Status::Ok();
  const std::string message = std::string(what) + ": " + NatsErrorText(s);
  switch (s) {
    case NATS_TIMEOUT:
      return Status::DeadlineExceeded(message);
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_NOT_YET_CONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_DRAINING:
      return Status::Unavailable(message);
    case NATS_INSUFFICIENT_BUFFER:
    case NATS_SLOW_CONSUMER:
    case NATS_MAX_PAYLOAD:
      return Status::ResourceExhausted(message);
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_ARG:
    case NATS_INVALID_QUEUE_NAME:
      return Status::InvalidArgument(message);
    case NATS_NOT_FOUND:
      return Status::NotFound(message);
    default:
      return Status::Internal(message);
  }
}

Status FromJetStream(natsStatus s, jsErrCode jerr, std::string_view what) {
  if (s == NATS_OK) return Status::Ok();
  if (jerr == 0) return FromNats(s, what);
  const std::string message = std::string(what) + ": " + NatsErrorText(s) + " (JetStream error " +
                              std::to_string(jerr) + ")";
  switch (jerr) {
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
      return Status::NotFound(message);
    case JSStreamNameExistErr:
    case JSConsumerNameExistErr:
      return Status::AlreadyExists(message);
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
      return Status::Unavailable(message);
    default:
      return Status::FailedPrecondition(message);
  }
}

void RetiredMessages::Add(natsMsg* m) {
  constexpr size_t kMaxMessages = 32;
  constexpr size_t kMaxBytes = 64 * 1024;
  if (messages_.size() >= kMaxMessages || bytes_ >= kMaxBytes) {
    messages_.clear();
    bytes_ = 0;
  }
  messages_.emplace_back(m);
  bytes_ += static_cast<size_t>(natsMsg_GetDataLength(m));
}

Status CheckPublishSubject(const std::string& subject) {
  if (subjects::IsValidSubject(subject)) return Status::Ok();
  return Status::InvalidArgument("\"" + subject + "\" is not a subject to publish to", "subject");
}

Result<MsgPtr> ToNats(const Message& message) {
  if (Status valid = CheckPublishSubject(message.subject); !valid.ok()) return valid;
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, message.subject.c_str(),
                                message.reply.empty() ? nullptr : message.reply.c_str(),
                                message.data.data(), static_cast<int>(message.data.size()));
  if (s != NATS_OK) return FromNats(s, "creating a message for " + message.subject);
  MsgPtr msg(raw);
  for (const auto& [key, value] : message.headers) {
    s = natsMsgHeader_Set(msg.get(), key.c_str(), value.c_str());
    if (s != NATS_OK) return FromNats(s, "setting header " + key);
  }
  return msg;
}

Message FromNatsMsg(natsMsg* m) {
  Message out;
  out.subject = natsMsg_GetSubject(m);
  if (const char* reply = natsMsg_GetReply(m); reply != nullptr) out.reply = reply;
  if (const char* data = natsMsg_GetData(m); data != nullptr) {
    out.data.assign(data, static_cast<size_t>(natsMsg_GetDataLength(m)));
  }
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(m, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char* value = nullptr;
      if (natsMsgHeader_Get(m, keys[i], &value) == NATS_OK && value != nullptr) {
        out.headers.emplace(keys[i], value);
      }
    }
    free(static_cast<void*>(keys));
  }
  return out;
}

}  // namespace sb::bus::internal
