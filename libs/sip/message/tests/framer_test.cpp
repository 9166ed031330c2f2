// Stream framing by Content-Length (§18.3) and multipart bodies (RFC 2046).
#include "switchboard/sip/framer.h"

#include <catch2/catch.hpp>

#include "switchboard/sip/multipart.h"

namespace sb::sip {
namespace {

std::string Msg(std::string_view call_id, std::string_view body) {
  return "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: "
         "<sip:a@b>;tag=1\r\n"
         "To: <sip:a@b>\r\nCall-ID: " +
         std::string(call_id) +
         "\r\nCSeq: 1 MESSAGE\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::vector<std::string> Drain(StreamFramer& framer) {
  std::vector<std::string> out;
  for (int guard = 0; guard < 100; ++guard) {
    auto next = framer.Next();
    REQUIRE(next.ok());
    if (!next->has_value()) break;
    out.emplace_back(**next);
  }
  return out;
}

TEST_CASE("a message split across reads comes out whole", "[framer]") {
  std::string m = Msg("one", "hello");
  StreamFramer framer;
  framer.Append(m.substr(0, 10));
  CHECK(Drain(framer).empty());
  CHECK(framer.mid_message());
  framer.Append(m.substr(10, m.size() - 12));
  CHECK(Drain(framer).empty());
  framer.Append(m.substr(m.size() - 2));
  auto out = Drain(framer);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == m);
  ParseOptions stream;
  stream.framing = Framing::kStream;
  auto parsed = Message::Parse(out[0], stream);
  REQUIRE(parsed.ok());
  CHECK(parsed->body() == "hello");
  CHECK_FALSE(framer.mid_message());
}

TEST_CASE("several messages and keep-alives in one read", "[framer]") {
  std::string a = Msg("a", "x");
  std::string b = Msg("b", "");
  std::string c = Msg("c", "body with\r\n\r\nblank lines");
  StreamFramer framer;
  framer.Append("\r\n\r\n" + a + b + "\r\n" + c);
  auto out = Drain(framer);
  REQUIRE(out.size() == 3);
  CHECK(out[0] == a);
  CHECK(out[1] == b);
  CHECK(out[2] == c);
  CHECK(framer.buffered() == 0);
}

TEST_CASE("a double CRLF between messages is a keep-alive ping and never a message", "[framer]") {
  // RFC 5626 §4.4.1: the transport answers each ping with one CRLF pong.
  StreamFramer framer;
  framer.Append("\r\n\r\n");
  auto next = framer.Next();
  REQUIRE(next.ok());
  CHECK_FALSE(next->has_value());
  CHECK(framer.TakePings() == 1);
  CHECK(framer.TakePings() == 0);
  CHECK_FALSE(framer.mid_message());

  std::string a = Msg("a", "x");
  framer.Append("\r\n\r\n\r\n\r\n" + a + "\r\n\r\n");
  auto out = Drain(framer);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == a);
  CHECK(framer.TakePings() == 3);
}

TEST_CASE("a ping split across reads counts once when complete and a lone CRLF is none",
          "[framer]") {
  StreamFramer framer;
  for (char c : std::string("\r\n\r")) {
    framer.Append(std::string(1, c));
    REQUIRE(Drain(framer).empty());
  }
  CHECK(framer.TakePings() == 0);
  framer.Append("\n");
  REQUIRE(Drain(framer).empty());
  CHECK(framer.TakePings() == 1);

  // A CRLF that only ends the previous message, then a message: no ping.
  framer.Append(Msg("b", "") + "\r\n" + Msg("c", ""));
  CHECK(Drain(framer).size() == 2);
  CHECK(framer.TakePings() == 0);
  // CRLF CR CRLF is not a ping either; the CR restarts the match.
  framer.Append("\r\n\r\r\n\r\n");
  REQUIRE(Drain(framer).empty());
  CHECK(framer.TakePings() == 1);
}

TEST_CASE("a datagram of only CR and LF is a keep-alive and anything else is not", "[framer]") {
  CHECK(IsKeepAlive("\r\n"));
  CHECK(IsKeepAlive("\r\n\r\n"));
  CHECK(IsKeepAlive("\n"));
  CHECK_FALSE(IsKeepAlive(""));
  CHECK_FALSE(IsKeepAlive("\r\n "));
  CHECK_FALSE(IsKeepAlive("\r\n" + Msg("a", "")));
}

TEST_CASE("every split point of two messages frames the same", "[framer]") {
  std::string stream = Msg("a", "12345") + Msg("b", "678");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    StreamFramer framer;
    framer.Append(stream.substr(0, cut));
    auto first = Drain(framer);
    framer.Append(stream.substr(cut));
    auto second = Drain(framer);
    first.insert(first.end(), second.begin(), second.end());
    REQUIRE(first.size() == 2);
  }
}

TEST_CASE("framing errors end the stream with a response", "[framer]") {
  StreamFramer missing;
  missing.Append(
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: x\r\n"
      "CSeq: 1 OPTIONS\r\n\r\n");
  auto e = missing.Next();
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().status_code == 400);
  CHECK(e.error().reason == "Missing Content-Length");
  CHECK(e.error().response.rfind("SIP/2.0 400 Missing Content-Length\r\n", 0) == 0);
  CHECK_FALSE(missing.Next().ok());  // stays failed

  StreamFramer negative;
  negative.Append("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\n");
  CHECK(negative.Next().error().reason == "Bad Content-Length");

  StreamFramer conflict;
  conflict.Append("OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab");
  CHECK(conflict.Next().error().reason == "Conflicting Content-Length headers");

  ParseLimits limits;
  limits.max_header_bytes = 64;
  StreamFramer endless(limits);
  endless.Append("OPTIONS sip:a@b SIP/2.0\r\nX: " + std::string(100, 'a'));
  CHECK(endless.Next().error().status_code == 513);

  ParseLimits body_limit;
  body_limit.max_body_bytes = 10;
  StreamFramer big(body_limit);
  big.Append(Msg("x", std::string(11, 'b')));
  CHECK(big.Next().error().status_code == 513);
}

TEST_CASE("multipart bodies split into parts", "[multipart]") {
  using namespace std::string_literals;
  std::string body =
      "preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1\r\n"
      "c: text/plain\r\n\r\nhi\0there\r\n--b1--\r\nepilogue"s;
  auto parts = SplitMultipart(body, "b1");
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[0].content_type == "application/sdp");
  CHECK((*parts)[0].body == "v=0\r\n");
  CHECK((*parts)[1].content_type == "text/plain");
  CHECK((*parts)[1].body == std::string_view("hi\0there", 8));
  CHECK_FALSE(SplitMultipart(body, "").ok());
  CHECK_FALSE(SplitMultipart("--b1\r\nx", "b1").ok());
  CHECK_FALSE(SplitMultipart("no boundary at all", "b1").ok());
}

}  // namespace
}  // namespace sb::sip
