// Building messages: responses per §8.2.6, new requests, edits of received messages.
#include "switchboard/sip/builder.h"

#include <catch2/catch.hpp>

namespace sb::sip {
namespace {

constexpr std::string_view kRequest =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3\r\n"
    "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1\r\n"
    "Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\n"
    "CSeq: 314159 INVITE\r\nTimestamp: 54\r\nRoute: <sip:p1.example.com;lr>, "
    "<sip:p2.example.com;lr>\r\n"
    "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";

TEST_CASE("MakeResponse copies Via From To Call-ID CSeq and adds the To tag", "[builder]") {
  auto request = Message::Parse(kRequest);
  REQUIRE(request.ok());
  auto response = MakeResponse(*request, 180, {}, "a6c85cf").BuildMessage();
  REQUIRE(response.ok());
  CHECK(response->status_code() == 180);
  CHECK(response->reason_phrase() == "Ringing");
  CHECK(response->Values(HeaderId::kVia).size() == 2);
  CHECK((*response->TopVia())->received() == "192.0.2.3");
  CHECK((*response->To())->tag() == "a6c85cf");
  CHECK((*response->From())->tag() == "1928301774");
  CHECK(*response->CallId() == "a84b4c76e66710");
  CHECK((*response->GetCSeq())->number == 314159);
  CHECK_FALSE(response->Header(HeaderId::kTimestamp).has_value());
  CHECK(response->body().empty());

  auto trying = MakeResponse(*request, 100, {}, "ignored").BuildMessage();
  REQUIRE(trying.ok());
  CHECK((*trying->To())->tag().empty());
  CHECK(trying->Header(HeaderId::kTimestamp) == "54");
}

TEST_CASE("a new request round-trips through the parser with a computed Content-Length",
          "[builder]") {
  auto b = MessageBuilder::Request("INVITE", "sip:bob@biloxi.com");
  b.AddHeader("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds")
      .AddHeader("Max-Forwards", "70")
      .AddHeader("To", "<sip:bob@biloxi.com>")
      .AddHeader("From", "<sip:alice@atlanta.com>;tag=1")
      .AddHeader("Call-ID", "c1")
      .AddHeader("CSeq", "1 INVITE")
      .SetBody("v=0\r\n", "application/sdp");
  std::string text = b.Build();
  CHECK(text.find("\r\nContent-Length: 5\r\n\r\nv=0\r\n") != std::string::npos);
  auto m = b.BuildMessage();
  REQUIRE(m.ok());
  CHECK(m->body() == "v=0\r\n");
  CHECK((*m->ContentType())->Is("application", "sdp"));
}

TEST_CASE("a proxy edits a received request", "[builder]") {
  auto request = Message::Parse(kRequest);
  REQUIRE(request.ok());
  auto b = MessageBuilder::FromMessage(*request);
  b.PrependHeader("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew")
      .ReplaceHeader("Max-Forwards", "69")
      .RemoveFirstValue("Route")
      .RemoveHeader("timestamp")
      .AddHeader("X-Trace", "1");
  auto m = b.BuildMessage();
  REQUIRE(m.ok());
  CHECK((*m->TopVia())->host == "proxy.example.com");
  CHECK(m->Values(HeaderId::kVia).size() == 3);
  CHECK(m->MaxForwards()->value() == 69);
  CHECK(m->CountHeaders(HeaderId::kMaxForwards) == 1);
  auto routes = *m->NameAddrs(HeaderId::kRoute);
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].uri.host == "p2.example.com");
  CHECK_FALSE(m->Header(HeaderId::kTimestamp).has_value());
  CHECK(m->Header("X-Trace") == "1");
  CHECK(m->body() == "v=0\n");
  // ReplaceHeader keeps the position of the header it replaces.
  CHECK(m->header(3).id == HeaderId::kMaxForwards);
  CHECK(b.GetHeader("max-forwards") == "69");
  // Compact and long forms are the same header.
  b.RemoveHeader("v");
  CHECK_FALSE(b.GetHeader("Via").has_value());
}

TEST_CASE("error responses and reason phrases", "[builder]") {
  CHECK(DefaultReasonPhrase(486) == "Busy Here");
  CHECK(DefaultReasonPhrase(799).empty());
  auto request = Message::Parse(kRequest);
  REQUIRE(request.ok());
  std::string r = BuildErrorResponse(*request, 483, "Too Many Hops", {"Warning: 399 x \"hops\""});
  auto m = Message::Parse(r);
  REQUIRE(m.ok());
  CHECK(m->status_code() == 483);
  CHECK(m->Header(HeaderId::kWarning) == "399 x \"hops\"");
  CHECK_FALSE((*m->To())->tag().empty());
}

}  // namespace
}  // namespace sb::sip
