#include "switchboard/bus/subjects.h"

#include <catch2/catch.hpp>

#include "switchboard/bus/streams.h"

namespace subjects = sb::bus::subjects;

TEST_CASE("subjects are built from the architecture's patterns", "[unit]") {
  const sb::TenantId tenant("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  CHECK(*subjects::Event("call", "answered", tenant) ==
        "sb.evt.call.answered.0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  CHECK(*subjects::Command("billing", "authorize") == "sb.cmd.billing.authorize");
  CHECK(*subjects::NodeCommand("media", "media-1", "play") == "sb.cmd.media.media-1.play");
  CHECK(*subjects::EventFilter("call", "*", ">") == "sb.evt.call.*.>");
  CHECK(*subjects::NodeCommandFilter("media", "media-1") == "sb.cmd.media.media-1.*");
  CHECK(subjects::Matches(*subjects::NodeCommandFilter("media", "media-1"),
                          *subjects::NodeCommand("media", "media-1", "destroy_legs")));
  CHECK(!subjects::NodeCommandFilter("media", "a.b").ok());
  CHECK(*subjects::EventFilter("*", "*", "t1") == "sb.evt.*.*.t1");
}

TEST_CASE("a token with a dot, space, wildcard or nothing is refused, naming the part", "[unit]") {
  auto bad =
      GENERATE(as<std::string>{}, "", "a.b", "a b", "*", ">", "a*", "tab\there", "ä", "new\nline");
  DYNAMIC_SECTION("token '" << bad << "'") {
    auto s = subjects::Command("billing", bad);
    REQUIRE(!s.ok());
    CHECK(s.status().code() == sb::StatusCode::kInvalidArgument);
    CHECK(s.status().field() == "operation");
    CHECK(!subjects::Event("call", "ended", sb::TenantId(bad)).ok());
    CHECK(!subjects::NodeCommand("media", bad, "play").ok());
  }
}

TEST_CASE("an event filter takes * per token and > only for the tenant", "[unit]") {
  CHECK(!subjects::EventFilter(">", "*", "*").ok());
  CHECK(!subjects::EventFilter("call", "a.b", "*").ok());
}

TEST_CASE("an event subject parses back into its parts", "[unit]") {
  auto parsed = subjects::ParseEvent("sb.evt.message.received.t-1");
  REQUIRE(parsed.ok());
  CHECK(parsed->domain == "message");
  CHECK(parsed->type == "received");
  CHECK(parsed->tenant.str() == "t-1");
  CHECK(!subjects::ParseEvent("sb.cmd.billing.authorize").ok());
  CHECK(!subjects::ParseEvent("sb.evt.call.answered").ok());
  CHECK(!subjects::ParseEvent("sb.evt.call.answered.t1.extra").ok());
}

TEST_CASE("NATS wildcard matching", "[unit]") {
  struct Case {
    const char* pattern;
    const char* subject;
    bool matches;
  };
  auto c = GENERATE(Case{"a.b.c", "a.b.c", true}, Case{"a.b.c", "a.b", false},
                    Case{"a.*.c", "a.x.c", true}, Case{"a.*.c", "a.x.y.c", false},
                    Case{"a.>", "a.b", true}, Case{"a.>", "a.b.c.d", true}, Case{"a.>", "a", false},
                    Case{"*", "a", true}, Case{"*", "a.b", false}, Case{">", "a.b", true},
                    Case{"a.*", "b.c", false});
  DYNAMIC_SECTION(c.pattern << " ~ " << c.subject) {
    CHECK(subjects::Matches(c.pattern, c.subject) == c.matches);
  }
}

TEST_CASE("subjects and patterns are checked for what NATS accepts", "[unit]") {
  CHECK(subjects::IsValidSubject("sb.evt.call.answered.t1"));
  CHECK(!subjects::IsValidSubject("sb.evt.*"));
  CHECK(!subjects::IsValidSubject("sb..evt"));
  CHECK(!subjects::IsValidSubject("sb.evt "));
  CHECK(subjects::IsValidPattern("sb.evt.>"));
  CHECK(subjects::IsValidPattern("sb.*.call"));
  CHECK(!subjects::IsValidPattern("sb.>.call"));
}

TEST_CASE("the events stream captures the durable domains' events - not media's", "[unit]") {
  const auto config = sb::bus::EventsStream();
  CHECK(config.name == subjects::kEventsStream);
  auto captured = [&](const std::string& subject) {
    for (const auto& pattern : config.subjects) {
      if (subjects::Matches(pattern, subject)) return true;
    }
    return false;
  };
  for (const char* domain : {"call", "registration", "tenant", "extension", "number", "trunk"}) {
    INFO(domain);
    CHECK(captured(*subjects::Event(domain, "changed", sb::TenantId("t1"))));
  }
  CHECK(captured(*subjects::Event("call", "ended", sb::TenantId("t1"))));
  CHECK_FALSE(captured(*subjects::Event("media", "leg_stats", sb::TenantId("t1"))));
  CHECK_FALSE(captured(*subjects::Event("media", "node_load", sb::TenantId("platform"))));
  CHECK_FALSE(captured(*subjects::Command("billing", "authorize")));
  CHECK(config.storage == sb::bus::Storage::kFile);
}
