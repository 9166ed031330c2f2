#include "switchboard/redis/reply.h"

namespace sb::redis {

const std::string* Reply::str() const {
  if (const auto* s = std::get_if<std::string>(&value_)) return s;
  if (const auto* s = std::get_if<SimpleString>(&value_)) return &s->text;
  return nullptr;
}

std::optional<int64_t> Reply::integer() const {
  if (const auto* n = std::get_if<int64_t>(&value_)) return *n;
  return std::nullopt;
}

const Reply::Array* Reply::array() const { return std::get_if<Array>(&value_); }

const std::string* Reply::error() const {
  if (const auto* e = std::get_if<Error>(&value_)) return &e->text;
  return nullptr;
}

Status ErrorStatus(const std::string& text) {
  const std::string prefix = text.substr(0, text.find(' '));
  const std::string message = "redis: " + text;
  if (prefix == "WRONGTYPE") return Status::FailedPrecondition(message);
  if (prefix == "OOM") return Status::ResourceExhausted(message);
  if (prefix == "NOSCRIPT") return Status::NotFound(message);
  if (prefix == "LOADING" || prefix == "BUSY" || prefix == "MASTERDOWN" || prefix == "TRYAGAIN" ||
      prefix == "CLUSTERDOWN" || prefix == "READONLY") {
    return Status::Unavailable(message);
  }
  return Status::InvalidArgument(message);
}

}  // namespace sb::redis
