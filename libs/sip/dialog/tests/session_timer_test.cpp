// RFC 4028 session timers: the UAS's answer to Session-Expires / Min-SE / Supported (§9), the
// UAC's reading of a 2xx and a 422 (§7.2, §7.3), and when a dialog's session is refreshed or
// given up (§10), on a FakeClock.
#include "switchboard/sip/session_timer.h"

#include <catch2/catch.hpp>

using namespace sb::sip;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

Message Parse(const std::string& text) {
  auto m = Message::Parse(text);
  if (!m.ok()) FAIL("does not parse: " << m.error().ToString() << "\n" << text);
  return std::move(*m);
}

Message Invite(std::string_view timer_headers) {
  return Parse(
      "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKst1\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:alice@127.0.0.1>;tag=a\r\n"
      "To: <sip:bob@127.0.0.1>\r\n"
      "Call-ID: st-1@127.0.0.1\r\n"
      "CSeq: 1 INVITE\r\n" +
      std::string(timer_headers) + "Content-Length: 0\r\n\r\n");
}

Message Response(int code, std::string_view timer_headers) {
  return Parse("SIP/2.0 " + std::to_string(code) +
               " X\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKst1\r\n"
               "From: <sip:alice@127.0.0.1>;tag=a\r\n"
               "To: <sip:bob@127.0.0.1>;tag=b\r\n"
               "Call-ID: st-1@127.0.0.1\r\n"
               "CSeq: 1 INVITE\r\n" +
               std::string(timer_headers) + "Content-Length: 0\r\n\r\n");
}

std::string HeaderOf(const HeaderLines& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

const SessionTimerPolicy kPolicy{.session_expires = 1800, .min_se = 90};

}  // namespace

TEST_CASE("a caller that supports timers and asks an interval refreshes it itself",
          "[session_timer]") {
  auto answer = NegotiateAsUas(Invite("Supported: timer\r\nSession-Expires: 600\r\n"), kPolicy);
  CHECK(answer.reject_code == 0);
  CHECK(HeaderOf(answer.headers, "Session-Expires") == "600;refresher=uac");
  CHECK(HeaderOf(answer.headers, "Require") == "timer");
  CHECK(answer.terms == SessionTerms{.interval = 600, .we_refresh = false});
}

TEST_CASE("a caller that names the UAS as refresher leaves the refreshes to us",
          "[session_timer]") {
  auto answer =
      NegotiateAsUas(Invite("Supported: timer\r\nSession-Expires: 600;refresher=uas\r\n"), kPolicy);
  CHECK(HeaderOf(answer.headers, "Session-Expires") == "600;refresher=uas");
  CHECK(HeaderOf(answer.headers, "Require") == "timer");
  CHECK(answer.terms.we_refresh);
}

TEST_CASE("a caller without timer support gets our interval and we refresh without Require",
          "[session_timer]") {
  auto answer = NegotiateAsUas(Invite(""), kPolicy);
  CHECK(answer.reject_code == 0);
  CHECK(HeaderOf(answer.headers, "Session-Expires") == "1800;refresher=uas");
  CHECK(HeaderOf(answer.headers, "Require").empty());
  CHECK(answer.terms == SessionTerms{.interval = 1800, .we_refresh = true});
}

TEST_CASE("a proxy's refresher=uac for a caller without timer support is overruled",
          "[session_timer]") {
  auto answer = NegotiateAsUas(Invite("Session-Expires: 300;refresher=uac\r\n"), kPolicy);
  CHECK(HeaderOf(answer.headers, "Session-Expires") == "300;refresher=uas");
  CHECK(answer.terms.we_refresh);
}

TEST_CASE("an interval below our Min-SE is refused with 422 naming our minimum",
          "[session_timer]") {
  auto answer = NegotiateAsUas(Invite("Supported: timer\r\nSession-Expires: 60\r\n"), kPolicy);
  CHECK(answer.reject_code == 422);
  CHECK(HeaderOf(answer.headers, "Min-SE") == "90");
}

TEST_CASE("a small interval from a caller that cannot retry is raised to our minimum",
          "[session_timer]") {
  auto answer = NegotiateAsUas(Invite("Session-Expires: 60\r\n"), kPolicy);
  CHECK(answer.reject_code == 0);
  CHECK(answer.terms == SessionTerms{.interval = 90, .we_refresh = true});
}

TEST_CASE("without Session-Expires the caller's Min-SE bounds the interval we grant",
          "[session_timer]") {
  auto answer = NegotiateAsUas(Invite("Supported: timer\r\nMin-SE: 3600\r\n"), kPolicy);
  CHECK(answer.terms == SessionTerms{.interval = 3600, .we_refresh = false});
  CHECK(HeaderOf(answer.headers, "Session-Expires") == "3600;refresher=uac");
}

TEST_CASE("malformed Session-Expires and Min-SE get 400 naming the header", "[session_timer]") {
  auto bad_se = NegotiateAsUas(Invite("Session-Expires: soon\r\n"), kPolicy);
  CHECK(bad_se.reject_code == 400);
  CHECK(bad_se.reason == "Invalid Session-Expires");
  auto zero = NegotiateAsUas(Invite("Session-Expires: 0\r\n"), kPolicy);
  CHECK(zero.reject_code == 400);
  auto bad_min = NegotiateAsUas(Invite("Session-Expires: 600\r\nMin-SE: x\r\n"), kPolicy);
  CHECK(bad_min.reject_code == 400);
  CHECK(bad_min.reason == "Invalid Min-SE");
}

