// RFC 3261 §10.3 binding rules: several contacts per address of record, expiry from the Contact
// parameter or the Expires header, un-register by expires=0 and by "Contact: *", q-values,
// Call-ID/CSeq ordering and the Min-Expires floor, on explicit wall times.
#include "registrar/bindings.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using sb::signaling::ApplyRegister;
using sb::signaling::Binding;
using sb::signaling::RegisterError;
using sb::signaling::RegisterOutcome;
using sb::signaling::RegistrarPolicy;

const sb::signaling::WallTime kT0{std::chrono::seconds(1767225600)};

sb::sip::Message Register(std::string_view contacts, uint32_t cseq = 1,
                          std::string_view call_id = "reg-1", std::string_view expires = {}) {
  std::string m = "REGISTER sip:acme.sb.test SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKreg" + std::to_string(cseq) + "\r\n";
  m += "Max-Forwards: 70\r\nFrom: <sip:alice@acme.sb.test>;tag=1\r\n";
  m += "To: <sip:alice@ACME.sb.test:5060>\r\n";
  m += "Call-ID: " + std::string(call_id) + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
  if (!contacts.empty()) m += "Contact: " + std::string(contacts) + "\r\n";
  if (!expires.empty()) m += "Expires: " + std::string(expires) + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  auto parsed = sb::sip::Message::Parse(m);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

std::vector<Binding> Ok(const std::variant<RegisterOutcome, RegisterError>& outcome) {
  REQUIRE(std::holds_alternative<RegisterOutcome>(outcome));
  return std::get<RegisterOutcome>(outcome).bindings;
}

int ErrorCode(const std::variant<RegisterOutcome, RegisterError>& outcome) {
  REQUIRE(std::holds_alternative<RegisterError>(outcome));
  return std::get<RegisterError>(outcome).code;
}

}  // namespace

TEST_CASE("the address of record is the To URI without port / host lower-cased", "[unit]") {
  auto aor = sb::signaling::AddressOfRecord(Register("<sip:alice@192.0.2.7>"));
  REQUIRE(aor.ok());
  CHECK(*aor == "sip:alice@acme.sb.test");
}

