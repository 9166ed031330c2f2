// Dialogs (RFC 3261 §12): creation on both sides, route sets, CSeq, target refresh, in-dialog
// requests with loose and strict routing, termination. The messages follow RFC 3665 §3.2
// (session through two proxies).
#include "switchboard/sip/dialog.h"

#include <catch2/catch.hpp>

#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"

using namespace sb::sip;

namespace {

Message Parse(std::string_view text) {
  auto m = Message::Parse(text);
  if (!m.ok()) FAIL("does not parse: " << m.error().ToString() << "\n" << text);
  return std::move(*m);
}

// Alice's INVITE as it leaves her UA.
std::string InviteText(std::string_view from_params = ";tag=9fxced76sl") {
  return "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
         "Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
         "Max-Forwards: 70\r\n"
         "Route: <sip:ss1.atlanta.example.com;lr>\r\n"
         "From: Alice <sip:alice@atlanta.example.com>" +
         std::string(from_params) +
         "\r\n"
         "To: Bob <sip:bob@biloxi.example.com>\r\n"
         "Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: <sip:alice@client.atlanta.example.com>\r\n"
         "Content-Length: 0\r\n\r\n";
}

// Bob's response as it reaches Alice, through ss1 and ss2 which both record-routed.
std::string ResponseText(int code, std::string_view reason, std::string_view to_tag,
                         std::string_view contact = "<sip:bob@client.biloxi.example.com>",
                         std::string_view record_route =
                             "Record-Route: <sip:ss2.biloxi.example.com;lr>,\r\n"
                             " <sip:ss1.atlanta.example.com;lr>\r\n",
                         uint32_t cseq = 1, std::string_view method = "INVITE") {
  std::string out = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n" +
                    "Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;"
                    "received=192.0.2.101\r\n" +
                    std::string(record_route) +
                    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
                    "To: Bob <sip:bob@biloxi.example.com>;tag=" +
                    std::string(to_tag) +
                    "\r\n"
                    "Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com\r\n"
                    "CSeq: " +
                    std::to_string(cseq) + " " + std::string(method) + "\r\n";
  if (!contact.empty()) out += "Contact: " + std::string(contact) + "\r\n";
  return out + "Content-Length: 0\r\n\r\n";
}

Dialog UacConfirmed() {
  auto invite = Parse(InviteText());
  auto d = Dialog::CreateUac(invite, Parse(ResponseText(200, "OK", "314159")));
  REQUIRE(d.ok());
  return std::move(*d);
}

std::vector<std::string> Routes(const Message& m) {
  std::vector<std::string> out;
  for (auto r : m.Values(HeaderId::kRoute)) out.emplace_back(r);
  return out;
}

constexpr std::string_view kVia = "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKnew";

}  // namespace

TEST_CASE("UAC: a 180 with a To tag creates an early dialog the 200 confirms it", "[dialog]") {
  auto invite = Parse(InviteText());
  auto early = Dialog::CreateUac(invite, Parse(ResponseText(180, "Ringing", "314159")));
  REQUIRE(early.ok());
  CHECK(early->state() == DialogState::kEarly);
  CHECK(early->is_uac());
  CHECK(early->id() == DialogId{"2xTb9vxSit55XU7p8@atlanta.example.com", "9fxced76sl", "314159"});
  CHECK(early->local_uri() == "Alice <sip:alice@atlanta.example.com>");
  CHECK(early->remote_uri() == "Bob <sip:bob@biloxi.example.com>");
  CHECK(early->remote_target() == "sip:bob@client.biloxi.example.com");
  CHECK(early->local_target() == "sip:alice@client.atlanta.example.com");
  // §12.1.2: the UAC's route set is the Record-Route in reverse order.
  CHECK(early->route_set() == std::vector<std::string>{"<sip:ss1.atlanta.example.com;lr>",
                                                       "<sip:ss2.biloxi.example.com;lr>"});
  CHECK(early->local_cseq() == 1u);
  CHECK_FALSE(early->remote_cseq());
  CHECK_FALSE(early->secure());

  // §13.2.2.4: the 2xx confirms and its Record-Route replaces the route set.
  early->OnResponse(Parse(ResponseText(200, "OK", "314159", "<sip:bob@192.0.2.4>",
                                       "Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n")));
  CHECK(early->state() == DialogState::kConfirmed);
  CHECK(early->route_set() == std::vector<std::string>{"<sip:ss2.biloxi.example.com;lr>"});
  CHECK(early->remote_target() == "sip:bob@192.0.2.4");
}

