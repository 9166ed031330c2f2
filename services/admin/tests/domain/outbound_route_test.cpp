// Outbound route choice: longest prefix match across a tenant's trunks, rewriting and caller id.
#include "domain/outbound_route.h"

#include <catch2/catch.hpp>

namespace sb::admin {
namespace {

Trunk MakeTrunk(std::string name, std::vector<PrefixRule> rules,
                CallerIdPolicy policy = CallerIdPolicy::kPassthrough, std::string fixed = {}) {
  Trunk t;
  t.name = std::move(name);
  t.prefix_rules = std::move(rules);
  t.caller_id_policy = policy;
  t.fixed_caller_id = std::move(fixed);
  return t;
}

TEST_CASE("the longest matching prefix across trunks wins", "[admin][routing]") {
  std::vector<Trunk> trunks{
      MakeTrunk("catch-all", {{.match = "", .strip = 0, .prepend = ""}}),
      MakeTrunk("germany", {{.match = "+49", .strip = 1, .prepend = "00"}}),
      MakeTrunk("berlin", {{.match = "+4930", .strip = 0, .prepend = ""}}),
  };
  auto berlin = ChooseOutboundRoute(trunks, "+4930123456", "");
  REQUIRE(berlin.ok());
  CHECK(berlin->trunk->name == "berlin");
  CHECK(berlin->dialed == "+4930123456");

  auto munich = ChooseOutboundRoute(trunks, "+4989123456", "");
  REQUIRE(munich.ok());
  CHECK(munich->trunk->name == "germany");
  CHECK(munich->dialed == "004989123456");

  auto france = ChooseOutboundRoute(trunks, "+33123456789", "");
  REQUIRE(france.ok());
  CHECK(france->trunk->name == "catch-all");
  CHECK(france->dialed == "+33123456789");
}

TEST_CASE("a tie goes to the trunk listed first then to its earlier rule", "[admin][routing]") {
  std::vector<Trunk> trunks{
      MakeTrunk("older", {{.match = "0", .strip = 1, .prepend = "+44"},
                          {.match = "0", .strip = 0, .prepend = "9"}}),
      MakeTrunk("newer", {{.match = "0", .strip = 0, .prepend = ""}}),
  };
  auto r = ChooseOutboundRoute(trunks, "02071234567", "");
  REQUIRE(r.ok());
  CHECK(r->trunk->name == "older");
  CHECK(r->dialed == "+442071234567");
}

TEST_CASE("no matching rule or no rules at all is NOT_FOUND", "[admin][routing]") {
  std::vector<Trunk> trunks{MakeTrunk("us-only", {{.match = "+1", .strip = 0, .prepend = ""}}),
                            MakeTrunk("inbound-only", {})};
  CHECK(ChooseOutboundRoute(trunks, "+4930123", "").status().code() == StatusCode::kNotFound);
  CHECK(ChooseOutboundRoute({}, "+15551230001", "").status().code() == StatusCode::kNotFound);
}

TEST_CASE("strip longer than the number leaves only the prepend", "[admin][routing]") {
  std::vector<Trunk> trunks{MakeTrunk("t", {{.match = "9", .strip = 16, .prepend = "+1"}})};
  auto r = ChooseOutboundRoute(trunks, "912", "");
  REQUIRE(r.ok());
  CHECK(r->dialed == "+1");
}

TEST_CASE("caller id follows the trunk policy", "[admin][routing]") {
  const PrefixRule all{.match = "", .strip = 0, .prepend = ""};
  SECTION("passthrough presents the calling extension's caller id") {
    std::vector<Trunk> t{MakeTrunk("p", {all}, CallerIdPolicy::kPassthrough)};
    auto r = ChooseOutboundRoute(t, "123", "+15551230001");
    REQUIRE(r.ok());
    CHECK(r->caller_id == "+15551230001");
    CHECK_FALSE(r->caller_id_blocked);
  }
  SECTION("fixed presents the trunk's number whatever the extension's") {
    std::vector<Trunk> t{MakeTrunk("f", {all}, CallerIdPolicy::kFixed, "+15550000000")};
    auto r = ChooseOutboundRoute(t, "123", "+15551230001");
    REQUIRE(r.ok());
    CHECK(r->caller_id == "+15550000000");
    CHECK_FALSE(r->caller_id_blocked);
  }
  SECTION("block presents nothing and says so") {
    std::vector<Trunk> t{MakeTrunk("b", {all}, CallerIdPolicy::kBlock)};
    auto r = ChooseOutboundRoute(t, "123", "+15551230001");
    REQUIRE(r.ok());
    CHECK(r->caller_id.empty());
    CHECK(r->caller_id_blocked);
  }
}

TEST_CASE("malformed dialed numbers are INVALID_ARGUMENT naming dialed", "[admin][routing]") {
  std::vector<Trunk> trunks{MakeTrunk("t", {{.match = "", .strip = 0, .prepend = ""}})};
  for (const char* bad :
       {"", "+", "12a4", "++1", "1 2", "sip:1@x", "123456789012345678901234567890123"}) {
    INFO(bad);
    auto r = ChooseOutboundRoute(trunks, bad, "");
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().field() == "dialed");
  }
  CHECK(ChooseOutboundRoute(trunks, "*21#", "").ok());
  CHECK(ChooseOutboundRoute(trunks, "+15551230001", "").ok());
}

}  // namespace
}  // namespace sb::admin