TEST_CASE("a smaller Min-SE by configuration accepts short test intervals", "[session_timer]") {
  auto answer = NegotiateAsUas(Invite("Supported: timer\r\nx: 6\r\n"),
                               {.session_expires = 1800, .min_se = 4});
  CHECK(answer.reject_code == 0);
  CHECK(answer.terms.interval == 6);
}

TEST_CASE("our INVITE and refreshes carry Session-Expires and Min-SE", "[session_timer]") {
  auto initial = UacTimerHeaders(1800, 90, false);
  CHECK(HeaderOf(initial, "Session-Expires") == "1800");
  CHECK(HeaderOf(initial, "Min-SE") == "90");
  CHECK(HeaderOf(UacTimerHeaders(600, 90, true), "Session-Expires") == "600;refresher=uac");
}

TEST_CASE(
    "a request within a session keeps its terms - the current refresher named, timers supported",
    "[session_timer]") {
  auto ours = SessionRefreshHeaders({.interval = 600, .we_refresh = true}, 90);
  CHECK(HeaderOf(ours, "Session-Expires") == "600;refresher=uac");
  CHECK(HeaderOf(ours, "Min-SE") == "90");
  CHECK(HeaderOf(ours, "Supported") == "timer");
  auto theirs = SessionRefreshHeaders({.interval = 120, .we_refresh = false}, 90);
  CHECK(HeaderOf(theirs, "Session-Expires") == "120;refresher=uas");
  // A Min-SE above the interval the session runs under would ask the peer for a 422.
  CHECK(HeaderOf(SessionRefreshHeaders({.interval = 60, .we_refresh = true}, 90), "Min-SE") ==
        "60");
}

TEST_CASE("a 422 is retried with its larger Min-SE and only then", "[session_timer]") {
  CHECK(IntervalAfter422(Response(422, "Min-SE: 3600\r\n"), 1800) == 3600u);
  CHECK_FALSE(IntervalAfter422(Response(422, "Min-SE: 1800\r\n"), 1800));
  CHECK_FALSE(IntervalAfter422(Response(422, ""), 1800));
  CHECK_FALSE(IntervalAfter422(Response(422, "Min-SE: many\r\n"), 1800));
}

TEST_CASE("the 2xx says who refreshes and no Session-Expires means no timer", "[session_timer]") {
  CHECK(TermsFromAnswer(Response(200, "Session-Expires: 900;refresher=uac\r\n")) ==
        SessionTerms{.interval = 900, .we_refresh = true});
  CHECK(TermsFromAnswer(Response(200, "Session-Expires: 900;refresher=uas\r\n")) ==
        SessionTerms{.interval = 900, .we_refresh = false});
  CHECK(TermsFromAnswer(Response(200, "Session-Expires: 900\r\n"))->we_refresh);
  CHECK_FALSE(TermsFromAnswer(Response(200, "")));
}

TEST_CASE("the refresher refreshes at half the interval once and expires at its end",
          "[session_timer]") {
  sb::core::FakeClock clock;
  SessionTimer timer(clock, {.interval = 1800, .we_refresh = true});
  CHECK(timer.NextDeadline() == clock.Now() + seconds(900));
  clock.Advance(seconds(899));
  CHECK(timer.OnTimers() == SessionTimer::Action::kNone);
  clock.Advance(seconds(1));
  CHECK(timer.OnTimers() == SessionTimer::Action::kRefresh);
  CHECK(timer.OnTimers() == SessionTimer::Action::kNone);
  CHECK(timer.NextDeadline() == clock.Now() + seconds(900));
  clock.Advance(seconds(900));
  CHECK(timer.OnTimers() == SessionTimer::Action::kExpire);
}

TEST_CASE("a refresh starts the interval again under the new terms", "[session_timer]") {
  sb::core::FakeClock clock;
  SessionTimer timer(clock, {.interval = 6, .we_refresh = true});
  clock.Advance(seconds(3));
  CHECK(timer.OnTimers() == SessionTimer::Action::kRefresh);
  clock.Advance(milliseconds(100));
  timer.Refreshed({.interval = 8, .we_refresh = true});
  clock.Advance(milliseconds(3900));
  CHECK(timer.OnTimers() == SessionTimer::Action::kNone);
  clock.Advance(milliseconds(100));
  CHECK(timer.OnTimers() == SessionTimer::Action::kRefresh);
}

TEST_CASE("the side that does not refresh gives up min of 32 s and a third before the end",
          "[session_timer]") {
  sb::core::FakeClock clock;
  SessionTimer long_session(clock, {.interval = 1800, .we_refresh = false});
  CHECK(long_session.NextDeadline() == clock.Now() + seconds(1768));
  SessionTimer short_session(clock, {.interval = 6, .we_refresh = false});
  CHECK(short_session.NextDeadline() == clock.Now() + seconds(4));
  clock.Advance(milliseconds(3999));
  CHECK(short_session.OnTimers() == SessionTimer::Action::kNone);
  short_session.Refreshed({.interval = 6, .we_refresh = false});
  clock.Advance(seconds(3));
  CHECK(short_session.OnTimers() == SessionTimer::Action::kNone);
  clock.Advance(seconds(1));
  CHECK(short_session.OnTimers() == SessionTimer::Action::kExpire);
  CHECK(long_session.OnTimers() == SessionTimer::Action::kNone);
}
