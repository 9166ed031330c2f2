#include "events/call_record.h"

#include <catch2/catch.hpp>

namespace sb::signaling {
namespace {

using std::chrono::milliseconds;

const WallTime kStart = WallTime(std::chrono::seconds(1767225600));

TEST_CASE("billable seconds are the answered time rounded up to whole seconds", "[unit][call]") {
  struct Case {
    int64_t answered_ms;
    int64_t billable;
  };
  const auto c = GENERATE(Case{61200, 62}, Case{60000, 60}, Case{1, 1}, Case{999, 1}, Case{1000, 1},
                          Case{1001, 2}, Case{0, 0});
  DYNAMIC_SECTION("answered " << c.answered_ms << " ms") {
    CallRecord call{.start_time = kStart};
    call.answer_time = kStart + milliseconds(4000);
    call.end_time = *call.answer_time + milliseconds(c.answered_ms);
    CHECK(call.BillableSeconds() == c.billable);
    CHECK(call.AnsweredMs() == c.answered_ms);
    CHECK(call.DurationMs() == 4000 + c.answered_ms);
  }
}

TEST_CASE("a call never answered bills nothing but has its duration", "[unit][call]") {
  CallRecord call{.start_time = kStart};
  CHECK(call.DurationMs() == 0);  // not ended yet
  call.end_time = kStart + milliseconds(12345);
  CHECK(call.DurationMs() == 12345);
  CHECK(call.AnsweredMs() == 0);
  CHECK(call.BillableSeconds() == 0);
}

TEST_CASE("an end before the start (a wall clock step) counts as zero", "[unit][call]") {
  CallRecord call{.start_time = kStart};
  call.answer_time = kStart;
  call.end_time = kStart - milliseconds(500);
  CHECK(call.DurationMs() == 0);
  CHECK(call.BillableSeconds() == 0);
}

TEST_CASE("final responses map to end causes by code then by class", "[unit][call]") {
  struct Case {
    int code;
    EndCause cause;
  };
  const auto c = GENERATE(Case{200, EndCause::kNormalClearing}, Case{486, EndCause::kBusy},
                          Case{600, EndCause::kBusy}, Case{408, EndCause::kNoAnswer},
                          Case{480, EndCause::kUnavailable}, Case{404, EndCause::kNotFound},
                          Case{604, EndCause::kNotFound}, Case{403, EndCause::kForbidden},
                          Case{407, EndCause::kForbidden}, Case{488, EndCause::kMediaFailure},
                          Case{606, EndCause::kMediaFailure}, Case{487, EndCause::kCallerCancelled},
                          Case{603, EndCause::kRejected}, Case{415, EndCause::kRejected},
                          Case{302, EndCause::kRejected}, Case{503, EndCause::kNetworkFailure},
                          Case{500, EndCause::kNetworkFailure}, Case{100, EndCause::kUnspecified},
                          Case{0, EndCause::kUnspecified});
  DYNAMIC_SECTION("SIP " << c.code) { CHECK(CauseForFinalResponse(c.code) == c.cause); }
}

TEST_CASE("every cause has a text for people", "[unit][call]") {
  for (int i = 0; i <= static_cast<int>(EndCause::kSessionExpired); ++i) {
    CHECK_FALSE(EndCauseText(static_cast<EndCause>(i)).empty());
  }
  CHECK(EndCauseText(EndCause::kBusy) == "busy");
}

TEST_CASE("cause names go both ways and the B2BUA's short name for normal is known",
          "[unit][call]") {
  for (int i = 0; i <= static_cast<int>(EndCause::kSessionExpired); ++i) {
    const auto cause = static_cast<EndCause>(i);
    CHECK(EndCauseFromName(EndCauseName(cause)) == cause);
  }
  CHECK(EndCauseFromName("normal") == EndCause::kNormalClearing);
  CHECK(EndCauseFromName("no_answer") == EndCause::kNoAnswer);
  CHECK_FALSE(EndCauseFromName("Busy").has_value());
  CHECK_FALSE(EndCauseFromName("").has_value());
}

TEST_CASE("legs are found by id", "[unit][call]") {
  CallRecord call;
  call.legs.push_back({.leg_id = "a"});
  call.legs.push_back({.leg_id = "b", .direction = LegDirection::kOutbound});
  REQUIRE(call.FindLeg("b") != nullptr);
  CHECK(call.FindLeg("b")->direction == LegDirection::kOutbound);
  call.FindLeg("a")->codec = "PCMU";
  CHECK(std::as_const(call).FindLeg("a")->codec == "PCMU");
  CHECK(call.FindLeg("c") == nullptr);
}

}  // namespace
}  // namespace sb::signaling