TEST_CASE("UAC: responses that cannot create a dialog", "[dialog]") {
  auto invite = Parse(InviteText());
  CHECK_FALSE(Dialog::CreateUac(invite, Parse(ResponseText(100, "Trying", "x"))).ok());
  CHECK_FALSE(Dialog::CreateUac(invite, Parse(ResponseText(486, "Busy Here", "x"))).ok());
  std::string no_tag = ResponseText(180, "Ringing", "x");
  no_tag.replace(no_tag.find(";tag=x"), 6, "");
  CHECK_FALSE(Dialog::CreateUac(invite, Parse(no_tag)).ok());
}

TEST_CASE("UAC: a 3xx-6xx to the INVITE ends the early dialog", "[dialog]") {
  auto invite = Parse(InviteText());
  auto d = Dialog::CreateUac(invite, Parse(ResponseText(183, "Session Progress", "a")));
  REQUIRE(d.ok());
  d->OnResponse(Parse(ResponseText(487, "Request Terminated", "a")));
  CHECK(d->state() == DialogState::kTerminated);
}

TEST_CASE("UAS: the dialog from a received INVITE", "[dialog]") {
  // The INVITE as Bob receives it: both proxies record-routed.
  std::string text = InviteText();
  text.insert(text.find("From:"),
              "Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n"
              "Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n");
  auto invite = Parse(text);
  auto d = Dialog::CreateUas(invite, "314159", 200, "sip:bob@client.biloxi.example.com", 7000);
  REQUIRE(d.ok());
  CHECK(d->state() == DialogState::kConfirmed);
  CHECK_FALSE(d->is_uac());
  CHECK(d->id() == DialogId{"2xTb9vxSit55XU7p8@atlanta.example.com", "314159", "9fxced76sl"});
  CHECK(d->local_uri() == "Bob <sip:bob@biloxi.example.com>");
  CHECK(d->remote_uri() == "Alice <sip:alice@atlanta.example.com>");
  CHECK(d->remote_target() == "sip:alice@client.atlanta.example.com");
  // §12.1.1: the UAS keeps the Record-Route order.
  CHECK(d->route_set() == std::vector<std::string>{"<sip:ss2.biloxi.example.com;lr>",
                                                   "<sip:ss1.atlanta.example.com;lr>"});
  CHECK(d->remote_cseq() == 1u);
  CHECK_FALSE(d->local_cseq());

  // Bob's BYE: first CSeq is the injected start, To/From swapped relative to the INVITE.
  auto bye = d->MakeRequest("BYE", kVia);
  REQUIRE(bye.ok());
  auto msg = Parse(bye->Build());
  CHECK(msg.request_uri_text() == "sip:alice@client.atlanta.example.com");
  CHECK((*msg.GetCSeq())->number == 7000);
  CHECK((*msg.From())->tag() == "314159");
  CHECK((*msg.To())->tag() == "9fxced76sl");
  CHECK(Routes(msg) == std::vector<std::string>{"<sip:ss2.biloxi.example.com;lr>",
                                                "<sip:ss1.atlanta.example.com;lr>"});
  CHECK(d->local_cseq() == 7000u);
}

