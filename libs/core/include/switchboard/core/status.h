// Status and Result<T>: the error values of every layer that must not throw (parsers, bus
// handlers, the media loop) and of every domain call.
//
//   sb::Result<int> ParsePort(std::string_view s) {
//     ...
//     if (bad) return sb::Status::InvalidArgument("port must be 1..65535", "port");
//     return port;
//   }
//   auto port = ParsePort(text);
//   if (!port.ok()) return port.status();
//   Use(*port);
//
// The code set is small and closed, the same as proto ErrorCode; ToGrpcCode and ToSipStatus are
// the one mapping to each edge.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sb {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kAlreadyExists = 3,
  kFailedPrecondition = 4,
  kPermissionDenied = 5,
  kUnauthenticated = 6,
  kResourceExhausted = 7,
  kUnavailable = 8,
  kDeadlineExceeded = 9,
  kAborted = 10,
  kInternal = 11,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string message, std::string field = {}) {
    return {StatusCode::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The request field at fault (INVALID_ARGUMENT), empty otherwise.
  const std::string& field() const { return field_; }

  // "INVALID_ARGUMENT: port must be 1..65535 (field port)"
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// gRPC status code numbers (grpc::StatusCode) without making core depend on gRPC.
int ToGrpcCode(StatusCode code);
// The SIP final response a server sends for an error of this code (RFC 3261 §21).
int ToSipStatus(StatusCode code);

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> is meaningless");

 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(value_).ok() && "a Result needs a value or an error");
  }

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(value_);
  }

  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace sb

// Returns the error of a Status-valued expression from the enclosing function.
#define SB_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::sb::Status sb_status_ = (expr);        \
    if (!sb_status_.ok()) return sb_status_; \
  } while (false)
