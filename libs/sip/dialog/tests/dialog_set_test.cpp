// Forking (RFC 3261 §12.1.2, §13.2.2.4, §19.3): one INVITE, several To tags, several dialogs.
#include "switchboard/sip/dialog_set.h"

#include <catch2/catch.hpp>

using namespace sb::sip;

namespace {

Message Parse(std::string_view text) {
  auto m = Message::Parse(text);
  if (!m.ok()) FAIL("does not parse: " << m.error().ToString() << "\n" << text);
  return std::move(*m);
}

const char* kInvite =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKfork\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@example.com>;tag=a1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: fork-1@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@127.0.0.1:5061>\r\n"
    "Content-Length: 0\r\n\r\n";

Message Response(int code, std::string_view to_tag, std::string_view contact_host) {
  std::string to = "To: <sip:bob@example.com>";
  if (!to_tag.empty()) to += ";tag=" + std::string(to_tag);
  return Parse("SIP/2.0 " + std::to_string(code) +
               " X\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKfork\r\n"
               "From: <sip:alice@example.com>;tag=a1\r\n" +
               to +
               "\r\n"
               "Call-ID: fork-1@127.0.0.1\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:bob@" +
               std::string(contact_host) + ">\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace

TEST_CASE("forked 1xx responses make one early dialog per To tag", "[dialog]") {
  DialogSet set;
  auto invite = Parse(kInvite);
  CHECK_FALSE(set.OnUacResponse(invite, Response(100, "", "x")));
  auto a = set.OnUacResponse(invite, Response(180, "phone-a", "192.0.2.1"));
  auto b = set.OnUacResponse(invite, Response(183, "phone-b", "192.0.2.2"));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);
  CHECK(set.size() == 2);
  CHECK(set.Forks("fork-1@127.0.0.1", "a1").size() == 2);
  CHECK(set.Find(*a)->remote_target() == "sip:bob@192.0.2.1");
  CHECK(set.Find(*b)->remote_target() == "sip:bob@192.0.2.2");
  // A second 180 from phone-a is the same dialog.
  CHECK(set.OnUacResponse(invite, Response(180, "phone-a", "192.0.2.1")) == a);
  CHECK(set.size() == 2);

  SECTION("a 200 from one fork confirms it; the other stays early") {
    CHECK(set.OnUacResponse(invite, Response(200, "phone-b", "192.0.2.2")) == b);
    CHECK(set.Find(*b)->state() == DialogState::kConfirmed);
    CHECK(set.Find(*a)->state() == DialogState::kEarly);
  }
  SECTION("two 200s: two confirmed dialogs (the TU ACKs both and BYEs one)") {
    (void)set.OnUacResponse(invite, Response(200, "phone-a", "192.0.2.1"));
    (void)set.OnUacResponse(invite, Response(200, "phone-b", "192.0.2.2"));
    CHECK(set.Find(*a)->state() == DialogState::kConfirmed);
    CHECK(set.Find(*b)->state() == DialogState::kConfirmed);
  }
  SECTION("a 200 from a fork never seen before creates its dialog confirmed") {
    auto c = set.OnUacResponse(invite, Response(200, "phone-c", "192.0.2.3"));
    REQUIRE(c);
    CHECK(set.Find(*c)->state() == DialogState::kConfirmed);
    CHECK(set.size() == 3);
  }
  SECTION("a final failure ends every early fork, whatever its To tag") {
    CHECK_FALSE(set.OnUacResponse(invite, Response(487, "proxy-tag", "x")));
    CHECK(set.Find(*a)->state() == DialogState::kTerminated);
    CHECK(set.Find(*b)->state() == DialogState::kTerminated);
    CHECK(set.Collect() == 2);
    CHECK(set.size() == 0);
  }
}

TEST_CASE("a received in-dialog request is matched by Call-ID and both tags", "[dialog]") {
  DialogSet set;
  auto invite = Parse(kInvite);
  auto id = set.AddUas(invite, "b7", 200, "sip:bob@127.0.0.1:5062", 100);
  REQUIRE(id.ok());
  CHECK(set.AddUas(invite, "b7", 200, "sip:bob@127.0.0.1:5062", 100).status().code() ==
        sb::StatusCode::kAlreadyExists);
  auto bye = Parse(
      "BYE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKbye\r\n"
      "From: <sip:alice@example.com>;tag=a1\r\n"
      "To: <sip:bob@example.com>;tag=b7\r\n"
      "Call-ID: fork-1@127.0.0.1\r\n"
      "CSeq: 2 BYE\r\n"
      "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  Dialog* d = set.Match(bye);
  REQUIRE(d != nullptr);
  CHECK(d->id() == *id);
  auto other = Parse(
      "BYE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKbye2\r\n"
      "From: <sip:alice@example.com>;tag=a1\r\n"
      "To: <sip:bob@example.com>;tag=someone-else\r\n"
      "Call-ID: fork-1@127.0.0.1\r\n"
      "CSeq: 2 BYE\r\n"
      "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  CHECK(set.Match(other) == nullptr);  // the UAS answers 481
}
