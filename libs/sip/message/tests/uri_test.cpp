// URIs: RFC 3261 §19.1 forms, escaping (§25.1) and the comparison examples of §19.1.4.
#include "switchboard/sip/uri.h"

#include <catch2/catch.hpp>

namespace sb::sip {
namespace {

TEST_CASE("sip URI with every component", "[uri]") {
  auto u = ParseUri(
      "sip:alice:secretword@atlanta.com:5070;transport=tcp;lr?subject=project%20x&priority=urgent");
  REQUIRE(u.ok());
  CHECK(u->scheme == UriScheme::kSip);
  CHECK(u->user == "alice");
  CHECK(u->password == "secretword");
  CHECK(u->host == "atlanta.com");
  CHECK(u->port == 5070);
  CHECK(u->params().Get("transport") == "tcp");
  CHECK(u->params().Has("lr"));
  CHECK(u->params().Get("lr") == "");
  CHECK_FALSE(u->params().Has("maddr"));
  CHECK(u->headers().Get("subject") == "project%20x");
  CHECK(u->headers().Get("priority") == "urgent");
  CHECK(u->params().size() == 2);
}

TEST_CASE("RFC 3261 §19.1.3 example URIs parse", "[uri]") {
  for (const char* text :
       {"sip:alice@atlanta.com", "sip:alice:secretword@atlanta.com;transport=tcp",
        "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone", "sips:1212@gateway.com",
        "sip:alice@192.0.2.4", "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
        "sip:alice;day=tuesday@atlanta.com", "sip:[2001:db8::10]:5061;transport=tls"}) {
    INFO(text);
    CHECK(ParseUri(text).ok());
  }
  auto v6 = ParseUri("sip:[2001:db8::10]:5061");
  CHECK(v6->host == "[2001:db8::10]");
  CHECK(v6->port == 5061);
  auto day = ParseUri("sip:alice;day=tuesday@atlanta.com");
  CHECK(day->user == "alice;day=tuesday");
}

TEST_CASE("tel and other schemes", "[uri]") {
  auto tel = ParseUri("tel:+1-201-555-0123;phone-context=example.com");
  REQUIRE(tel.ok());
  CHECK(tel->scheme == UriScheme::kTel);
  CHECK(tel->user == "+1-201-555-0123");
  CHECK(tel->params().Get("phone-context") == "example.com");
  auto other = ParseUri("isbn:2983792873");
  REQUIRE(other.ok());
  CHECK(other->scheme == UriScheme::kOther);
  CHECK(other->opaque == "2983792873");
}

TEST_CASE("a global or a local tel: number gives the digits to dial, without visual separators",
          "[uri]") {
  auto digits = [](std::string_view text) {
    auto uri = ParseUri(text);
    REQUIRE(uri.ok());
    return GlobalTelDigits(*uri);
  };
  CHECK(digits("tel:+1-555-(010).3") == "+15550103");
  CHECK(digits("tel:+15550103;ext=22") == "+15550103");  // parameters are the caller's to judge
  CHECK_FALSE(digits("tel:5550103;phone-context=example.com"));  // local
  CHECK_FALSE(digits("tel:+1555*0103"));
  CHECK_FALSE(digits("tel:+1555p0103"));
  CHECK_FALSE(digits("tel:+"));
  CHECK_FALSE(digits("sip:+15550103@example.com"));

  auto local = [](std::string_view text) {
    auto uri = ParseUri(text);
    REQUIRE(uri.ok());
    return LocalTelDigits(*uri);
  };
  CHECK(local("tel:10-03;phone-context=acme.example") == "1003");
  CHECK(local("tel:1003") == "1003");   // whose number it is, is the caller's to judge
  CHECK_FALSE(local("tel:+15550103"));  // global
  CHECK_FALSE(local("tel:*67;phone-context=acme.example"));
  CHECK_FALSE(local("tel:-;phone-context=acme.example"));
  CHECK_FALSE(local("sip:1003@acme.example"));
}

TEST_CASE("malformed URIs are errors naming the problem", "[uri]") {
  struct Bad {
    const char* text;
    const char* problem;
  };
  for (auto [text, problem] :
       {Bad{"", "no scheme"}, Bad{"alice@example.com", "no scheme"}, Bad{"sip:", "empty URI"},
        Bad{"sip:alice@", "bad host"}, Bad{"sip:@example.com", "bad user"},
        Bad{"sip:a@example.com:99999", "bad port"}, Bad{"sip:a@example.com:", "bad port"},
        Bad{"sip:a@exa mple.com", "whitespace"}, Bad{"sip:a@example.com;;lr", "bad parameter"},
        Bad{"sip:a@example.com;lr=", "bad parameter"}, Bad{"sip:%4@example.com", "bad user"},
        Bad{"sip:a@[2001:db8::1", "IPv6"}, Bad{"sip:a@example.com?x", "bad header"},
        Bad{"tel:xyz;x", "telephone number"}}) {
    INFO(text);
    auto u = ParseUri(text);
    REQUIRE_FALSE(u.ok());
    CHECK(u.status().message().find(problem) != std::string::npos);
  }
}

TEST_CASE("unescaping decodes once and keeps NUL", "[uri]") {
  CHECK(Unescape("value%25%34%31") == "value%41");
  CHECK(Unescape("%00") == std::string(1, '\0'));
  CHECK(Unescape("100%") == "100%");
  CHECK(Unescape("%Z1") == "%Z1");
  CHECK(Unescape("%4") == "%4");
  CHECK(Escape("I have spaces", UriComponent::kUser) == "I%20have%20spaces");
  CHECK(Escape("a@b", UriComponent::kUser) == "a%40b");
  CHECK(Escape("<sip:x>", UriComponent::kHeader) == "%3Csip:x%3E");
  CHECK(Escape("100%", UriComponent::kParam) == "100%25");
}

bool Eq(const char* a, const char* b) {
  auto ua = ParseUri(a);
  auto ub = ParseUri(b);
  REQUIRE(ua.ok());
  REQUIRE(ub.ok());
  bool ab = UriEquivalent(*ua, *ub);
  CHECK(ab == UriEquivalent(*ub, *ua));  // symmetric
  return ab;
}

TEST_CASE("RFC 3261 §19.1.4 equivalent URIs", "[uri]") {
  CHECK(Eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
  CHECK(Eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
  CHECK(Eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
  CHECK(Eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
  CHECK(Eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
           "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
  CHECK(Eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
           "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
}

TEST_CASE("RFC 3261 §19.1.4 non-equivalent URIs", "[uri]") {
  CHECK_FALSE(Eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
  CHECK_FALSE(Eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
  CHECK_FALSE(Eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
  CHECK_FALSE(Eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
  CHECK_FALSE(Eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
  CHECK_FALSE(Eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
  CHECK_FALSE(Eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
  CHECK_FALSE(Eq("sip:alice@example.com", "sips:alice@example.com"));
}

TEST_CASE("tel URIs compare without visual separators", "[uri]") {
  CHECK(Eq("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
  CHECK(Eq("tel:+12015550123;ext=1", "tel:+1(201)5550123;EXT=1"));
  CHECK_FALSE(Eq("tel:+12015550123", "tel:+12015550124"));
  CHECK_FALSE(Eq("tel:+12015550123;ext=1", "tel:+12015550123"));
}

TEST_CASE("UriBuilder escapes and round-trips through the parser", "[uri]") {
  std::string text = UriBuilder(UriScheme::kSip)
                         .User("al ice@home")
                         .Host("example.com")
                         .Port(5070)
                         .Param("transport", std::string_view("tcp"))
                         .Param("lr")
                         .Header("Subject", "hi there")
                         .Build();
  CHECK(text == "sip:al%20ice%40home@example.com:5070;transport=tcp;lr?Subject=hi%20there");
  auto u = ParseUri(text);
  REQUIRE(u.ok());
  CHECK(u->UserUnescaped() == "al ice@home");
  CHECK(UriBuilder(UriScheme::kTel)
            .User("+15551234")
            .Param("phone-context", std::string_view("x.com"))
            .Build() == "tel:+15551234;phone-context=x.com");
}

}  // namespace
}  // namespace sb::sip