TEST_CASE("escapes a user part need not have do not make another address of record", "[unit]") {
  // §10.3 step 5 / §19.1.4: escaped and unescaped forms of a character are the same URI.
  auto parsed = sb::sip::Message::Parse(
      "REGISTER sip:acme.sb.test SIP/2.0\r\nTo: <sip:%61lic%65@ACME.sb.test;user=phone>\r\n"
      "From: <sip:alice@acme.sb.test>;tag=1\r\nMax-Forwards: 70\r\nCall-ID: esc\r\n"
      "CSeq: 1 REGISTER\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKesc\r\n"
      "Contact: <sip:alice@192.0.2.7>\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(parsed.ok());
  auto aor = sb::signaling::AddressOfRecord(*parsed);
  REQUIRE(aor.ok());
  CHECK(*aor == "sip:alice@acme.sb.test");
  using sb::signaling::CanonicalAor;
  CHECK(CanonicalAor("SIP", "1002", "Acme.sb.test") == "sip:1002@acme.sb.test");
  CHECK(CanonicalAor("sip", "%31002", "acme.sb.test") == "sip:1002@acme.sb.test");
  // user-unreserved characters need no escape; a space, '@' or NUL keeps one, in upper-case hex.
  CHECK(CanonicalAor("sip", "a%3fb%2B", "h") == "sip:a?b+@h");
  CHECK(CanonicalAor("sip", "a%20b%40c", "h") == "sip:a%20b%40c@h");
  CHECK(CanonicalAor("sip", "null-%00-null", "h") == "sip:null-%00-null@h");
  CHECK(CanonicalAor("sips", "x%2a", "h") == "sips:x*@h");
}

TEST_CASE("several contacts per AOR / ordered by q / expiry from param or Expires", "[unit]") {
  RegistrarPolicy policy;
  auto bindings = Ok(ApplyRegister(
      Register("<sip:alice@192.0.2.7:5060>;q=0.5, <sip:alice@198.51.100.9>;expires=120;q=0.9", 1,
               "reg-1", "600"),
      {}, kT0, policy, "udp:192.0.2.7:5060"));
  REQUIRE(bindings.size() == 2);
  CHECK(bindings[0].contact == "sip:alice@198.51.100.9");
  CHECK(bindings[0].q_milli == 900);
  CHECK(bindings[0].expires_at == kT0 + 120s);
  CHECK(bindings[1].contact == "sip:alice@192.0.2.7:5060");
  CHECK(bindings[1].q_milli == 500);
  CHECK(bindings[1].expires_at == kT0 + 600s);
  CHECK(bindings[1].source == "udp:192.0.2.7:5060");

  auto contacts = sb::signaling::ContactHeaders(bindings, kT0 + 20s);
  CHECK(contacts == std::vector<std::string>{"<sip:alice@198.51.100.9>;expires=100;q=0.900",
                                             "<sip:alice@192.0.2.7:5060>;expires=580;q=0.500"});
}

TEST_CASE("a refresh replaces its binding -- an expired binding disappears", "[unit]") {
  RegistrarPolicy policy;
  auto first = Ok(ApplyRegister(Register("<sip:alice@192.0.2.7>", 1, "reg-1", "300"), {}, kT0,
                                policy, "udp:192.0.2.7:5060"));
  auto refreshed = Ok(ApplyRegister(Register("<sip:alice@192.0.2.7>", 2, "reg-1", "300"), first,
                                    kT0 + 200s, policy, "udp:192.0.2.7:5060"));
  REQUIRE(refreshed.size() == 1);
  CHECK(refreshed[0].expires_at == kT0 + 500s);
  CHECK(refreshed[0].cseq == 2);

  // Another phone registering after the first expired finds only itself.
  auto later = Ok(ApplyRegister(Register("<sip:alice@203.0.113.4>", 1, "reg-2", "300"), refreshed,
                                kT0 + 501s, policy, "udp:203.0.113.4:5060"));
  REQUIRE(later.size() == 1);
  CHECK(later[0].contact == "sip:alice@203.0.113.4");
}

TEST_CASE(
    "a phone that registers its instance and reg-id from another address replaces its binding - "
    "the 200 lists it with both",
    "[unit]") {
  RegistrarPolicy policy;
  const std::string instance = "\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"";
  auto first = Ok(
      ApplyRegister(Register("<sip:alice@192.0.2.7:5060>;+sip.instance=" + instance + ";reg-id=1",
                             1, "reg-1", "300"),
                    {}, kT0, policy, "udp:192.0.2.7:5060"));
  REQUIRE(first.size() == 1);
  CHECK(first[0].instance == instance);
  CHECK(first[0].reg_id == 1);
  // The phone's NAT mapping changed: a new Call-ID, a new contact, the same flow.
  auto moved = Ok(ApplyRegister(
      Register("<sip:alice@198.51.100.9:41000>;+sip.instance=" + instance + ";reg-id=1", 1, "reg-2",
               "300"),
      first, kT0 + 60s, policy, "udp:198.51.100.9:41000"));
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].contact == "sip:alice@198.51.100.9:41000");
  CHECK(moved[0].source == "udp:198.51.100.9:41000");
  CHECK(sb::signaling::ContactHeaders(moved, kT0 + 60s) ==
        std::vector<std::string>{
            "<sip:alice@198.51.100.9:41000>;expires=300;+sip.instance=" + instance + ";reg-id=1"});

  // A second flow of the same instance (another reg-id) is a binding of its own.
  auto two = Ok(ApplyRegister(
      Register("<sip:alice@198.51.100.9:41001>;+sip.instance=" + instance + ";reg-id=2", 1, "reg-3",
               "300"),
      moved, kT0 + 61s, policy, "udp:198.51.100.9:41001"));
  CHECK(two.size() == 2);
  // Un-registering the first flow by its instance leaves the second.
  auto one = Ok(ApplyRegister(
      Register("<sip:alice@203.0.113.1>;+sip.instance=" + instance + ";reg-id=1", 2, "reg-2", "0"),
      two, kT0 + 62s, policy, "udp:203.0.113.1:5060"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].reg_id == 2);
}

TEST_CASE("a reg-id without an instance, or out of range, is 400", "[unit]") {
  RegistrarPolicy policy;
  CHECK(ErrorCode(ApplyRegister(Register("<sip:alice@192.0.2.7>;reg-id=1"), {}, kT0, policy,
                                "udp:192.0.2.7:5060")) == 400);
  for (const char* reg_id : {"0", "2147483648", "x"}) {
    INFO(reg_id);
    CHECK(ErrorCode(ApplyRegister(
              Register(std::string("<sip:alice@192.0.2.7>;+sip.instance=\"<urn:uuid:1>\";reg-id=") +
                       reg_id),
              {}, kT0, policy, "udp:192.0.2.7:5060")) == 400);
  }
}

