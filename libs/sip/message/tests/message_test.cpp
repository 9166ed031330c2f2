// Message parsing: start lines, header forms, typed access, limits and the error responses
// (RFC 3261 §7, §8.2, §18.3, §20).
#include "switchboard/sip/message.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <string>

namespace sb::sip {
namespace {

constexpr std::string_view kInvite =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP "
    "p1.example.com;branch=z9hG4bK1\r\n"
    "v: SIP/2.0/TCP p2.example.com;branch=z9hG4bK2\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.com>\r\n"
    "Route: <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\n"
    "k: timer, 100rel\r\n"
    "Allow: INVITE, ACK, BYE\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "X-Custom:   keep   me  \r\n"
    "c: application/sdp\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\r\n";

TEST_CASE("a request: start line headers body", "[message]") {
  auto m = Message::Parse(kInvite);
  REQUIRE(m.ok());
  CHECK(m->is_request());
  CHECK(m->method() == Method::kInvite);
  CHECK(m->request_uri().user == "bob");
  CHECK(m->version() == "SIP/2.0");
  CHECK(m->header_count() == 15);
  CHECK(m->header(1).name == "v");
  CHECK(m->header(1).id == HeaderId::kVia);
  CHECK(m->Values(HeaderId::kVia).size() == 3);
  CHECK((*m->TopVia())->branch() == "z9hG4bK776asdhds");
  CHECK((*m->From())->tag() == "1928301774");
  CHECK((*m->To())->tag().empty());
  CHECK(*m->CallId() == "a84b4c76e66710@pc33.atlanta.com");
  CHECK((*m->GetCSeq())->number == 314159);
  CHECK(m->MaxForwards()->value() == 70);
  CHECK(m->ContentLength()->value() == 4);
  CHECK((*m->ContentType())->Is("application", "sdp"));
  auto routes = *m->NameAddrs(HeaderId::kRoute);
  REQUIRE(routes.size() == 2);
  CHECK(routes[1].uri.host == "p2.example.com");
  CHECK(m->Tokens(HeaderId::kSupported) == std::vector<std::string_view>{"timer", "100rel"});
  CHECK(m->HasToken(HeaderId::kAllow, "bye"));
  CHECK_FALSE(m->HasToken(HeaderId::kAllow, "REFER"));
  CHECK((*m->SessionExpires())->delta_seconds == 1800);
  CHECK(m->Header("x-custom") == "keep   me");
  CHECK(m->Header("Supported") == "timer, 100rel");
  CHECK_FALSE(m->Header("Subject").has_value());
  CHECK(m->body() == "v=0\r");
  CHECK(m->Serialize() == kInvite.substr(0, kInvite.size() - 1));
}

TEST_CASE("typed values are cached and stay valid after a move", "[message]") {
  auto parsed = Message::Parse(kInvite);
  REQUIRE(parsed.ok());
  const NameAddr* from = *parsed->From();
  CHECK(from == *parsed->From());
  Message moved = std::move(parsed).value();
  CHECK((*moved.From())->tag() == "1928301774");
  Message copy = moved.Clone();
  CHECK(copy.raw() == moved.raw());
  CHECK(copy.raw().data() != moved.raw().data());
}

TEST_CASE("a message's bytes parse back into it beyond the limits they first met", "[message]") {
  ParseOptions tight;
  tight.validate = false;
  tight.limits.max_headers = 100;
  std::string many = "OPTIONS sip:b@example.com SIP/2.0\r\n";
  for (int i = 0; i < 150; ++i) many += "X-N: " + std::to_string(i) + "\r\n";
  many += "Content-Length: 0\r\n\r\n";
  CHECK_FALSE(Message::Parse(many, tight).ok());
  Message again = Message::ParseAgain(many);
  CHECK(again.raw() == many);
  CHECK(again.Header("X-N") == "0");
  CHECK(again.method() == Method::kOptions);
}

TEST_CASE("a response", "[message]") {
  auto m = Message::Parse(
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(m.ok());
  CHECK(m->is_response());
  CHECK(m->status_code() == 180);
  CHECK(m->reason_phrase() == "Ringing");
}

TEST_CASE("headers and typed values of the extension family", "[message]") {
  auto m = Message::Parse(
      "REFER sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\n"
      "CSeq: 1 REFER\r\nr: <sip:c@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n"
      "b: <sip:a@example.com>\r\no: refer;id=7\r\nReplaces: abc@h;to-tag=1;from-tag=2\r\n"
      "P-Asserted-Identity: \"A\" <sip:a@example.com>, <tel:+15551234>\r\n"
      "Authorization: Digest username=\"a\", realm=\"r\"\r\n"
      "Proxy-Authorization: Digest username=\"p\", realm=\"r2\"\r\n"
      "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
      "Expires: 60\r\nRequire: replaces\r\nl: 0\r\n\r\n");
  REQUIRE(m.ok());
  auto refer_to = *m->ReferTo();
  REQUIRE(refer_to.has_value());
  CHECK(Unescape(*refer_to->uri.headers().Get("Replaces")) == "abc@h;to-tag=1;from-tag=2");
  CHECK((*m->ReferredBy())->uri.user == "a");
  CHECK((*m->Event())->id() == "7");
  CHECK((*m->Replaces())->to_tag == "1");
  auto pai = *m->NameAddrs(HeaderId::kPAssertedIdentity);
  REQUIRE(pai.size() == 2);
  CHECK(pai[1].uri.scheme == UriScheme::kTel);
  CHECK((*m->Auths(HeaderId::kAuthorization))[0].GetUnquoted("username") == "a");
  CHECK((*m->Auths(HeaderId::kProxyAuthorization))[0].GetUnquoted("realm") == "r2");
  CHECK((*m->Auths(HeaderId::kWwwAuthenticate))[0].GetUnquoted("nonce") == "n");
  CHECK(m->Expires()->value() == 60);
  CHECK(m->Tokens(HeaderId::kRequire) == std::vector<std::string_view>{"replaces"});
}

TEST_CASE("header names: compact forms case unknown headers", "[message]") {
  CHECK(HeaderIdFromName("i") == HeaderId::kCallId);
  CHECK(HeaderIdFromName("CALL-id") == HeaderId::kCallId);
  CHECK(HeaderIdFromName("m") == HeaderId::kContact);
  CHECK(HeaderIdFromName("x") == HeaderId::kSessionExpires);
  CHECK(HeaderIdFromName("www-authenticate") == HeaderId::kWwwAuthenticate);
  CHECK(HeaderIdFromName("X-Unknown") == HeaderId::kOther);
  CHECK(HeaderIdFromName("q") == HeaderId::kOther);
  CHECK(HeaderName(HeaderId::kCSeq) == "CSeq");
  CHECK(MethodFromString("invite") == Method::kUnknown);
  CHECK(MethodName(Method::kPrack) == "PRACK");
}

// The parser looks names up word-wise in its padded buffer, not through HeaderIdFromName: the two
// must agree on every known name, in any case, and on near misses.
TEST_CASE("the parser recognises every known header name in any case and no near miss",
          "[message]") {
  auto id_in_message = [](const std::string& name) {
    std::string text = "OPTIONS sip:a@b SIP/2.0\r\n" + name + ": 0\r\n\r\n";
    ParseOptions options;
    options.validate = false;
    auto m = Message::Parse(text, options);
    REQUIRE(m.ok());
    REQUIRE(m->header_count() == 1);
    return m->header(0).id;
  };
  for (size_t i = 1; i < static_cast<size_t>(HeaderId::kCount); ++i) {
    auto id = static_cast<HeaderId>(i);
    std::string name(HeaderName(id));
    std::string upper, lower;
    for (char c : name) {
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    CAPTURE(name);
    CHECK(id_in_message(name) == id);
    CHECK(id_in_message(upper) == id);
    CHECK(id_in_message(lower) == id);
    CHECK(id_in_message(name + "x") == HeaderId::kOther);
    CHECK(id_in_message(name.substr(0, name.size() - 1)) ==
          HeaderIdFromName(name.substr(0, name.size() - 1)));
    CHECK(id_in_message("X" + name) == HeaderId::kOther);
  }
  CHECK(id_in_message("Content_Type") == HeaderId::kOther);
  CHECK(id_in_message("P-Preferred-Identity-And-More-Than-24") == HeaderId::kOther);
  CHECK(id_in_message("i") == HeaderId::kCallId);
}

TEST_CASE("the first Contact and Content-Length are read once and cached", "[message]") {
  auto m = Message::Parse(kInvite);
  REQUIRE(m.ok());
  auto contact = m->FirstContact();
  REQUIRE(contact.ok());
  CHECK((*contact)->uri.host == "pc33.atlanta.com");
  CHECK(*m->FirstContact() == *contact);  // the same cached value
  CHECK(m->ContentLength()->value() == 4);
  Message moved = std::move(*m);
  CHECK((*moved.FirstContact())->uri.host == "pc33.atlanta.com");

  auto no_contact = Message::Parse(
      "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n");
  REQUIRE(no_contact.ok());
  CHECK(no_contact->FirstContact().status().code() == StatusCode::kNotFound);
  CHECK_FALSE(no_contact->ContentLength()->has_value());

  auto star = Message::Parse(
      "REGISTER sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\n"
      "Content-Length: 0\r\n\r\n");
  REQUIRE(star.ok());
  CHECK((*star->FirstContact())->star);
  CHECK(star->ContentLength()->value() == 0);
}

TEST_CASE("RSeq and RAck through the message", "[message]") {
  auto prack = Message::Parse(
      "PRACK sip:bob@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n"
      "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 PRACK\r\n"
      "RAck: 776656 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(prack.ok());
  auto rack = prack->RAck();
  REQUIRE(rack.ok());
  REQUIRE(rack->has_value());
  CHECK((*rack)->rseq == 776656u);
  CHECK((*rack)->method == "INVITE");
  CHECK_FALSE(prack->RSeq()->has_value());
  auto bad = Message::Parse(
      "SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n"
      "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
      "RSeq: x1\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(bad.ok());  // parsed lazily: the error shows on access
  CHECK_FALSE(bad->RSeq().ok());
}

TEST_CASE("a bad second Via fails a request but not a response (read on access)", "[message]") {
  const std::string rest =
      "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP bad host;branch=z9hG4bK2\r\n"
      "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
      "Content-Length: 0\r\n\r\n";
  auto request = Message::Parse("OPTIONS sip:c@d SIP/2.0\r\n" + rest);
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().status_code == 400);
  CHECK(request.error().reason == "Bad Via header");
  auto response = Message::Parse("SIP/2.0 200 OK\r\n" + rest);
  REQUIRE(response.ok());  // §18.1.2: its receiver reads the top Via only
  CHECK((*response->TopVia())->branch() == "z9hG4bK1");
  auto vias = response->Values(HeaderId::kVia);
  auto second = vias.begin();
  ++second;
  CHECK_FALSE(ParseVia(*second).ok());  // whoever reads it finds out
  CHECK(ValidateMessage(*response) == std::nullopt);
}

TEST_CASE("more headers than the inline slots spill without loss", "[message]") {
  std::string text =
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n";
  for (int i = 0; i < 100; ++i)
    text += "X-H" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  text += "Contact: <sip:late@b>\r\nContent-Length: 0\r\n\r\n";
  auto m = Message::Parse(text);
  REQUIRE(m.ok());
  CHECK(m->header_count() == 107);
  CHECK(m->Header("X-H99") == "99");
  CHECK((*m->NameAddrs(HeaderId::kContact))[0].uri.user == "late");
}

ParseError ErrorOf(std::string_view text, ParseOptions options = {}) {
  auto m = Message::Parse(text, options);
  REQUIRE_FALSE(m.ok());
  return m.error();
}

constexpr std::string_view kHeaders =
    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
    "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n";

TEST_CASE("parse errors carry the status the reason and the response", "[message]") {
  std::string ok = "OPTIONS sip:a@b SIP/2.0\r\n" + std::string(kHeaders) + "\r\n";
  REQUIRE(Message::Parse(ok).ok());

  auto e = ErrorOf("OPTIONS sip:a@b SIP/3.0\r\n" + std::string(kHeaders) + "\r\n");
  CHECK(e.status_code == 505);
  CHECK(e.response.rfind("SIP/2.0 505 Version Not Supported\r\n", 0) == 0);
  CHECK(e.response.find("\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n") != std::string::npos);
  CHECK(e.response.find("\r\nTo: <sip:a@b>;tag=sb") != std::string::npos);
  CHECK(e.response.find("\r\nCall-ID: x\r\n") != std::string::npos);
  // The stateless To tag is the same for a retransmission.
  CHECK(e.response ==
        ErrorOf("OPTIONS sip:a@b SIP/3.0\r\n" + std::string(kHeaders) + "\r\n").response);

  CHECK(Message::Parse("OPTIONS tel:+1555 SIP/2.0\r\n" + std::string(kHeaders) + "\r\n").ok());
  CHECK(ErrorOf("OPTIONS mailto:a@b SIP/2.0\r\n" + std::string(kHeaders) + "\r\n").status_code ==
        416);
  CHECK(ErrorOf("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n").reason ==
        "Missing From header");
  CHECK(ErrorOf("OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n" + std::string(kHeaders) + "\r\n")
            .reason == "Bad header name");
  CHECK(ErrorOf("OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n" + std::string(kHeaders) + "\r\n").reason ==
        "Header line without a colon");
  CHECK(ErrorOf("OPTIONS sip:a@b SIP/2.0\r\n" + std::string(kHeaders) + "Max-Forwards: 256\r\n\r\n")
            .reason == "Bad Max-Forwards header");
  CHECK(ErrorOf("OPTIONS sip:a@b SIP/2.0\r\n" + std::string(kHeaders) + "l: 10\r\n\r\nshort")
            .reason == "Content-Length larger than the message body");
  // A broken response is dropped: no status, no response.
  auto r = ErrorOf("SIP/2.0 99 Odd\r\n" + std::string(kHeaders) + "\r\n");
  CHECK(r.status_code == 0);
  CHECK(r.response.empty());
  CHECK(ErrorOf("").status_code == 0);
  CHECK(ErrorOf("garbage").status_code == 0);
}

TEST_CASE("the CSeq / method mismatch (3261 is strict) but CANCEL and ACK match", "[message]") {
  std::string ack =
      "ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 ACK\r\n\r\n";
  CHECK(Message::Parse(ack).ok());
  std::string bad = ack;
  bad.replace(bad.find("1 ACK"), 5, "1 BYE");
  CHECK(ErrorOf(bad).reason == "CSeq method does not match the request method");
}

TEST_CASE("limits give 513", "[message]") {
  std::string big = "OPTIONS sip:a@b SIP/2.0\r\n" + std::string(kHeaders) +
                    "X: " + std::string(70000, 'a') + "\r\n\r\n";
  auto e = ErrorOf(big);
  CHECK(e.status_code == 513);
  CHECK(e.response.rfind("SIP/2.0 513 Message Too Large\r\n", 0) == 0);
  ParseOptions small;
  small.limits.max_headers = 3;
  CHECK(
      ErrorOf("OPTIONS sip:a@b SIP/2.0\r\n" + std::string(kHeaders) + "\r\n", small).status_code ==
      513);
  ParseOptions body_limit;
  body_limit.limits.max_body_bytes = 2;
  CHECK(
      ErrorOf("OPTIONS sip:a@b SIP/2.0\r\n" + std::string(kHeaders) + "l: 3\r\n\r\nabc", body_limit)
          .status_code == 513);
}

TEST_CASE("validate=false parses structure only - ValidateMessage checks later", "[message]") {
  std::string text = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
  ParseOptions lenient;
  lenient.validate = false;
  auto m = Message::Parse(text, lenient);
  REQUIRE(m.ok());
  auto e = ValidateMessage(*m);
  REQUIRE(e.has_value());
  CHECK(e->status_code == 400);
  CHECK(e->reason == "Missing From header");
}

TEST_CASE("leading CRLFs are skipped - LF-only line ends are accepted", "[message]") {
  std::string text =
      "\r\n\r\nOPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: "
      "<sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n\n";
  auto m = Message::Parse(text);
  REQUIRE(m.ok());
  CHECK(*m->CallId() == "x");
  CHECK(m->raw().substr(0, 7) == "OPTIONS");
}

TEST_CASE("bytes replaced inside a header value read as the new bytes parsed again", "[message]") {
  auto m = Message::Parse(kInvite);
  REQUIRE(m.ok());
  // Typed values parsed before the replacement stay right after it.
  REQUIRE(m->From().ok());
  REQUIRE(m->GetCSeq().ok());
  REQUIRE(m->TopVia().ok());
  const std::string_view old_via = "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds";
  const size_t at = m->raw().find(old_via);
  std::string expected(m->raw());
  const std::string new_via =
      "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport=5062;received=192.0.2.4";
  REQUIRE(m->ReplaceInHeaderValue(at, old_via.size(), new_via).ok());

  expected.replace(at, old_via.size(), new_via);
  CHECK(m->raw() == expected);
  auto again = Message::Parse(expected);
  REQUIRE(again.ok());
  REQUIRE(m->header_count() == again->header_count());
  for (size_t i = 0; i < m->header_count(); ++i) {
    CHECK(m->header(i).name == again->header(i).name);
    CHECK(m->header(i).value == again->header(i).value);
  }
  CHECK((*m->TopVia())->rport() == "5062");
  CHECK((*m->TopVia())->received() == "192.0.2.4");
  CHECK((*m->TopVia())->branch() == "z9hG4bK776asdhds");
  CHECK(m->CountHeaders(HeaderId::kVia) == 2);
  CHECK((*m->From())->tag() == "1928301774");
  CHECK((*m->From())->uri.host == "atlanta.com");
  CHECK((*m->GetCSeq())->method == "INVITE");
  CHECK(m->request_uri().user == "bob");
  CHECK(m->CallId().value() == "a84b4c76e66710@pc33.atlanta.com");
  CHECK(m->body() == "v=0\r");
  CHECK(m->start_line() == "INVITE sip:bob@biloxi.com SIP/2.0");
}

TEST_CASE("bytes outside one header value or in Content-Length are not replaced", "[message]") {
  auto m = Message::Parse(kInvite);
  REQUIRE(m.ok());
  const std::string before(m->raw());
  // The start line, and a range running from one header into the next.
  CHECK(m->ReplaceInHeaderValue(0, 6, "CANCEL").code() == StatusCode::kInvalidArgument);
  const size_t to = before.find("Bob <sip:bob@biloxi.com>");
  CHECK(m->ReplaceInHeaderValue(to, 40, "x").code() == StatusCode::kInvalidArgument);
  const size_t length = before.find("l: 4") + 3;
  CHECK(m->ReplaceInHeaderValue(length, 1, "5").code() == StatusCode::kInvalidArgument);
  CHECK(m->raw() == before);
}

}  // namespace
}  // namespace sb::sip
