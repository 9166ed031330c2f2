#include "switchboard/core/status.h"

#include <catch2/catch.hpp>

namespace {

sb::Result<int> ParsePort(int n) {
  if (n < 1 || n > 65535) return sb::Status::InvalidArgument("port must be 1..65535", "port");
  return n;
}

sb::Status UsePort(int n) {
  SB_RETURN_IF_ERROR(ParsePort(n).status());
  return sb::Status::Ok();
}

}  // namespace

TEST_CASE("a Result holds either a value or the error that explains its absence", "[unit]") {
  auto good = ParsePort(5060);
  REQUIRE(good.ok());
  CHECK(*good == 5060);

  auto bad = ParsePort(0);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == sb::StatusCode::kInvalidArgument);
  CHECK(bad.status().field() == "port");
  CHECK(bad.status().ToString() == "INVALID_ARGUMENT: port must be 1..65535 (field port)");
  CHECK(bad.value_or(7) == 7);
}

TEST_CASE("SB_RETURN_IF_ERROR passes the first error up", "[unit]") {
  CHECK(UsePort(80).ok());
  CHECK(UsePort(70000).code() == sb::StatusCode::kInvalidArgument);
}

TEST_CASE("each code maps to one gRPC status and one SIP response", "[unit]") {
  struct Case {
    sb::StatusCode code;
    int grpc;
    int sip;
  };
  const std::vector<Case> cases = {
      {sb::StatusCode::kOk, 0, 200},
      {sb::StatusCode::kInvalidArgument, 3, 400},
      {sb::StatusCode::kNotFound, 5, 404},
      {sb::StatusCode::kAlreadyExists, 6, 400},
      {sb::StatusCode::kFailedPrecondition, 9, 403},
      {sb::StatusCode::kPermissionDenied, 7, 403},
      {sb::StatusCode::kUnauthenticated, 16, 401},
      {sb::StatusCode::kResourceExhausted, 8, 503},
      {sb::StatusCode::kUnavailable, 14, 503},
      {sb::StatusCode::kDeadlineExceeded, 4, 408},
      {sb::StatusCode::kAborted, 10, 500},
      {sb::StatusCode::kInternal, 13, 500},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(sb::StatusCodeName(c.code)) {
      CHECK(sb::ToGrpcCode(c.code) == c.grpc);
      CHECK(sb::ToSipStatus(c.code) == c.sip);
    }
  }
}
