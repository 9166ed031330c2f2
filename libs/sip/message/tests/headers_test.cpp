// Typed header values (RFC 3261 §20 and extensions), including the awkward forms of §7.3.1 and
// §25.1: LWS and folding anywhere LWS is allowed, quoted strings with quoted-pairs, parameters
// without values.
#include "switchboard/sip/headers.h"

#include <catch2/catch.hpp>

namespace sb::sip {
namespace {

TEST_CASE("name-addr with a quoted display name quoted pairs and parameters", "[headers]") {
  auto na = ParseNameAddr(
      "\"Bob \\\"the\\\" Builder\" <sip:bob@biloxi.com;transport=udp> ;tag=a6c85cf;x");
  REQUIRE(na.ok());
  CHECK(na->display_name_quoted);
  CHECK(na->DisplayNameUnquoted() == "Bob \"the\" Builder");
  CHECK(na->uri.user == "bob");
  CHECK(na->uri.params().Get("transport") == "udp");
  CHECK(na->tag() == "a6c85cf");
  CHECK(na->params().Has("x"));
  CHECK_FALSE(na->params().Has("transport"));
}

TEST_CASE("addr-spec: parameters after the URI are header parameters (§20.10)", "[headers]") {
  auto na = ParseNameAddr("sip:alice@atlanta.com;tag=1928301774");
  REQUIRE(na.ok());
  CHECK_FALSE(na->angle_brackets);
  CHECK(na->uri.params_raw.empty());
  CHECK(na->tag() == "1928301774");
  CHECK_FALSE(ParseNameAddr("sip:alice@atlanta.com?Subject=x").ok());
}

TEST_CASE("token display names folding and LWS", "[headers]") {
  auto na = ParseNameAddr("Alice  Smith\r\n <sip:alice@atlanta.com>\r\n ;\r\n tag = 88");
  REQUIRE(na.ok());
  CHECK(na->DisplayNameUnquoted() == "Alice  Smith");
  CHECK(na->tag() == "88");
}

TEST_CASE("malformed name-addrs", "[headers]") {
  for (const char* v : {"", "\"unterminated <sip:a@b>", "Bell, Alexander <sip:a@b>", "< sip:a@b >",
                        "<sip:a@b", "<sip:a@b>;;tag=1", "<sip:a@b>;tag=\"x", "sip:a@b;=x"}) {
    INFO(v);
    CHECK_FALSE(ParseNameAddr(v).ok());
  }
}

TEST_CASE("Contact: star and q", "[headers]") {
  CHECK(ParseContact(" * ")->star);
  auto c = ParseContact("<sip:a@192.0.2.4>;q=0.7;expires=3600");
  REQUIRE(c.ok());
  CHECK(c->params().Get("q") == "0.7");
  CHECK(c->params().Get("expires") == "3600");
}

TEST_CASE("Via: sent-protocol with LWS port received rport", "[headers]") {
  auto via = ParseVia(
      "SIP / 2.0 / UDP\r\n  pc33.atlanta.com : 5066 ;branch=z9hG4bK776asdhds "
      ";rport;received=192.0.2.1");
  REQUIRE(via.ok());
  CHECK(via->protocol_name == "SIP");
  CHECK(via->protocol_version == "2.0");
  CHECK(via->transport == "UDP");
  CHECK(via->host == "pc33.atlanta.com");
  CHECK(via->port == 5066);
  CHECK(via->branch() == "z9hG4bK776asdhds");
  CHECK(via->HasRfc3261Branch());
  CHECK(via->rport() == "");
  CHECK(via->received() == "192.0.2.1");
  auto v6 = ParseVia("SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bKx;received=[2001:db8::1]");
  REQUIRE(v6.ok());
  CHECK(v6->host == "[2001:db8::9]");
  CHECK(v6->port == 5061);
  CHECK(v6->received() == "[2001:db8::1]");
}

TEST_CASE("malformed Via values", "[headers]") {
  for (const char* v : {"", "SIP/2.0 host", "SIP/2.0/UDP", "SIP/2.0/UDPhost", "SIP/2.0/UDP host;;",
                        "SIP/2.0/UDP host:x", "SIP/2.0/UDP host;branch=", "SIP/2.0/UDP ho$t"}) {
    INFO(v);
    CHECK_FALSE(ParseVia(v).ok());
  }
  CHECK_FALSE(ParseVia("SIP/2.0/UDP h;branch=z9hG4bK")->HasRfc3261Branch());
}

TEST_CASE("CSeq bounds (§8.1.1.5)", "[headers]") {
  auto c = ParseCSeq("4294967295 INVITE");
  REQUIRE(c.ok());
  CHECK(c->number == 4294967295u);
  CHECK(c->method == "INVITE");
  CHECK(ParseCSeq("0009\r\n INVITE")->number == 9);
  CHECK_FALSE(ParseCSeq("4294967296 INVITE").ok());
  CHECK_FALSE(ParseCSeq("36893488147419103232 REGISTER").ok());
  CHECK_FALSE(ParseCSeq("12").ok());
  CHECK_FALSE(ParseCSeq("-1 INVITE").ok());
  CHECK_FALSE(ParseCSeq("1INVITE").ok());
}

TEST_CASE("authorization credentials and challenges", "[headers]") {
  auto a = ParseAuth(
      "Digest username=\"bob\", realm=\"biloxi.com\",\r\n "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
      "uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
      "response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  REQUIRE(a.ok());
  CHECK(a->scheme == "Digest");
  CHECK(a->Get("username") == "\"bob\"");
  CHECK(a->GetUnquoted("username") == "bob");
  CHECK(a->GetUnquoted("realm") == "biloxi.com");
  CHECK(a->Get("qop") == "auth");
  CHECK(a->Get("nc") == "00000001");
  CHECK(a->GetUnquoted("response") == "6629fae49393a05397450978507c4ef1");
  CHECK_FALSE(a->Get("algorithm").has_value());
  auto challenge =
      ParseAuth("Digest realm=\"a,b\", qop=\"auth,auth-int\", algorithm=SHA-256, stale=FALSE");
  REQUIRE(challenge.ok());
  CHECK(challenge->GetUnquoted("realm") == "a,b");
  CHECK(challenge->GetUnquoted("qop") == "auth,auth-int");
  CHECK(challenge->Get("algorithm") == "SHA-256");
  CHECK(ParseAuth("Bearer mF_9.B5f-4.1JqM")->scheme == "Bearer");
  CHECK_FALSE(ParseAuth("").ok());
}

TEST_CASE("media types events Replaces Session-Expires", "[headers]") {
  auto mt = ParseMediaType("multipart/mixed ; boundary=\"unique-boundary-1\"");
  REQUIRE(mt.ok());
  CHECK(mt->Is("Multipart", "MIXED"));
  CHECK(mt->boundary() == "unique-boundary-1");
  CHECK_FALSE(ParseMediaType("application").ok());

  auto ev = ParseEvent("refer;id=93809824");
  REQUIRE(ev.ok());
  CHECK(ev->package == "refer");
  CHECK(ev->id() == "93809824");

  auto r = ParseReplaces("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only");
  REQUIRE(r.ok());
  CHECK(r->call_id == "98732@sip.example.com");
  CHECK(r->from_tag == "r33th4x0r");
  CHECK(r->to_tag == "ff87ff");
  CHECK(r->early_only);
  CHECK_FALSE(ParseReplaces("98732@sip.example.com;from-tag=x").ok());

  auto se = ParseSessionExpires("4000;refresher=uac");
  REQUIRE(se.ok());
  CHECK(se->delta_seconds == 4000);
  CHECK(se->refresher == "uac");
  CHECK_FALSE(ParseSessionExpires("soon").ok());
}

TEST_CASE("RSeq and RAck of RFC 3262 §7", "[headers]") {
  CHECK(*ParseRSeq("988789") == 988789u);
  CHECK(*ParseRSeq(" 4294967295 ") == 4294967295u);
  CHECK_FALSE(ParseRSeq("4294967296").ok());
  CHECK_FALSE(ParseRSeq("").ok());
  CHECK_FALSE(ParseRSeq("12a").ok());

  auto rack = ParseRAck("776656 1 INVITE");  // the example of RFC 3262 §7.2
  REQUIRE(rack.ok());
  CHECK(rack->rseq == 776656u);
  CHECK(rack->cseq == 1u);
  CHECK(rack->method == "INVITE");
  auto folded = ParseRAck("1\r\n 2\tINVITE");
  REQUIRE(folded.ok());
  CHECK(folded->cseq == 2u);
  CHECK_FALSE(ParseRAck("776656 1").ok());
  CHECK_FALSE(ParseRAck("776656 INVITE").ok());
  CHECK_FALSE(ParseRAck("7766561 INVITE x y").ok());
  CHECK_FALSE(ParseRAck("1 4294967296 INVITE").ok());
  CHECK_FALSE(ParseRAck("1 2 INV@ITE").ok());
}

TEST_CASE("Unfold and IsToken", "[headers]") {
  CHECK(Unfold("newfangled value\r\n continued newfangled value") ==
        "newfangled value continued newfangled value");
  CHECK(IsToken("!interesting-Method0123456789_*+`.%indeed'~"));
  CHECK_FALSE(IsToken("a b"));
  CHECK_FALSE(IsToken(""));
  CHECK(ParseUint32("0068").value() == 68);
  CHECK_FALSE(ParseUint32("4294967296").ok());
}

}  // namespace
}  // namespace sb::sip
