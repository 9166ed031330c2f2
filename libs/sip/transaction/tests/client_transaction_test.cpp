// The client transaction state machines (RFC 3261 §17.1, RFC 6026 §7.2), driven event by event:
// every state, every transition and timers A, B, D, E, F, K, M.
#include <catch2/catch.hpp>

#include "support/sip_text.h"
#include "switchboard/sip/transaction.h"

using namespace sb::sip;
using namespace sb::sip::test;
using std::chrono::milliseconds;
using std::chrono::seconds;
using S = TransactionState;

namespace {
const TimerConfig kTimers{};  // T1 500 ms, T2 4 s, T4 5 s
const Destination kUdp{"127.0.0.1", 5062, Transport::kUdp};
const Destination kTcp{"127.0.0.1", 5062, Transport::kTcp};
}  // namespace

TEST_CASE("INVITE client: Calling retransmits on timer A doubling without a cap", "[tx]") {
  InviteClientTransaction tx(Request("INVITE"), kUdp, kTimers);
  auto start = tx.Start();
  CHECK(tx.state() == S::kCalling);
  CHECK(Sends(start) == 1);
  CHECK(Starts(start, TimerId::kA, milliseconds(500)));
  CHECK(Starts(start, TimerId::kB, seconds(32)));
  // 500, 1000, 2000, 4000, 8000, 16000 ms: A is not capped by T2 for INVITE (§17.1.1.2).
  milliseconds expected(1000);
  for (int i = 0; i < 6; ++i) {
    auto fired = tx.OnTimer(TimerId::kA);
    CHECK(Sends(fired) == 1);
    CHECK(Only<action::Send>(fired)[0].bytes.rfind("INVITE ", 0) == 0);
    CHECK(Starts(fired, TimerId::kA, expected));
    expected *= 2;
  }
  CHECK(tx.state() == S::kCalling);
}