TEST_CASE("a query (no Contact) changes nothing and lists the bindings", "[unit]") {
  RegistrarPolicy policy;
  auto bindings = Ok(ApplyRegister(Register("<sip:alice@192.0.2.7>"), {}, kT0, policy, "s"));
  auto outcome = ApplyRegister(Register("", 2), bindings, kT0 + 1s, policy, "s");
  REQUIRE(std::holds_alternative<RegisterOutcome>(outcome));
  CHECK_FALSE(std::get<RegisterOutcome>(outcome).changed);
  CHECK(std::get<RegisterOutcome>(outcome).bindings == bindings);
}

TEST_CASE("un-register: expires=0 removes one contact / Contact * with Expires 0 all", "[unit]") {
  RegistrarPolicy policy;
  auto two =
      Ok(ApplyRegister(Register("<sip:a@192.0.2.7>, <sip:b@192.0.2.8>"), {}, kT0, policy, "s"));
  auto one = Ok(ApplyRegister(Register("<sip:a@192.0.2.7>;expires=0", 2), two, kT0, policy, "s"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].contact == "sip:b@192.0.2.8");
  CHECK(Ok(ApplyRegister(Register("*", 3, "reg-1", "0"), two, kT0, policy, "s")).empty());
  CHECK(ErrorCode(ApplyRegister(Register("*", 3, "reg-1", "60"), two, kT0, policy, "s")) == 400);
  CHECK(ErrorCode(ApplyRegister(Register("*, <sip:a@192.0.2.7>", 3, "reg-1", "0"), two, kT0, policy,
                                "s")) == 400);
}

TEST_CASE("a REGISTER older than the binding's CSeq of the same Call-ID fails", "[unit]") {
  RegistrarPolicy policy;
  auto bindings = Ok(ApplyRegister(Register("<sip:a@192.0.2.7>", 5), {}, kT0, policy, "s"));
  CHECK(ErrorCode(ApplyRegister(Register("<sip:a@192.0.2.7>", 5), bindings, kT0, policy, "s")) ==
        500);
  CHECK(ErrorCode(ApplyRegister(Register("*", 4, "reg-1", "0"), bindings, kT0, policy, "s")) ==
        500);
  // A different Call-ID (the phone rebooted) may start its CSeq again.
  CHECK(Ok(ApplyRegister(Register("<sip:a@192.0.2.7>", 1, "reg-new"), bindings, kT0, policy, "s"))
            .at(0)
            .call_id == "reg-new");
}

TEST_CASE("expiry below the minimum is 423 with Min-Expires -- above the maximum is capped",
          "[unit]") {
  RegistrarPolicy policy;
  policy.min_expires = 60;
  policy.max_expires = 1800;
  auto too_brief = ApplyRegister(Register("<sip:a@192.0.2.7>;expires=30"), {}, kT0, policy, "s");
  REQUIRE(ErrorCode(too_brief) == 423);
  CHECK(std::get<RegisterError>(too_brief).headers.at(0) ==
        std::pair<std::string, std::string>{"Min-Expires", "60"});
  auto capped =
      Ok(ApplyRegister(Register("<sip:a@192.0.2.7>", 1, "r", "7200"), {}, kT0, policy, "s"));
  CHECK(capped.at(0).expires_at == kT0 + 1800s);
}

TEST_CASE("bad q-values are refused and the contact count is bounded", "[unit]") {
  RegistrarPolicy policy;
  policy.max_contacts = 2;
  CHECK(ErrorCode(ApplyRegister(Register("<sip:a@192.0.2.7>;q=1.5"), {}, kT0, policy, "s")) == 400);
  CHECK(ErrorCode(ApplyRegister(Register("<sip:a@192.0.2.7>, <sip:b@192.0.2.7>, <sip:c@192.0.2.7>"),
                                {}, kT0, policy, "s")) == 403);
  CHECK(sb::signaling::ParseQValue("0.125") == 125);
  CHECK(sb::signaling::ParseQValue("1.000") == 1000);
  CHECK(sb::signaling::ParseQValue("0.1234") == std::nullopt);
  CHECK(sb::signaling::ParseQValue(".5") == std::nullopt);
}

// RFC 4475's registrar messages (§3.1.1.4, §3.3.12-14), as the registrar sees them after digest.

