// The server transaction state machines (RFC 3261 §17.2, RFC 6026 §7.1), driven event by event:
// every state, every transition and timers G, H, I, J, L.
#include <catch2/catch.hpp>

#include "support/sip_text.h"
#include "switchboard/sip/transaction.h"

using namespace sb::sip;
using namespace sb::sip::test;
using std::chrono::milliseconds;
using std::chrono::seconds;
using S = TransactionState;

namespace {
const TimerConfig kTimers{};
const Destination kUdp{"127.0.0.1", 5061, Transport::kUdp};
const Destination kTcp{"127.0.0.1", 5061, Transport::kTcp};

std::string Bytes(const Message& request, int code) {
  return MakeResponse(request, code, {}, "a6c85cf").Build();
}
}  // namespace

TEST_CASE("INVITE server: starts in Proceeding sends 100 Trying passes the INVITE", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kUdp, kTimers);
  auto start = tx.Start();
  CHECK(tx.state() == S::kProceeding);
  REQUIRE(Sends(start) == 1);
  auto trying = Parse(Only<action::Send>(start)[0].bytes);
  CHECK(trying.status_code() == 100);
  CHECK(Only<action::Send>(start)[0].destination == kUdp);
  CHECK(Passes(start) == 1);
}

TEST_CASE("INVITE server: a retransmitted INVITE gets the latest provisional again", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto again = tx.OnRequest(invite.Clone());
  REQUIRE(Sends(again) == 1);
  CHECK(Parse(Only<action::Send>(again)[0].bytes).status_code() == 100);
  CHECK(Passes(again) == 0);  // absorbed, not a new request for the TU
  (void)tx.OnTuResponse(180, Bytes(invite, 180));
  auto third = tx.OnRequest(invite.Clone());
  CHECK(Parse(Only<action::Send>(third)[0].bytes).status_code() == 180);
  CHECK(tx.state() == S::kProceeding);
}

TEST_CASE("INVITE server: 2xx moves to Accepted - INVITEs absorbed ACKs passed L ends it", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto ok = tx.OnTuResponse(200, Bytes(invite, 200));
  CHECK(tx.state() == S::kAccepted);
  CHECK(Sends(ok) == 1);
  CHECK(Starts(ok, TimerId::kL, seconds(32)));
  CHECK(tx.OnRequest(invite.Clone()).empty());  // RFC 6026: the TU retransmits the 2xx
  CHECK(Sends(tx.OnTuResponse(200, Bytes(invite, 200))) == 1);
  CHECK(Passes(tx.OnRequest(Request("ACK"))) == 1);
  CHECK(Terminates(tx.OnTimer(TimerId::kL)));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("INVITE server: 3xx-6xx retransmitted on G up to T2 until H", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  auto busy = tx.OnTuResponse(486, Bytes(invite, 486));
  CHECK(tx.state() == S::kCompleted);
  CHECK(Starts(busy, TimerId::kG, milliseconds(500)));
  CHECK(Starts(busy, TimerId::kH, seconds(32)));
  for (auto expected : {1000, 2000, 4000, 4000}) {
    auto fired = tx.OnTimer(TimerId::kG);
    REQUIRE(Sends(fired) == 1);
    CHECK(Parse(Only<action::Send>(fired)[0].bytes).status_code() == 486);
    CHECK(Starts(fired, TimerId::kG, milliseconds(expected)));
  }
  // A retransmitted INVITE in Completed gets the final response again.
  auto again = tx.OnRequest(invite.Clone());
  CHECK(Parse(Only<action::Send>(again)[0].bytes).status_code() == 486);
  auto h = tx.OnTimer(TimerId::kH);
  REQUIRE(Only<action::TimedOut>(h).size() == 1);
  CHECK(Only<action::TimedOut>(h)[0].timer == TimerId::kH);
  CHECK(Terminates(h));
}

TEST_CASE("INVITE server: the ACK confirms - I absorbs further ACKs", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  (void)tx.OnTuResponse(404, Bytes(invite, 404));
  auto ack = tx.OnRequest(Request("ACK"));
  CHECK(tx.state() == S::kConfirmed);
  CHECK(Stops(ack, TimerId::kG));
  CHECK(Stops(ack, TimerId::kH));
  CHECK(Starts(ack, TimerId::kI, seconds(5)));  // T4
  CHECK(Passes(ack) == 0);                      // the ACK of a non-2xx stays in the transaction
  CHECK(tx.OnRequest(Request("ACK")).empty());
  CHECK(tx.OnRequest(invite.Clone()).empty());
  CHECK(tx.OnTimer(TimerId::kG).empty());
  CHECK(tx.OnTimer(TimerId::kH).empty());
  CHECK(Terminates(tx.OnTimer(TimerId::kI)));
}

TEST_CASE("INVITE server over TCP: no G and the ACK terminates at once", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kTcp, kTimers);
  (void)tx.Start();
  auto busy = tx.OnTuResponse(486, Bytes(invite, 486));
  CHECK_FALSE(Starts(busy, TimerId::kG, milliseconds(500)));
  CHECK(Starts(busy, TimerId::kH, seconds(32)));
  CHECK(Terminates(tx.OnRequest(Request("ACK"))));
}