TEST_CASE("INVITE client: timer B in Calling times out and terminates", "[tx]") {
  InviteClientTransaction tx(Request("INVITE"), kUdp, kTimers);
  (void)tx.Start();
  auto fired = tx.OnTimer(TimerId::kB);
  auto timeouts = Only<action::TimedOut>(fired);
  REQUIRE(timeouts.size() == 1);
  CHECK(timeouts[0].timer == TimerId::kB);
  CHECK(Terminates(fired));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("INVITE client over TCP: no timer A B still runs", "[tx]") {
  InviteClientTransaction tx(Request("INVITE"), kTcp, kTimers);
  auto start = tx.Start();
  CHECK(Only<action::StartTimer>(start).size() == 1);
  CHECK(Starts(start, TimerId::kB, seconds(32)));
}

TEST_CASE("INVITE client: 1xx moves to Proceeding stops A and B reaches the TU", "[tx]") {
  auto invite = Request("INVITE");
  InviteClientTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto ringing = tx.OnResponse(Response(invite, 180));
  CHECK(tx.state() == S::kProceeding);
  CHECK(Stops(ringing, TimerId::kA));
  CHECK(Stops(ringing, TimerId::kB));
  CHECK(Passes(ringing) == 1);
  CHECK(Passes(tx.OnResponse(Response(invite, 183))) == 1);
  CHECK(tx.state() == S::kProceeding);
  // Timers that fire late after being stopped do nothing.
  CHECK(tx.OnTimer(TimerId::kA).empty());
  CHECK(tx.OnTimer(TimerId::kB).empty());
}

TEST_CASE("INVITE client: 2xx goes to Accepted later 2xx pass to the TU M ends it", "[tx]") {
  auto invite = Request("INVITE");
  auto from = GENERATE(S::kCalling, S::kProceeding);
  InviteClientTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  if (from == S::kProceeding) (void)tx.OnResponse(Response(invite, 100));
  auto ok = tx.OnResponse(Response(invite, 200));
  CHECK(tx.state() == S::kAccepted);
  CHECK(Passes(ok) == 1);
  CHECK(Sends(ok) == 0);  // the ACK for a 2xx is the TU's (§13.2.2.4)
  CHECK(Starts(ok, TimerId::kM, seconds(32)));
  // A retransmitted 2xx, or one from another fork, is passed up too (RFC 6026 §7.2).
  CHECK(Passes(tx.OnResponse(Response(invite, 200, "other-fork"))) == 1);
  CHECK(Passes(tx.OnResponse(Response(invite, 180))) == 0);
  auto m = tx.OnTimer(TimerId::kM);
  CHECK(Terminates(m));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("INVITE client: 3xx-6xx are ACKed by the transaction D absorbs retransmissions", "[tx]") {
  auto invite = Request("INVITE");
  int code = GENERATE(302, 404, 486, 503, 603);
  InviteClientTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto busy = tx.OnResponse(Response(invite, code));
  CHECK(tx.state() == S::kCompleted);
  CHECK(Passes(busy) == 1);
  REQUIRE(Sends(busy) == 1);
  auto ack = Parse(Only<action::Send>(busy)[0].bytes);
  CHECK(ack.method() == Method::kAck);
  CHECK(Starts(busy, TimerId::kD, seconds(32)));
  // The retransmitted final response is answered with the same ACK and not passed up.
  auto again = tx.OnResponse(Response(invite, code));
  CHECK(Passes(again) == 0);
  REQUIRE(Sends(again) == 1);
  CHECK(Only<action::Send>(again)[0].bytes == Only<action::Send>(busy)[0].bytes);
  CHECK(Terminates(tx.OnTimer(TimerId::kD)));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("INVITE client over TCP: a 4xx terminates at once (timer D is zero)", "[tx]") {
  auto invite = Request("INVITE");
  InviteClientTransaction tx(invite.Clone(), kTcp, kTimers);
  (void)tx.Start();
  auto busy = tx.OnResponse(Response(invite, 486));
  CHECK(Sends(busy) == 1);
  CHECK(Passes(busy) == 1);
  CHECK(Terminates(busy));
}

TEST_CASE("the ACK for a non-2xx has the fields of §17.1.1.3", "[tx]") {
  auto invite = Request("INVITE", "z9hG4bKnashds8", 314159);
  auto ack = Parse(BuildNon2xxAck(invite, Response(invite, 486, "8321234356")));
  CHECK(ack.request_uri_text() == "sip:bob@127.0.0.1:5062");
  CHECK((*ack.TopVia())->branch() == "z9hG4bKnashds8");
  CHECK(ack.CountHeaders(HeaderId::kVia) == 1);
  CHECK((*ack.To())->tag() == "8321234356");
  CHECK((*ack.From())->tag() == "1928301774");
  CHECK(*ack.CallId() == "a84b4c76e66710@127.0.0.1");
  CHECK((*ack.GetCSeq())->number == 314159);
  CHECK((*ack.GetCSeq())->method == "ACK");
  CHECK(ack.Header(HeaderId::kRoute) == "<sip:proxy.example;lr>");
  CHECK(ack.Header(HeaderId::kMaxForwards) == "70");
}

TEST_CASE("non-INVITE client: timer E doubles to T2 in Trying then every T2", "[tx]") {
  NonInviteClientTransaction tx(Request("OPTIONS"), kUdp, kTimers);
  auto start = tx.Start();
  CHECK(tx.state() == S::kTrying);
  CHECK(Starts(start, TimerId::kE, milliseconds(500)));
  CHECK(Starts(start, TimerId::kF, seconds(32)));
  for (auto expected : {1000, 2000, 4000, 4000, 4000}) {
    auto fired = tx.OnTimer(TimerId::kE);
    CHECK(Sends(fired) == 1);
    CHECK(Starts(fired, TimerId::kE, milliseconds(expected)));
  }
}

TEST_CASE("non-INVITE client: in Proceeding E retransmits every T2", "[tx]") {
  auto options = Request("OPTIONS");
  NonInviteClientTransaction tx(options.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto trying = tx.OnResponse(Response(options, 100));
  CHECK(tx.state() == S::kProceeding);
  CHECK(Passes(trying) == 1);
  auto fired = tx.OnTimer(TimerId::kE);
  CHECK(Sends(fired) == 1);
  CHECK(Starts(fired, TimerId::kE, milliseconds(4000)));
}

TEST_CASE("non-INVITE client: timer F times out in Trying and in Proceeding", "[tx]") {
  auto options = Request("OPTIONS");
  bool proceeding = GENERATE(false, true);
  NonInviteClientTransaction tx(options.Clone(), kUdp, kTimers);
  (void)tx.Start();
  if (proceeding) (void)tx.OnResponse(Response(options, 100));
  auto fired = tx.OnTimer(TimerId::kF);
  REQUIRE(Only<action::TimedOut>(fired).size() == 1);
  CHECK(Only<action::TimedOut>(fired)[0].timer == TimerId::kF);
  CHECK(Terminates(fired));
}

TEST_CASE("non-INVITE client: a final response completes - K absorbs retransmissions", "[tx]") {
  auto options = Request("OPTIONS");
  int code = GENERATE(200, 404);
  NonInviteClientTransaction tx(options.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto final_response = tx.OnResponse(Response(options, code));
  CHECK(tx.state() == S::kCompleted);
  CHECK(Passes(final_response) == 1);
  CHECK(Stops(final_response, TimerId::kE));
  CHECK(Stops(final_response, TimerId::kF));
  CHECK(Starts(final_response, TimerId::kK, seconds(5)));  // T4
  CHECK(tx.OnResponse(Response(options, code)).empty());
  CHECK(tx.OnTimer(TimerId::kE).empty());
  CHECK(Terminates(tx.OnTimer(TimerId::kK)));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("non-INVITE client over TCP: no E and a final response terminates at once", "[tx]") {
  auto options = Request("OPTIONS");
  NonInviteClientTransaction tx(options.Clone(), kTcp, kTimers);
  auto start = tx.Start();
  CHECK_FALSE(Starts(start, TimerId::kE, milliseconds(500)));
  CHECK(Starts(start, TimerId::kF, seconds(32)));
  auto ok = tx.OnResponse(Response(options, 200));
  CHECK(Passes(ok) == 1);
  CHECK(Terminates(ok));
}

TEST_CASE("timers follow a configured T1/T2/T4", "[tx]") {
  TimerConfig fast{milliseconds(100), milliseconds(400), milliseconds(1000)};
  NonInviteClientTransaction tx(Request("OPTIONS"), kUdp, fast);
  auto start = tx.Start();
  CHECK(Starts(start, TimerId::kE, milliseconds(100)));
  CHECK(Starts(start, TimerId::kF, milliseconds(6400)));
  (void)tx.OnTimer(TimerId::kE);
  (void)tx.OnTimer(TimerId::kE);
  CHECK(Starts(tx.OnTimer(TimerId::kE), TimerId::kE, milliseconds(400)));
}

TEST_CASE("INVITE client with timer C: off by default and started with the INVITE", "[tx]") {
  InviteClientTransaction plain(Request("INVITE"), kUdp, kTimers);
  CHECK_FALSE(Starts(plain.Start(), TimerId::kC, kMinTimerC));
  CHECK(plain.OnTimer(TimerId::kC).empty());

  TimerConfig with_c = kTimers;
  with_c.timer_c = kMinTimerC;
  InviteClientTransaction tx(Request("INVITE"), kUdp, with_c);
  CHECK(Starts(tx.Start(), TimerId::kC, kMinTimerC));
  CHECK(TimerName(TimerId::kC) == "C");
}

TEST_CASE("timer C: restarted by 1xx but not by 100 and fires in Proceeding for a CANCEL", "[tx]") {
  TimerConfig with_c = kTimers;
  with_c.timer_c = std::chrono::minutes(4);
  auto invite = Request("INVITE");
  InviteClientTransaction tx(invite.Clone(), kUdp, with_c);
  (void)tx.Start();
  auto trying = tx.OnResponse(Response(invite, 100));
  CHECK(Only<action::StartTimer>(trying).empty());  // §16.7 item 2: not for 100
  auto ringing = tx.OnResponse(Response(invite, 180));
  CHECK(Starts(ringing, TimerId::kC, std::chrono::minutes(4)));
  CHECK(tx.state() == S::kProceeding);
  auto fired = tx.OnTimer(TimerId::kC);
  auto timeouts = Only<action::TimedOut>(fired);
  REQUIRE(timeouts.size() == 1);
  CHECK(timeouts[0].timer == TimerId::kC);
  CHECK_FALSE(Terminates(fired));  // the TU's CANCEL brings the 487 through this transaction
  CHECK(tx.state() == S::kProceeding);
  auto terminated = tx.OnResponse(Response(invite, 487));
  CHECK(Only<action::StopTimer>(terminated).size() >= 1);
  CHECK(tx.state() == S::kCompleted);
  CHECK(tx.OnTimer(TimerId::kC).empty());  // a stale C after the final response does nothing
}

TEST_CASE("timer C in Calling ends the transaction as if a 408 had come", "[tx]") {
  TimerConfig with_c = kTimers;
  with_c.timer_c = kMinTimerC;
  InviteClientTransaction tx(Request("INVITE"), kTcp, with_c);
  (void)tx.Start();
  auto fired = tx.OnTimer(TimerId::kC);
  auto timeouts = Only<action::TimedOut>(fired);
  REQUIRE(timeouts.size() == 1);
  CHECK(timeouts[0].timer == TimerId::kC);
  CHECK(Terminates(fired));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("timer C stops on a 2xx", "[tx]") {
  TimerConfig with_c = kTimers;
  with_c.timer_c = kMinTimerC;
  auto invite = Request("INVITE");
  InviteClientTransaction tx(invite.Clone(), kUdp, with_c);
  (void)tx.Start();
  auto ok = tx.OnResponse(Response(invite, 200));
  bool stops_c = false;
  for (const auto& stop : Only<action::StopTimer>(ok)) stops_c = stops_c || stop.id == TimerId::kC;
  CHECK(stops_c);
  CHECK(tx.state() == S::kAccepted);
  CHECK(tx.OnTimer(TimerId::kC).empty());
}