TEST_CASE("Contact URIs are one binding when equivalent by RFC 3261 section 19.1.4", "[unit]") {
  struct Case {
    std::string_view a, b;
    bool same;
  };
  auto c = GENERATE(values<Case>({
      {"sip:a@h.example", "sip:a@h.example", true},
      {"sip:a@h.example", "sip:a@H.EXAMPLE", true},
      {"sip:+19725552222@gw1.example.net", "sip:+19725552222@gw1.example.net;unknownparam", true},
      {"sip:%61@h.example", "sip:a@h.example", true},
      {"sip:%00@host5.example.com", "sip:%00%00@host5.example.com", false},
      {"sip:a@h.example;transport=tcp", "sip:a@h.example", false},
      {"sip:a@h.example?Route=%3Csip:x.example%3E", "sip:a@h.example", false},
      {"sip:a@h.example:5060", "sip:a@h.example", false},
  }));
  CAPTURE(c.a, c.b);
  CHECK(sb::signaling::SameContact(c.a, c.b) == c.same);
  CHECK(sb::signaling::SameContact(c.b, c.a) == c.same);
}

TEST_CASE("a parameter after an addr-spec Contact is not part of the bound URI", "[unit]") {
  // cparam01: without <> the ';unknownparam' is a contact-param (RFC 3261 §20.10).
  auto bindings = Ok(ApplyRegister(Register("sip:+19725552222@gw1.example.net;unknownparam"), {},
                                   kT0, RegistrarPolicy{}, "s"));
  REQUIRE(bindings.size() == 1);
  CHECK(bindings[0].contact == "sip:+19725552222@gw1.example.net");
  CHECK(sb::signaling::ContactHeaders(bindings, kT0) ==
        std::vector<std::string>{"<sip:+19725552222@gw1.example.net>;expires=3600"});
}

TEST_CASE("an equivalent Contact refreshes its binding with the URI as now written", "[unit]") {
  RegistrarPolicy policy;
  auto first =
      Ok(ApplyRegister(Register("sip:+19725552222@gw1.example.net;unknownparam", 2, "cparam01"), {},
                       kT0, policy, "s"));
  // cparam02: inside <> the parameter is the URI's, and the URI is equivalent to the bound one.
  auto outcome =
      ApplyRegister(Register("<sip:+19725552222@gw1.example.net;unknownparam>", 3, "cparam02"),
                    first, kT0 + 10s, policy, "s");
  REQUIRE(std::holds_alternative<RegisterOutcome>(outcome));
  CHECK(std::get<RegisterOutcome>(outcome).changed);
  const auto& next = std::get<RegisterOutcome>(outcome).bindings;
  REQUIRE(next.size() == 1);
  CHECK(next[0].contact == "sip:+19725552222@gw1.example.net;unknownparam");
  CHECK(next[0].call_id == "cparam02");
  CHECK(next[0].expires_at == kT0 + 10s + 3600s);
}

TEST_CASE("escaped NULs bind distinct contacts to the AOR written with its escapes", "[unit]") {
  // escnull: nothing may be cut at a NUL, neither the AOR user nor the two Contact users.
  auto parsed = sb::sip::Message::Parse(
      "REGISTER sip:example.com SIP/2.0\r\nTo: sip:null-%00-null@example.com\r\n"
      "From: sip:null-%00-null@example.com;tag=839923423\r\nMax-Forwards: 70\r\n"
      "Call-ID: escnull\r\nCSeq: 14398234 REGISTER\r\n"
      "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\r\n"
      "Contact: <sip:%00@host5.example.com>\r\nContact: <sip:%00%00@host5.example.com>\r\n"
      "L:0\r\n\r\n");
  REQUIRE(parsed.ok());
  auto aor = sb::signaling::AddressOfRecord(*parsed);
  REQUIRE(aor.ok());
  CHECK(*aor == "sip:null-%00-null@example.com");
  auto bindings = Ok(ApplyRegister(*parsed, {}, kT0, RegistrarPolicy{}, "s"));
  REQUIRE(bindings.size() == 2);
  CHECK(bindings[0].contact == "sip:%00@host5.example.com");
  CHECK(bindings[1].contact == "sip:%00%00@host5.example.com");
}

TEST_CASE("a Contact URI with an escaped header is bound and answered as written", "[unit]") {
  // regescrt: a header in a Contact URI inside <> is well formed (RFC 4475 §3.3.14).
  auto bindings =
      Ok(ApplyRegister(Register("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>"), {}, kT0,
                       RegistrarPolicy{}, "s"));
  REQUIRE(bindings.size() == 1);
  CHECK(bindings[0].contact == "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
  CHECK(sb::signaling::ContactHeaders(bindings, kT0) ==
        std::vector<std::string>{
            "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=3600"});
}
