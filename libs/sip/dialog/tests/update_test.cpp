// UPDATE (RFC 3311) at the dialog layer: in early and confirmed dialogs, as a target refresh that
// neither confirms nor ends an early dialog, with the offer/answer rules of §5.1 and §5.2 (one
// offer at a time, 491 on glare, 500 on a second unanswered remote offer).
#include <catch2/catch.hpp>

#include "switchboard/sip/builder.h"
#include "switchboard/sip/dialog.h"
#include "switchboard/sip/message.h"

using namespace sb::sip;

namespace {

Message Parse(std::string_view text) {
  auto m = Message::Parse(text);
  if (!m.ok()) FAIL("does not parse: " << m.error().ToString() << "\n" << text);
  return std::move(*m);
}

constexpr std::string_view kInvite =
    "INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKu1\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n"
    "To: Bob <sip:bob@127.0.0.1>\r\n"
    "Call-ID: up-1@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@127.0.0.1:5061>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK\r\n"
    "Content-Length: 0\r\n\r\n";

// A response from Bob to Alice's request `cseq method`.
Message FromBob(int code, uint32_t cseq, std::string_view method, std::string_view contact,
                std::string_view allow = {}) {
  std::string text = "SIP/2.0 " + std::to_string(code) + " " +
                     std::string(DefaultReasonPhrase(code)) +
                     "\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKu1\r\n"
                     "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n"
                     "To: Bob <sip:bob@127.0.0.1>;tag=bob-tag\r\n"
                     "Call-ID: up-1@127.0.0.1\r\n"
                     "CSeq: " +
                     std::to_string(cseq) + " " + std::string(method) + "\r\n";
  if (!contact.empty()) text += "Contact: " + std::string(contact) + "\r\n";
  if (!allow.empty()) text += "Allow: " + std::string(allow) + "\r\n";
  return Parse(text + "Content-Length: 0\r\n\r\n");
}

// An UPDATE from Alice inside Bob's dialog.
Message UpdateFromAlice(uint32_t cseq, std::string_view contact) {
  return Parse(
      "UPDATE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKup" +
      std::to_string(cseq) +
      "\r\n"
      "Max-Forwards: 70\r\n"
      "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n"
      "To: Bob <sip:bob@127.0.0.1>;tag=bob-tag\r\n"
      "Call-ID: up-1@127.0.0.1\r\n"
      "CSeq: " +
      std::to_string(cseq) +
      " UPDATE\r\n"
      "Contact: " +
      std::string(contact) + "\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace

TEST_CASE("UAC: an UPDATE in the early dialog refreshes the target and keeps it early",
          "[update]") {
  auto invite = Parse(kInvite);
  auto early = Dialog::CreateUac(
      invite, FromBob(183, 1, "INVITE", "<sip:bob@127.0.0.1:5062>", "INVITE, ACK, BYE, UPDATE"));
  REQUIRE(early.ok());
  Dialog& d = *early;
  CHECK(d.state() == DialogState::kEarly);
  CHECK(d.PeerAllowsUpdate());

  REQUIRE(d.StartLocalOffer().ok());
  CHECK(d.negotiation() == Dialog::Negotiation::kLocalOffer);
  CHECK_FALSE(d.StartLocalOffer().ok());  // §5.1: one offer at a time
  auto update = d.MakeRequest("UPDATE", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKu2");
  REQUIRE(update.ok());
  auto m = update->BuildMessage();
  REQUIRE(m.ok());
  CHECK(m->method() == Method::kUpdate);
  CHECK((*m->GetCSeq())->number == 2u);
  CHECK((*m->To())->tag() == "bob-tag");
  CHECK(*m->Header(HeaderId::kContact) == "<sip:alice@127.0.0.1:5061>");  // a target refresh

  d.OnResponse(FromBob(200, 2, "UPDATE", "<sip:bob@10.0.0.9:5062>"));
  CHECK(d.state() == DialogState::kEarly);  // a 2xx to UPDATE does not confirm
  CHECK(d.remote_target() == "sip:bob@10.0.0.9:5062");
  CHECK(d.negotiation() == Dialog::Negotiation::kIdle);  // the 2xx carried the answer

  d.OnResponse(FromBob(200, 1, "INVITE", "<sip:bob@10.0.0.9:5062>"));
  CHECK(d.state() == DialogState::kConfirmed);
}

TEST_CASE("UAC: a refused UPDATE settles the offer and keeps the dialog but 481 ends it",
          "[update]") {
  auto invite = Parse(kInvite);
  auto confirmed = Dialog::CreateUac(invite, FromBob(200, 1, "INVITE", "<sip:bob@127.0.0.1>"));
  REQUIRE(confirmed.ok());
  Dialog& d = *confirmed;
  CHECK_FALSE(d.PeerAllowsUpdate());  // the 200 had no Allow
  REQUIRE(d.StartLocalOffer().ok());
  REQUIRE(d.MakeRequest("UPDATE", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKu3").ok());
  d.OnResponse(FromBob(488, 2, "UPDATE", ""));
  CHECK(d.state() == DialogState::kConfirmed);
  CHECK(d.negotiation() == Dialog::Negotiation::kIdle);
  CHECK(d.remote_target() == "sip:bob@127.0.0.1");  // a failure refreshes nothing
  // A 491 (glare at the peer) settles it too; the TU retries after a random wait (§14.1).
  REQUIRE(d.StartLocalOffer().ok());
  REQUIRE(d.MakeRequest("UPDATE", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKu4").ok());
  d.OnResponse(FromBob(491, 3, "UPDATE", ""));
  CHECK(d.negotiation() == Dialog::Negotiation::kIdle);
  d.OnResponse(FromBob(481, 3, "UPDATE", ""));
  CHECK(d.state() == DialogState::kTerminated);
  CHECK_FALSE(d.StartLocalOffer().ok());
}

TEST_CASE("UAS: UPDATEs in the early dialog where glare gives 491 and a second offer 500",
          "[update]") {
  auto invite = Parse(kInvite);
  auto early = Dialog::CreateUas(invite, "bob-tag", 180, "sip:bob@127.0.0.1:5062", 7000);
  REQUIRE(early.ok());
  Dialog& d = *early;
  CHECK(d.PeerAllowsUpdate());  // from the INVITE's Allow

  auto first = UpdateFromAlice(2, "<sip:alice@10.0.0.1:5061>");
  CHECK(d.OnRequest(first).reject_code == 0);
  CHECK(d.remote_cseq() == 2u);
  CHECK(d.remote_target() == "sip:alice@10.0.0.1:5061");
  CHECK(d.state() == DialogState::kEarly);
  CHECK(d.TakeRemoteOffer().reject_code == 0);
  CHECK(d.negotiation() == Dialog::Negotiation::kRemoteOffer);

  // §5.2: another offer before we answered the first: 500 (with Retry-After from the TU).
  auto second = UpdateFromAlice(3, "<sip:alice@10.0.0.1:5061>");
  CHECK(d.OnRequest(second).reject_code == 0);
  auto busy = d.TakeRemoteOffer();
  CHECK(busy.reject_code == 500);
  CHECK_FALSE(d.StartLocalOffer().ok());
  d.OfferSettled();  // we answered the first

  // §5.2: our own offer is out and theirs crosses it: 491.
  REQUIRE(d.StartLocalOffer().ok());
  auto glare = d.TakeRemoteOffer();
  CHECK(glare.reject_code == 491);
  CHECK(glare.reason == "Request Pending");
  CHECK(d.negotiation() == Dialog::Negotiation::kLocalOffer);

  // An UPDATE with an old CSeq is out of order whatever it carries (§12.2.2).
  CHECK(d.OnRequest(UpdateFromAlice(2, "<sip:alice@10.0.0.1:5061>")).reject_code == 500);
}

TEST_CASE("UAS: an UPDATE in the confirmed dialog and our own UPDATE to the caller", "[update]") {
  auto invite = Parse(kInvite);
  auto confirmed = Dialog::CreateUas(invite, "bob-tag", 200, "sip:bob@127.0.0.1:5062", 7000);
  REQUIRE(confirmed.ok());
  Dialog& d = *confirmed;
  CHECK(d.OnRequest(UpdateFromAlice(2, "<sip:alice@10.0.0.2:5061>")).reject_code == 0);
  CHECK(d.remote_target() == "sip:alice@10.0.0.2:5061");
  auto ours = d.MakeRequest("UPDATE", "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKb1");
  REQUIRE(ours.ok());
  auto m = ours->BuildMessage();
  REQUIRE(m.ok());
  CHECK(m->request_uri_text() == "sip:alice@10.0.0.2:5061");
  CHECK((*m->GetCSeq())->number == 7000u);
  CHECK((*m->From())->tag() == "bob-tag");
  CHECK((*m->To())->tag() == "alice-tag");
  CHECK(*m->Header(HeaderId::kContact) == "<sip:bob@127.0.0.1:5062>");
}