TEST_CASE(
    "a dialog restored from another node's description sends as the original would - its "
    "CSeq goes on from the one given - the peer's next CSeq is taken as it comes",
    "[dialog]") {
  std::string text = InviteText();
  text.insert(text.find("From:"), "Record-Route: <sip:lb.example.com;lr;sbnode=10.0.0.5:5060>\r\n");
  auto original = Dialog::CreateUas(Parse(text), "314159", 200, "sip:10.0.0.5:5060", 7000);
  REQUIRE(original.ok());
  auto restored = Dialog::Restore({.id = original->id(),
                                   .uac = original->is_uac(),
                                   .local_uri = original->local_uri(),
                                   .remote_uri = original->remote_uri(),
                                   .local_target = "sip:10.0.0.6:5060",
                                   .remote_target = original->remote_target(),
                                   .route_set = original->route_set(),
                                   .next_local_cseq = 9000,
                                   .peer_allows_update = true});
  REQUIRE(restored.ok());
  CHECK(restored->state() == DialogState::kConfirmed);
  CHECK_FALSE(restored->is_uac());
  CHECK(restored->PeerAllowsUpdate());
  CHECK_FALSE(restored->remote_cseq());

  auto update = restored->MakeRequest("UPDATE", kVia);
  REQUIRE(update.ok());
  auto msg = Parse(update->Build());
  CHECK(msg.request_uri_text() == "sip:alice@client.atlanta.example.com");
  CHECK((*msg.GetCSeq())->number == 9000);
  CHECK((*msg.From())->tag() == "314159");
  CHECK((*msg.To())->tag() == "9fxced76sl");
  CHECK(Routes(msg) == std::vector<std::string>{"<sip:lb.example.com;lr;sbnode=10.0.0.5:5060>"});
  // Our target refreshes carry this node's Contact, so that the peer's requests come here.
  CHECK(msg.Header(HeaderId::kContact) == "<sip:10.0.0.6:5060>");
  CHECK(Parse(restored->MakeRequest("BYE", kVia)->Build()).GetCSeq().value()->number == 9001);

  // The peer's CSeq: whatever comes first, then never lower (§12.2.2).
  auto peer_request = [](uint32_t cseq) {
    return Parse(
        "INFO sip:10.0.0.6:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKpeer" +
        std::to_string(cseq) +
        "\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
        "To: Bob <sip:bob@biloxi.example.com>;tag=314159\r\n"
        "Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com\r\n"
        "CSeq: " +
        std::to_string(cseq) + " INFO\r\nContent-Length: 0\r\n\r\n");
  };
  CHECK(restored->OnRequest(peer_request(40)).reject_code == 0);
  CHECK(restored->OnRequest(peer_request(39)).reject_code == 500);
}

TEST_CASE("a dialog cannot be restored without its identity, its peer's target or a CSeq",
          "[dialog]") {
  Dialog::Description good;
  good.id = {"c@h", "ours", "theirs"};
  good.remote_target = "sip:alice@192.0.2.1";
  CHECK(Dialog::Restore(good).ok());
  auto without_tag = good;
  without_tag.id.local_tag.clear();
  CHECK(Dialog::Restore(without_tag).status().field() == "id");
  auto without_target = good;
  without_target.remote_target.clear();
  CHECK(Dialog::Restore(without_target).status().field() == "remote_target");
  auto zero = good;
  zero.next_local_cseq = 0;
  CHECK(Dialog::Restore(zero).status().field() == "next_local_cseq");
}

TEST_CASE("UAS: an early dialog from a 183 - requests need Contact", "[dialog]") {
  auto invite = Parse(InviteText());
  auto early = Dialog::CreateUas(invite, "b1", 183, "sip:bob@127.0.0.1", 1);
  REQUIRE(early.ok());
  CHECK(early->state() == DialogState::kEarly);
  std::string no_contact = InviteText();
  no_contact.erase(no_contact.find("Contact:"),
                   no_contact.find("Content-Length") - no_contact.find("Contact:"));
  CHECK_FALSE(Dialog::CreateUas(Parse(no_contact), "b1", 200, "sip:bob@127.0.0.1", 1).ok());
  CHECK_FALSE(Dialog::CreateUas(invite, "", 200, "sip:bob@127.0.0.1", 1).ok());
  CHECK_FALSE(Dialog::CreateUas(invite, "b1", 100, "sip:bob@127.0.0.1", 1).ok());
}

TEST_CASE("UAS: an RFC 2543 From without tag gives an empty remote tag", "[dialog]") {
  auto invite = Parse(InviteText(""));
  auto d = Dialog::CreateUas(invite, "b1", 200, "sip:bob@127.0.0.1", 1);
  REQUIRE(d.ok());
  CHECK(d->id().remote_tag.empty());
  auto bye = Parse(d->MakeRequest("BYE", kVia)->Build());
  CHECK((*bye.To())->tag().empty());
}

