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
