// A Redis reply (RESP2, as hiredis 0.14 parses it) as a small value type.
//
//   sb::redis::Reply r = ...;
//   if (const std::string* s = r.str()) Use(*s);            // bulk or simple string
//   if (auto n = r.integer()) Count(*n);
//   if (const auto* items = r.array()) for (const auto& item : *items) ...;
//   if (r.is_error()) return sb::redis::ErrorStatus(*r.error());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::redis {

class Reply {
 public:
  struct Nil {
    friend bool operator==(const Nil&, const Nil&) = default;
  };
  struct SimpleString {  // +OK, +PONG
    std::string text;
    friend bool operator==(const SimpleString&, const SimpleString&) = default;
  };
  struct Error {  // -ERR ..., -WRONGTYPE ..., -NOSCRIPT ...
    std::string text;
    friend bool operator==(const Error&, const Error&) = default;
  };
  using Array = std::vector<Reply>;
  using Value = std::variant<Nil, SimpleString, Error, int64_t, std::string, Array>;

  Reply() = default;
  Reply(Value v) : value_(std::move(v)) {}  // NOLINT: implicit by design

  const Value& value() const { return value_; }
  bool is_nil() const { return std::holds_alternative<Nil>(value_); }
  bool is_error() const { return std::holds_alternative<Error>(value_); }
  // Bulk or simple string; nullptr otherwise.
  const std::string* str() const;
  std::optional<int64_t> integer() const;
  const Array* array() const;
  const std::string* error() const;

  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  Value value_;
};

// The Status for a Redis error reply text: WRONGTYPE -> FAILED_PRECONDITION, OOM ->
// RESOURCE_EXHAUSTED, LOADING/BUSY/MASTERDOWN/TRYAGAIN -> UNAVAILABLE, NOSCRIPT -> NOT_FOUND,
// the rest (ERR ...) -> INVALID_ARGUMENT (the command was wrong). The message is the text.
Status ErrorStatus(const std::string& error_text);

}  // namespace sb::redis
