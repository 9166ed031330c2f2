#include "domain/validation.h"

#include <catch2/catch.hpp>

namespace sb::admin {
namespace {

struct Case {
  std::string input;
  bool ok;
};

void CheckAll(const std::vector<Case>& cases,
              Status (*validate)(std::string_view, std::string_view)) {
  for (const auto& c : cases) {
    DYNAMIC_SECTION("'" << c.input << "'") {
      Status s = validate(c.input, "the_field");
      CHECK(s.ok() == c.ok);
      if (!c.ok) {
        CHECK(s.code() == StatusCode::kInvalidArgument);
        CHECK(s.field() == "the_field");
        CHECK(s.message().find("the_field") != std::string::npos);
      }
    }
  }
}

TEST_CASE("a slug is a lowercase DNS label of 3 to 32 characters", "[unit]") {
  CheckAll({{"acme", true},
            {"acme-corp-2", true},
            {"a12", true},
            {std::string(32, 'a'), true},
            {"", false},
            {"ab", false},
            {std::string(33, 'a'), false},
            {"Acme", false},
            {"1acme", false},
            {"-acme", false},
            {"acme-", false},
            {"ac_me", false},
            {"ac.me", false},
            {"acmé", false}},
           ValidateSlug);
}

TEST_CASE("an E.164 number is '+' and 2 to 15 digits without a leading zero", "[unit]") {
  CheckAll({{"+15551230001", true},
            {"+442071838750", true},
            {"+12", true},
            {"+123456789012345", true},
            {"", false},
            {"15551230001", false},
            {"+", false},
            {"+1", false},
            {"+0123456", false},
            {"+1234567890123456", false},
            {"+1 555 123", false},
            {"+1-555-1230", false},
            {"++15551230001", false}},
           ValidateE164);
}

TEST_CASE("an extension number has 2 to 8 digits", "[unit]") {
  CheckAll({{"1001", true},
            {"10", true},
            {"12345678", true},
            {"", false},
            {"1", false},
            {"123456789", false},
            {"10a1", false},
            {"+1001", false}},
           ValidateExtensionNumber);
}

TEST_CASE("a SIP user follows the RFC 3261 user grammar", "[unit]") {
  CheckAll({{"alice", true},
            {"1001", true},
            {"a.b-c_d!~*'()", true},
            {"user&=+$,;?/", true},
            {"al%20ice", true},
            {"", false},
            {std::string(65, 'a'), false},
            {"al ice", false},
            {"alice@example.com", false},
            {"al:ice", false},
            {"al%2", false},
            {"al%zz", false},
            {"<alice>", false}},
           ValidateSipUser);
}

TEST_CASE("an extension's SIP user is written as the registrar matches it - one user, one spelling",
          "[unit]") {
  CheckAll({{"alice", true},
            {"al%20ice", true},   // a space must be escaped
            {"caf%C3%A9", true},  // so must bytes past ASCII, in upper-case hex
            {"a%62", false},      // "ab": 'b' needs no escape
            {"al%2Fice", false},  // '/' may stand as it is in a user part
            {"caf%c3%a9", false},
            {"al ice", false}},
           ValidateCanonicalSipUser);
}

TEST_CASE("a host is a host name or an IP literal", "[unit]") {
  CheckAll({{"sip.carrier.example", true},
            {"localhost", true},
            {"203.0.113.7", true},
            {"2001:db8::1", true},
            {"[2001:db8::1]", true},
            {"a-b.c", true},
            {"", false},
            {"-bad.example", false},
            {"bad-.example", false},
            {"under_score.example", false},
            {"double..dot", false},
            {"trailing.", false},
            {"999.1.1.1", false},
            {std::string(64, 'a') + ".example", false},
            {"host:5060", false}},
           ValidateHost);
}

TEST_CASE("a SIP domain is a domain name, not an address", "[unit]") {
  CheckAll({{"acme.sip.example.com", true}, {"10.0.0.1", false}, {"", false}, {"a b.c", false}},
           ValidateDomain);
}

TEST_CASE("ports are 1 to 65535", "[unit]") {
  CHECK(ValidatePort(1, "port").ok());
  CHECK(ValidatePort(5060, "port").ok());
  CHECK(ValidatePort(65535, "port").ok());
  CHECK(ValidatePort(0, "port").field() == "port");
  CHECK(ValidatePort(65536, "port").code() == StatusCode::kInvalidArgument);
  CHECK(ValidatePort(-1, "port").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("passwords are 8 to 128 printable ASCII characters", "[unit]") {
  CheckAll({{"s3cret-pass", true},
            {"12345678", true},
            {std::string(128, 'x'), true},
            {"short", false},
            {std::string(129, 'x'), false},
            {"tab\tinside", false},
            {"päss wörd", false}},
           ValidatePassword);
}

TEST_CASE("display text has no control characters or quotes", "[unit]") {
  CHECK(ValidateDisplayText("Alice Smith", "display_name", 64, false).ok());
  CHECK(ValidateDisplayText("Zoë", "display_name", 64, false).ok());
  CHECK(ValidateDisplayText("", "display_name", 64, true).ok());
  CHECK(ValidateDisplayText("", "name", 64, false).field() == "name");
  CHECK(!ValidateDisplayText("Evil\"Quote", "display_name", 64, true).ok());
  CHECK(!ValidateDisplayText("back\\slash", "display_name", 64, true).ok());
  CHECK(!ValidateDisplayText("new\nline", "display_name", 64, true).ok());
  CHECK(!ValidateDisplayText(std::string(65, 'a'), "display_name", 64, true).ok());
}

TEST_CASE("names are 1 to 64 of letters, digits and _ - .", "[unit]") {
  CheckAll({{"carrier-1", true},
            {"Main_Trunk.v2", true},
            {"", false},
            {"has space", false},
            {std::string(65, 'n'), false}},
           ValidateName);
}

TEST_CASE("a number target is empty or ext:<extension>", "[unit]") {
  CheckAll({{"", true},
            {"ext:1001", true},
            {"ext:", false},
            {"ext:1", false},
            {"1001", false},
            {"flow:abc", false},
            {"ext:10a1", false}},
           ValidateTarget);
}

TEST_CASE("prefix rules name the sub-field at fault", "[unit]") {
  CHECK(ValidatePrefixRule({"00", 2, "+"}, "prefix_rules[0]").ok());
  CHECK(ValidatePrefixRule({"", 0, ""}, "prefix_rules[0]").ok());
  CHECK(ValidatePrefixRule({"0a", 1, ""}, "prefix_rules[1]").field() == "prefix_rules[1].match");
  CHECK(ValidatePrefixRule({"0", 17, ""}, "prefix_rules[0]").field() == "prefix_rules[0].strip");
  CHECK(ValidatePrefixRule({"0", -1, ""}, "prefix_rules[0]").field() == "prefix_rules[0].strip");
  CHECK(ValidatePrefixRule({"0", 0, "x"}, "prefix_rules[2]").field() == "prefix_rules[2].prepend");
}

TEST_CASE("ids are UUIDs", "[unit]") {
  CHECK(ValidateId("0190f3a0-1c2b-7d3e-8f40-123456789abc", "id").ok());
  CHECK(ValidateId("", "id").field() == "id");
  CHECK(ValidateId("not-a-uuid", "tenant_id").field() == "tenant_id");
  CHECK(ValidateId("' OR 1=1 --", "id").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("CIDRs are canonicalised and host bits must be zero", "[unit]") {
  CHECK(*CanonicalCidr("203.0.113.0/24", "f") == "203.0.113.0/24");
  CHECK(*CanonicalCidr("203.0.113.7", "f") == "203.0.113.7/32");
  CHECK(*CanonicalCidr("0.0.0.0/0", "f") == "0.0.0.0/0");
  CHECK(*CanonicalCidr("2001:DB8:0:0::/32", "f") == "2001:db8::/32");
  CHECK(*CanonicalCidr("::1", "f") == "::1/128");
  for (std::string bad : {"", "203.0.113.7/24", "203.0.113.0/33", "203.0.113.0/", "10.0.0.0/ab",
                          "10.0.0/8", "example.com/24", "2001:db8::/129", "1.2.3.4/024x"}) {
    DYNAMIC_SECTION(bad) {
      auto r = CanonicalCidr(bad, "inbound_sources[3]");
      REQUIRE(!r.ok());
      CHECK(r.status().field() == "inbound_sources[3]");
    }
  }
}

TEST_CASE("CidrContains matches addresses inside the prefix only", "[unit]") {
  CHECK(CidrContains("203.0.113.0/24", "203.0.113.200"));
  CHECK(!CidrContains("203.0.113.0/24", "203.0.114.1"));
  CHECK(CidrContains("203.0.113.7/32", "203.0.113.7"));
  CHECK(!CidrContains("203.0.113.7/32", "203.0.113.8"));
  CHECK(CidrContains("0.0.0.0/0", "198.51.100.1"));
  CHECK(CidrContains("10.0.0.0/9", "10.127.255.255"));
  CHECK(!CidrContains("10.0.0.0/9", "10.128.0.0"));
  CHECK(CidrContains("2001:db8::/32", "2001:db8:ffff::1"));
  CHECK(!CidrContains("2001:db8::/32", "203.0.113.1"));
  CHECK(!CidrContains("203.0.113.0/24", "garbage"));
}

TEST_CASE("a tenant's SIP domain is its slug under the platform domain", "[unit]") {
  CHECK(TenantSipDomain("acme", "sip.example.com") == "acme.sip.example.com");
}

}  // namespace
}  // namespace sb::admin