TEST_CASE("in-dialog requests with a loose-routing route set", "[dialog]") {
  Dialog d = UacConfirmed();
  for (std::string method : {"BYE", "INFO", "REFER", "INVITE", "UPDATE"}) {
    DYNAMIC_SECTION(method) {
      uint32_t before = *d.local_cseq();
      auto b = d.MakeRequest(method, kVia);
      REQUIRE(b.ok());
      auto m = Parse(b->Build());
      CHECK(m.method_text() == method);
      // §12.2.1.1: Request-URI = remote target, Route = route set, CSeq one higher.
      CHECK(m.request_uri_text() == "sip:bob@client.biloxi.example.com");
      CHECK(Routes(m) == std::vector<std::string>{"<sip:ss1.atlanta.example.com;lr>",
                                                  "<sip:ss2.biloxi.example.com;lr>"});
      CHECK((*m.GetCSeq())->number == before + 1);
      CHECK((*m.GetCSeq())->method == method);
      CHECK((*m.From())->tag() == "9fxced76sl");
      CHECK((*m.To())->tag() == "314159");
      CHECK(*m.CallId() == "2xTb9vxSit55XU7p8@atlanta.example.com");
      CHECK((*m.TopVia())->branch() == "z9hG4bKnew");
      CHECK(m.MaxForwards().value() == 70u);
      bool wants_contact = method != "BYE" && method != "INFO";
      CHECK(m.Header(HeaderId::kContact).has_value() == wants_contact);
      if (wants_contact)
        CHECK(m.Header(HeaderId::kContact) == "<sip:alice@client.atlanta.example.com>");
    }
  }
}

TEST_CASE("in-dialog requests through a strict router (§12.2.1.1)", "[dialog]") {
  auto invite = Parse(InviteText());
  auto d = Dialog::CreateUac(
      invite, Parse(ResponseText(200, "OK", "314159", "<sip:bob@client.biloxi.example.com>",
                                 "Record-Route: <sip:p2.example.com;lr>, "
                                 "<sip:p1.example.com?X-Header=drop>\r\n")));
  REQUIRE(d.ok());
  // Reversed: p1 (strict) first.
  auto bye = Parse(d->MakeRequest("BYE", kVia)->Build());
  CHECK(bye.request_uri_text() == "sip:p1.example.com");
  CHECK(Routes(bye) ==
        std::vector<std::string>{"<sip:p2.example.com;lr>", "<sip:bob@client.biloxi.example.com>"});
}

TEST_CASE("no route set: only the Request-URI", "[dialog]") {
  auto invite = Parse(InviteText());
  auto d = Dialog::CreateUac(invite,
                             Parse(ResponseText(200, "OK", "t", "<sip:bob@192.0.2.4:5070>", "")));
  REQUIRE(d.ok());
  auto bye = Parse(d->MakeRequest("BYE", kVia)->Build());
  CHECK(bye.request_uri_text() == "sip:bob@192.0.2.4:5070");
  CHECK(Routes(bye).empty());
}

TEST_CASE("the ACK for a 2xx keeps the INVITE's CSeq and spends no local CSeq", "[dialog]") {
  Dialog d = UacConfirmed();
  auto ack = d.MakeAck(1, kVia);
  REQUIRE(ack.ok());
  auto m = Parse(ack->Build());
  CHECK(m.method() == Method::kAck);
  CHECK((*m.GetCSeq())->number == 1);
  CHECK((*m.GetCSeq())->method == "ACK");
  CHECK(Routes(m).size() == 2);
  CHECK(d.local_cseq() == 1u);
  CHECK_FALSE(d.MakeRequest("ACK", kVia).ok());
  CHECK_FALSE(d.MakeRequest("CANCEL", kVia).ok());
}