TEST_CASE("INVITE server: an ACK in Proceeding and responses after the final are ignored", "[tx]") {
  auto invite = Request("INVITE");
  InviteServerTransaction tx(invite.Clone(), kUdp, kTimers);
  (void)tx.Start();
  CHECK(tx.OnRequest(Request("ACK")).empty());
  CHECK(tx.state() == S::kProceeding);
  (void)tx.OnTuResponse(486, Bytes(invite, 486));
  CHECK(tx.OnTuResponse(200, Bytes(invite, 200)).empty());
  CHECK(tx.state() == S::kCompleted);
}

TEST_CASE("non-INVITE server: Trying absorbs Proceeding and Completed repeat the response",
          "[tx]") {
  auto bye = Request("BYE");
  NonInviteServerTransaction tx(bye.Clone(), kUdp, kTimers);
  auto start = tx.Start();
  CHECK(tx.state() == S::kTrying);
  CHECK(Passes(start) == 1);
  CHECK(Sends(start) == 0);
  CHECK(tx.OnRequest(bye.Clone()).empty());

  (void)tx.OnTuResponse(100, Bytes(bye, 100));
  CHECK(tx.state() == S::kProceeding);
  CHECK(Parse(Only<action::Send>(tx.OnRequest(bye.Clone()))[0].bytes).status_code() == 100);

  auto ok = tx.OnTuResponse(200, Bytes(bye, 200));
  CHECK(tx.state() == S::kCompleted);
  CHECK(Starts(ok, TimerId::kJ, seconds(32)));
  CHECK(Parse(Only<action::Send>(tx.OnRequest(bye.Clone()))[0].bytes).status_code() == 200);
  CHECK(tx.OnTuResponse(500, Bytes(bye, 500)).empty());  // one final response only
  CHECK(Terminates(tx.OnTimer(TimerId::kJ)));
  CHECK(tx.state() == S::kTerminated);
}

TEST_CASE("non-INVITE server: a final response straight from Trying", "[tx]") {
  auto options = Request("OPTIONS");
  auto transport = GENERATE(Transport::kUdp, Transport::kTcp);
  NonInviteServerTransaction tx(options.Clone(), {"127.0.0.1", 5061, transport}, kTimers);
  (void)tx.Start();
  auto ok = tx.OnTuResponse(200, Bytes(options, 200));
  CHECK(Sends(ok) == 1);
  if (transport == Transport::kUdp) {
    CHECK(tx.state() == S::kCompleted);
    CHECK(Starts(ok, TimerId::kJ, seconds(32)));
  } else {
    CHECK(Terminates(ok));  // J is zero over a reliable transport
  }
}