TEST_CASE("target refresh: a 2xx to re-INVITE or UPDATE moves the remote target", "[dialog]") {
  Dialog d = UacConfirmed();
  auto method = GENERATE(as<std::string>{}, "INVITE", "UPDATE");
  auto reinvite = d.MakeRequest(method, kVia);
  REQUIRE(reinvite.ok());
  uint32_t n = *d.local_cseq();
  d.OnResponse(Parse(ResponseText(200, "OK", "314159", "<sip:bob@198.51.100.7>", "", n, method)));
  CHECK(d.remote_target() == "sip:bob@198.51.100.7");
  CHECK(d.state() == DialogState::kConfirmed);
  // A 2xx to INFO does not refresh the target.
  (void)d.MakeRequest("INFO", kVia);
  d.OnResponse(Parse(
      ResponseText(200, "OK", "314159", "<sip:bob@203.0.113.1>", "", *d.local_cseq(), "INFO")));
  CHECK(d.remote_target() == "sip:bob@198.51.100.7");
  // A failed re-INVITE leaves a confirmed dialog alone (§14.1).
  (void)d.MakeRequest("INVITE", kVia);
  d.OnResponse(
      Parse(ResponseText(488, "Not Acceptable Here", "314159", "", "", *d.local_cseq(), "INVITE")));
  CHECK(d.state() == DialogState::kConfirmed);
}

TEST_CASE("481 or 408 to an in-dialog request ends the dialog (§12.2.1.2)", "[dialog]") {
  auto code = GENERATE(481, 408);
  Dialog d = UacConfirmed();
  (void)d.MakeRequest("INFO", kVia);
  d.OnResponse(Parse(ResponseText(code, "x", "314159", "", "", *d.local_cseq(), "INFO")));
  CHECK(d.state() == DialogState::kTerminated);
  CHECK(d.MakeRequest("BYE", kVia).status().code() == sb::StatusCode::kFailedPrecondition);
  CHECK(d.MakeAck(1, kVia).ok());  // a late 2xx still gets its ACK
}

TEST_CASE("UAS request validation: CSeq lower than the remote CSeq gets 500 (§12.2.2)",
          "[dialog]") {
  auto invite = Parse(InviteText());
  auto d = Dialog::CreateUas(invite, "314159", 200, "sip:bob@client.biloxi.example.com", 1);
  REQUIRE(d.ok());
  auto in_dialog = [](std::string_view method, uint32_t cseq, std::string_view contact = "") {
    std::string m(method);
    std::string text = m +
                       " sip:bob@client.biloxi.example.com SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bK" +
                       std::to_string(cseq) + m +
                       "\r\n"
                       "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
                       "To: Bob <sip:bob@biloxi.example.com>;tag=314159\r\n"
                       "Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com\r\n"
                       "CSeq: " +
                       std::to_string(cseq) + " " + m + "\r\n";
    if (!contact.empty()) text += "Contact: " + std::string(contact) + "\r\n";
    return Parse(text + "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  };
  CHECK(DialogIdOfReceivedRequest(in_dialog("INFO", 2)) == d->id());
  CHECK(d->OnRequest(in_dialog("INFO", 2)).reject_code == 0);
  CHECK(d->remote_cseq() == 2u);
  auto old = d->OnRequest(in_dialog("INFO", 1));
  CHECK(old.reject_code == 500);
  CHECK(d->remote_cseq() == 2u);
  CHECK(d->OnRequest(in_dialog("ACK", 1)).reject_code == 0);  // ACK carries the INVITE's CSeq
  CHECK(d->OnRequest(in_dialog("INVITE", 10, "<sip:alice@198.51.100.9>")).reject_code == 0);
  CHECK(d->remote_target() == "sip:alice@198.51.100.9");  // target refresh (§12.2.2)
  CHECK(d->OnRequest(in_dialog("UPDATE", 11, "<sip:alice@198.51.100.10>")).reject_code == 0);
  CHECK(d->remote_target() == "sip:alice@198.51.100.10");
  CHECK(d->OnRequest(in_dialog("BYE", 12)).reject_code == 0);
  d->Terminate();
  CHECK(d->OnRequest(in_dialog("INFO", 13)).reject_code == 481);
}

TEST_CASE("sips Request-URI makes a secure dialog", "[dialog]") {
  std::string text = InviteText();
  text.replace(0, std::string_view("INVITE sip:").size(), "INVITE sips:");
  auto d = Dialog::CreateUac(Parse(text), Parse(ResponseText(200, "OK", "t")));
  REQUIRE(d.ok());
  CHECK(d->secure());
}
