// The transaction manager between two endpoints over a LoopTransport that drops, duplicates,
// reorders and delays, with a FakeClock: retransmissions, absorption, the non-2xx ACK, CANCEL
// matching, RFC 3581 rport, RFC 2543 matching. No test sleeps: time moves only by Advance.
#include "switchboard/sip/transaction_manager.h"

#include <catch2/catch.hpp>
#include <functional>

#include "support/sip_text.h"
#include "switchboard/core/clock.h"
#include "switchboard/testing/loop_transport.h"

using namespace sb::sip;
using namespace sb::sip::test;
using sb::testing::LoopTransport;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct Endpoint {
  std::string host;
  uint16_t port;
  TransactionManager tm;
  std::vector<TuEvent> events;
  std::vector<std::string> ended;  // transactions reported ended, in order
  // What this endpoint's TU does with a new request: the responses to send, if any.
  std::function<std::vector<int>(const Message&)> answer = [](const Message&) {
    return std::vector<int>{};
  };
};

// Two endpoints on one loop network: alice (client side) and bob (server side).
struct Harness {
  sb::core::FakeClock clock;
  LoopTransport net{clock};
  Endpoint alice{"127.0.0.1", 5061, TransactionManager(clock, TimerConfig{}), {}, {}};
  Endpoint bob{"127.0.0.1", 5062, TransactionManager(clock, TimerConfig{}), {}, {}};

  Endpoint& At(const sb::testing::LoopAddress& a) { return a.port == alice.port ? alice : bob; }

  void Carry(Endpoint& from, TransactionOutput out) {
    for (auto& send : out.sends) {
      net.Send({from.host, from.port}, {send.destination.host, send.destination.port},
               std::move(send.bytes));
    }
    for (auto& e : out.events) {
      if (e.kind == TuEvent::Kind::kRequest && !e.key.empty()) {
        for (int code : from.answer(*e.message)) {
          TransactionOutput reply;
          REQUIRE(from.tm.SendResponse(e.key, Response(*e.message, code), reply).ok());
          Carry(from, std::move(reply));
        }
      }
      from.events.push_back(std::move(e));
    }
    for (auto& key : out.ended) from.ended.push_back(std::move(key));
  }

  std::string Invite(Message request) {
    TransactionOutput out;
    auto key = alice.tm.SendRequest(std::move(request), {bob.host, bob.port, Transport::kUdp}, out);
    REQUIRE(key.ok());
    Carry(alice, std::move(out));
    return *key;
  }

  // Delivers what is due, fires due timers, then jumps the clock to the next thing that can
  // happen, until `until` of fake time has passed. Bounded by the number of steps.
  void Run(std::chrono::milliseconds until) {
    auto end = clock.Now() + until;
    for (int step = 0; step < 100000; ++step) {
      for (auto& p : net.TakeDue()) {
        Endpoint& to = At(p.to);
        Carry(to, to.tm.OnReceived(p.bytes, {p.from.host, p.from.port, Transport::kUdp}));
      }
      Carry(alice, alice.tm.OnTimers());
      Carry(bob, bob.tm.OnTimers());
      std::optional<sb::core::Clock::TimePoint> next = net.NextDelivery();
      for (auto d : {alice.tm.NextDeadline(), bob.tm.NextDeadline()}) {
        if (d && (!next || *d < *next)) next = d;
      }
      if (!next || *next > end) break;
      if (*next > clock.Now()) clock.Advance(*next - clock.Now());
    }
    if (clock.Now() < end) clock.Advance(end - clock.Now());
  }

  static size_t Count(const std::vector<TuEvent>& events, TuEvent::Kind kind, int code = 0) {
    size_t n = 0;
    for (const auto& e : events) {
      if (e.kind != kind) continue;
      if (code != 0 && (!e.message || e.message->status_code() != code)) continue;
      ++n;
    }
    return n;
  }
};

}  // namespace

TEST_CASE("a lost INVITE is retransmitted on timer A and the call completes", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{180, 200}; };
  h.net.Drop(LoopTransport::StartsWith("INVITE"), 2);
  std::string key = h.Invite(Request("INVITE"));
  h.Run(seconds(2));
  // Sent at 0, 500 ms and 1500 ms; the third gets through.
  CHECK(h.net.sent() >= 3);
  CHECK(h.net.dropped() == 2);
  CHECK(Harness::Count(h.bob.events, TuEvent::Kind::kRequest) == 1);
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 180) == 1);
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 200) == 1);
  CHECK(h.alice.tm.State(key) == TransactionState::kAccepted);
  CHECK(h.alice.ended.empty());  // Accepted waits for forked 2xx (Timer M)
  h.Run(seconds(32));            // timers L and M end both sides
  CHECK(h.alice.tm.size() == 0);
  CHECK(h.bob.tm.size() == 0);
  // Each ending is reported once, so a TU can drop what it kept without scanning.
  CHECK(h.alice.ended == std::vector<std::string>{key});
  CHECK(h.bob.ended.size() == 1);
}

TEST_CASE("an INVITE nobody answers times out on timer B after 64*T1", "[tx]") {
  Harness h;
  h.net.Drop(LoopTransport::StartsWith("INVITE"), 100);
  std::string key = h.Invite(Request("INVITE"));
  h.Run(milliseconds(31999));
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kTimeout) == 0);
  // 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s: seven transmissions before B.
  CHECK(h.net.sent() == 7);
  h.Run(milliseconds(2));
  REQUIRE(Harness::Count(h.alice.events, TuEvent::Kind::kTimeout) == 1);
  CHECK(h.alice.events.back().timer == TimerId::kB);
  CHECK(h.alice.events.back().key == key);
  CHECK(h.alice.tm.size() == 0);
}

TEST_CASE(
    "unsettled: the transactions still without a final response - answered ones lingering for "
    "retransmissions are not",
    "[tx]") {
  Harness h;
  h.bob.answer = [](const Message& m) {
    return m.method() == sb::sip::Method::kInvite ? std::vector<int>{180} : std::vector<int>{200};
  };
  TransactionOutput out;
  REQUIRE(
      h.alice.tm.SendRequest(Request("OPTIONS"), {"127.0.0.1", 5062, Transport::kUdp}, out).ok());
  h.Carry(h.alice, std::move(out));
  CHECK(h.alice.tm.Unsettled() == 1);  // Trying
  h.Run(milliseconds(100));
  // The OPTIONS answered: both sides keep it (Timer J, Timer K) but neither waits on it.
  CHECK(h.bob.tm.size() == 1);
  CHECK(h.bob.tm.Unsettled() == 0);
  CHECK(h.alice.tm.Unsettled() == 0);
  h.Invite(Request("INVITE"));
  h.Run(milliseconds(100));
  // Ringing: Proceeding on both sides, still to be settled.
  CHECK(h.bob.tm.size() == 2);
  CHECK(h.bob.tm.Unsettled() == 1);
  CHECK(h.alice.tm.Unsettled() == 1);
}

TEST_CASE(
    "timers fire by deadline whatever the order they were armed in - a short one armed after a "
    "long one first",
    "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  // An OPTIONS answered: its server transaction absorbs retransmissions for 32 s (timer J).
  auto options = Request("OPTIONS", "z9hG4bKopt");
  TransactionOutput received = tm.OnReceived(options.Serialize(), {"127.0.0.1", 5061});
  REQUIRE(received.events.size() == 1);
  TransactionOutput answered;
  REQUIRE(tm.SendResponse(received.events[0].key, Response(options, 200), answered).ok());
  // Then an INVITE of ours: timer A (500 ms), sooner than J, and B (32 s), as late as J.
  TransactionOutput sent;
  REQUIRE(tm.SendRequest(Request("INVITE", "z9hG4bKinv"), {"127.0.0.1", 5062}, sent).ok());
  CHECK(tm.NextDeadline() == clock.Now() + milliseconds(500));
  clock.Advance(milliseconds(500));
  TransactionOutput retransmitted = tm.OnTimers();
  CHECK(retransmitted.sends.size() == 1);  // timer A: the INVITE again
  CHECK(retransmitted.ended.empty());
  CHECK(tm.NextDeadline() == clock.Now() + milliseconds(1000));  // A doubled
  clock.Advance(seconds(32));
  TransactionOutput late = tm.OnTimers();
  // J ended the OPTIONS transaction, B the INVITE's.
  CHECK(late.ended.size() == 2);
  CHECK(tm.size() == 0);
  CHECK_FALSE(tm.NextDeadline());
}

TEST_CASE("duplicated requests are absorbed by the server transaction", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{200}; };
  h.net.Duplicate(LoopTransport::StartsWith("OPTIONS"), 1);
  TransactionOutput out;
  REQUIRE(
      h.alice.tm.SendRequest(Request("OPTIONS"), {"127.0.0.1", 5062, Transport::kUdp}, out).ok());
  h.Carry(h.alice, std::move(out));
  h.Run(milliseconds(100));
  CHECK(Harness::Count(h.bob.events, TuEvent::Kind::kRequest) == 1);
  // The duplicate was answered from the transaction with the same 200: alice got two copies
  // and passed one to her TU.
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 200) == 1);
}

TEST_CASE("a stateless challenge (§26.3.2.4) is sent once and keeps no transaction", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  const Destination phone{"127.0.0.9", 40112, Transport::kUdp};
  std::string text = RequestText("REGISTER", "z9hG4bKreg1");
  auto out = tm.OnReceived(text, phone);
  REQUIRE(out.events.size() == 1);
  const std::string key = out.events[0].key;

  TransactionOutput reply;
  REQUIRE(tm.SendStatelessResponse(key, Response(*out.events[0].message, 401), reply).ok());
  REQUIRE(reply.sends.size() == 1);
  CHECK(reply.sends[0].bytes.starts_with("SIP/2.0 401"));
  CHECK(reply.ended == std::vector<std::string>{key});
  CHECK(tm.size() == 0);
  CHECK_FALSE(tm.NextDeadline());

  // Its retransmission is a new request for the TU, which challenges it again.
  auto again = tm.OnReceived(text, phone);
  REQUIRE(again.events.size() == 1);
  CHECK(again.events[0].kind == TuEvent::Kind::kRequest);

  SECTION("an INVITE's final response must be absorbed by its ACK: refused") {
    auto invite = tm.OnReceived(RequestText("INVITE", "z9hG4bKinv1"), phone);
    REQUIRE(invite.events.size() == 1);
    TransactionOutput r;
    CHECK(
        tm.SendStatelessResponse(invite.events[0].key, Response(*invite.events[0].message, 407), r)
            .code() == sb::StatusCode::kFailedPrecondition);
    CHECK(r.sends.empty());
  }
  SECTION("a provisional response is refused") {
    TransactionOutput r;
    CHECK(tm.SendStatelessResponse(again.events[0].key, Response(*again.events[0].message, 100), r)
              .code() == sb::StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("a lost 486 is retransmitted on timer G - the client ACKs each copy", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{486}; };
  h.net.Drop(LoopTransport::StartsWith("SIP/2.0 486"), 1);
  std::string key = h.Invite(Request("INVITE"));
  h.Run(seconds(1));
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 486) == 1);
  CHECK(h.alice.tm.State(key) == TransactionState::kCompleted);
  auto server_key = h.bob.events.at(0).key;
  CHECK(h.bob.tm.State(server_key) == TransactionState::kConfirmed);
  h.Run(seconds(33));  // D (32 s) and I (T4) end both
  CHECK(h.alice.tm.size() == 0);
  CHECK(h.bob.tm.size() == 0);
}

TEST_CASE("a lost ACK: the server retransmits the 486 the client ACKs again from Completed",
          "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{486}; };
  h.net.Drop(LoopTransport::StartsWith("ACK"), 1);
  h.Invite(Request("INVITE"));
  h.Run(seconds(2));
  auto server_key = h.bob.events.at(0).key;
  CHECK(h.bob.tm.State(server_key) == TransactionState::kConfirmed);
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 486) == 1);
}

TEST_CASE("no ACK at all: timer H reports it to the server's TU", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{603}; };
  h.net.Drop(LoopTransport::StartsWith("ACK"), 100);
  h.Invite(Request("INVITE"));
  h.Run(seconds(33));
  REQUIRE(Harness::Count(h.bob.events, TuEvent::Kind::kTimeout) == 1);
  CHECK(h.bob.events.back().timer == TimerId::kH);
}

TEST_CASE("a non-INVITE request without answer times out on timer F", "[tx]") {
  Harness h;  // bob's TU never answers
  TransactionOutput out;
  auto key = h.alice.tm.SendRequest(Request("OPTIONS"), {"127.0.0.1", 5062, Transport::kUdp}, out);
  REQUIRE(key.ok());
  h.Carry(h.alice, std::move(out));
  h.Run(seconds(33));
  REQUIRE(Harness::Count(h.alice.events, TuEvent::Kind::kTimeout) == 1);
  CHECK(h.alice.events.back().timer == TimerId::kF);
  // Bob's transaction waits for its TU; it is his to end (no timer in Trying).
  CHECK(Harness::Count(h.bob.events, TuEvent::Kind::kRequest) == 1);
}

TEST_CASE("a reordered provisional after the final response is absorbed", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{180, 200}; };
  h.net.Reorder(LoopTransport::StartsWith("SIP/2.0 180"), 1);
  h.Invite(Request("INVITE"));
  h.Run(seconds(1));
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 200) == 1);
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 180) == 0);
}

TEST_CASE("a delayed 200 arrives after retransmissions - one response reaches the TU", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message&) { return std::vector<int>{200}; };
  h.net.Delay(LoopTransport::StartsWith("SIP/2.0 200"), milliseconds(1200), 1);
  TransactionOutput out;
  REQUIRE(
      h.alice.tm.SendRequest(Request("OPTIONS"), {"127.0.0.1", 5062, Transport::kUdp}, out).ok());
  h.Carry(h.alice, std::move(out));
  h.Run(seconds(3));
  CHECK(Harness::Count(h.bob.events, TuEvent::Kind::kRequest) == 1);
  CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 200) == 1);
}

TEST_CASE("CANCEL matches its INVITE server transaction (§9.2) - unmatched gets 481", "[tx]") {
  Harness h;
  h.bob.answer = [](const Message& m) {
    if (m.method() == Method::kInvite) return std::vector<int>{180};
    return std::vector<int>{};
  };
  auto invite = Request("INVITE");
  h.Invite(invite.Clone());
  h.Run(milliseconds(10));
  std::string invite_key = h.bob.events.at(0).key;

  TransactionOutput out;
  REQUIRE(
      h.alice.tm.SendRequest(Parse(BuildCancel(invite)), {"127.0.0.1", 5062, Transport::kUdp}, out)
          .ok());
  h.Carry(h.alice, std::move(out));
  h.Run(milliseconds(10));
  REQUIRE(h.bob.events.size() == 2);
  const TuEvent& cancel = h.bob.events[1];
  CHECK(cancel.message->method() == Method::kCancel);
  CHECK(cancel.cancels == invite_key);
  CHECK(cancel.key != invite_key);

  SECTION("a CANCEL for an unknown INVITE is answered 481 without the TU") {
    TransactionOutput stray;
    REQUIRE(h.alice.tm
                .SendRequest(Parse(BuildCancel(Request("INVITE", "z9hG4bKunknown"))),
                             {"127.0.0.1", 5062, Transport::kUdp}, stray)
                .ok());
    h.Carry(h.alice, std::move(stray));
    h.Run(milliseconds(10));
    CHECK(h.bob.events.size() == 2);
    CHECK(Harness::Count(h.alice.events, TuEvent::Kind::kResponse, 481) == 1);
  }
}

TEST_CASE("RFC 3581: rport and received are filled from the source - responses go there", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  // The client sits behind a NAT: its Via says 10.0.0.7:5060, we see 127.0.0.9:40112.
  std::string text = RequestText("OPTIONS", "z9hG4bKnat1", 1, "10.0.0.7:5060", ";rport");
  auto out = tm.OnReceived(text, {"127.0.0.9", 40112, Transport::kUdp});
  REQUIRE(out.events.size() == 1);
  const Message& req = *out.events[0].message;
  auto via = req.TopVia();
  REQUIRE(via.ok());
  CHECK((*via)->rport() == "40112");
  CHECK((*via)->received() == "127.0.0.9");
  CHECK((*via)->branch() == "z9hG4bKnat1");

  TransactionOutput reply;
  REQUIRE(tm.SendResponse(out.events[0].key, Response(req, 200), reply).ok());
  REQUIRE(reply.sends.size() == 1);
  CHECK(reply.sends[0].destination == Destination{"127.0.0.9", 40112, Transport::kUdp});
  CHECK(reply.sends[0].bytes.find(";rport=40112;received=127.0.0.9") != std::string::npos);

  SECTION("without rport: received only, response to the Via port (§18.2.2)") {
    std::string plain = RequestText("OPTIONS", "z9hG4bKnat2", 1, "10.0.0.7:5070");
    auto o = tm.OnReceived(plain, {"127.0.0.9", 40112, Transport::kUdp});
    REQUIRE(o.events.size() == 1);
    CHECK((*o.events[0].message->TopVia())->received() == "127.0.0.9");
    CHECK_FALSE((*o.events[0].message->TopVia())->rport());
    TransactionOutput r;
    REQUIRE(tm.SendResponse(o.events[0].key, Response(*o.events[0].message, 200), r).ok());
    CHECK(r.sends.at(0).destination == Destination{"127.0.0.9", 5070, Transport::kUdp});
  }
  SECTION("only the top element is stamped: the rest of its line, folding and body stay") {
    std::string two =
        "MESSAGE sip:bob@example.com SIP/2.0\r\n"
        "v: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKnat4;rport,\r\n"
        " SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKup\r\n"
        "Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\n"
        "From: <sip:alice@example.com>;tag=a\r\nCall-ID: nat4@x\r\nCSeq: 1 MESSAGE\r\n"
        "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    auto o = tm.OnReceived(two, {"127.0.0.9", 40112, Transport::kUdp});
    REQUIRE(o.events.size() == 1);
    const Message& m = *o.events[0].message;
    std::vector<std::string_view> values;
    for (std::string_view via : m.Values(HeaderId::kVia)) values.push_back(via);
    REQUIRE(values.size() == 2);
    CHECK(values[0] ==
          "SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKnat4;rport=40112;received=127.0.0.9");
    CHECK(values[1] == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKup");
    CHECK(m.body() == "hello");
    CHECK(m.Header(HeaderId::kCallId) == "nat4@x");
  }
  SECTION("over TCP the response goes back on the connection") {
    std::string tcp = RequestText("OPTIONS", "z9hG4bKnat3", 1, "10.0.0.7:5070");
    auto o = tm.OnReceived(tcp, {"127.0.0.9", 40999, Transport::kTcp});
    REQUIRE(o.events.size() == 1);
    TransactionOutput r;
    REQUIRE(tm.SendResponse(o.events[0].key, Response(*o.events[0].message, 200), r).ok());
    CHECK(r.sends.at(0).destination == Destination{"127.0.0.9", 40999, Transport::kTcp});
  }
}

TEST_CASE("RFC 2543 requests (no magic cookie) match their retransmissions and ACK", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  Destination from{"127.0.0.1", 5061, Transport::kUdp};
  std::string invite = RequestText("INVITE", "oldbranch1");
  auto first = tm.OnReceived(invite, from);
  REQUIRE(first.events.size() == 1);
  auto key = first.events[0].key;
  CHECK(key.rfind("s2543|", 0) == 0);
  auto again = tm.OnReceived(invite, from);
  CHECK(again.events.empty());
  REQUIRE(again.sends.size() == 1);  // the 100 Trying again
  TransactionOutput reply;
  REQUIRE(tm.SendResponse(key, Response(*first.events[0].message, 404), reply).ok());
  std::string ack = RequestText("ACK", "oldbranch1");
  auto acked = tm.OnReceived(ack, from);
  CHECK(acked.events.empty());
  CHECK(tm.State(key) == TransactionState::kConfirmed);
}

TEST_CASE("an ACK for a 2xx has no transaction and goes to the TU", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  auto out = tm.OnReceived(RequestText("ACK", "z9hG4bKack2xx"), {"127.0.0.1", 5061});
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].kind == TuEvent::Kind::kRequest);
  CHECK(out.events[0].key.empty());
  CHECK(tm.size() == 0);
}

TEST_CASE("a 2xx to an INVITE whose transaction ended reaches the TU as stray", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  auto invite = Request("INVITE");
  auto out = tm.OnReceived(Response(invite, 200).Serialize(), {"127.0.0.1", 5062});
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].kind == TuEvent::Kind::kStray2xx);
  // Other stray responses are dropped (§18.1.2).
  CHECK(tm.OnReceived(Response(invite, 180).Serialize(), {"127.0.0.1", 5062}).events.empty());
}

TEST_CASE("garbage is answered per the parse error or dropped - nothing is created", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  Destination from{"127.0.0.1", 5061, Transport::kUdp};
  CHECK(tm.OnReceived("", from).events.empty());
  CHECK(tm.OnReceived("\x01\x02garbage", from).events.empty());
  // A request missing its Call-ID is answered 400 by the message layer's response.
  std::string no_call_id = RequestText("OPTIONS", "z9hG4bKbad");
  no_call_id.erase(no_call_id.find("Call-ID"),
                   no_call_id.find("CSeq") - no_call_id.find("Call-ID"));
  auto out = tm.OnReceived(no_call_id, from);
  CHECK(out.events.empty());
  REQUIRE(out.sends.size() == 1);
  CHECK(out.sends[0].bytes.rfind("SIP/2.0 400", 0) == 0);
  CHECK(tm.size() == 0);
}

TEST_CASE("SendRequest refuses requests without an RFC 3261 branch and duplicates", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  TransactionOutput out;
  auto no_cookie = tm.SendRequest(Request("OPTIONS", "abc"), {"127.0.0.1", 5062}, out);
  CHECK(no_cookie.status().code() == sb::StatusCode::kInvalidArgument);
  REQUIRE(tm.SendRequest(Request("OPTIONS"), {"127.0.0.1", 5062}, out).ok());
  CHECK(tm.SendRequest(Request("OPTIONS"), {"127.0.0.1", 5062}, out).status().code() ==
        sb::StatusCode::kAlreadyExists);
  CHECK(tm.SendResponse("nope", Response(Request("OPTIONS"), 200), out).code() ==
        sb::StatusCode::kNotFound);
}

TEST_CASE("beyond the transaction limit new requests get 503 and no state", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{}, 2);
  Destination from{"127.0.0.1", 5061, Transport::kUdp};
  CHECK(tm.OnReceived(RequestText("OPTIONS", "z9hG4bKa"), from).events.size() == 1);
  CHECK(tm.OnReceived(RequestText("OPTIONS", "z9hG4bKb"), from).events.size() == 1);
  auto third = tm.OnReceived(RequestText("OPTIONS", "z9hG4bKc"), from);
  CHECK(third.events.empty());
  REQUIRE(third.sends.size() == 1);
  CHECK(third.sends[0].bytes.rfind("SIP/2.0 503", 0) == 0);
  CHECK(third.refused_full);
  CHECK(tm.size() == 2);
  // Retransmissions of existing transactions are still absorbed.
  CHECK(tm.OnReceived(RequestText("OPTIONS", "z9hG4bKa"), from).events.empty());
  TransactionOutput out;
  CHECK(
      tm.SendRequest(Request("OPTIONS", "z9hG4bKmine"), {"127.0.0.1", 5062}, out).status().code() ==
      sb::StatusCode::kResourceExhausted);
}

TEST_CASE(
    "with more than a quarter of the transaction limit live, an answered non-INVITE request is "
    "held T4 rather than 64*T1 - a steady load of answered requests does not fill the table",
    "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{}, 8);
  Destination from{"127.0.0.1", 5061, Transport::kUdp};
  std::vector<std::string> keys;
  for (const char* branch : {"z9hG4bKa", "z9hG4bKb", "z9hG4bKc", "z9hG4bKd"}) {
    auto in = tm.OnReceived(RequestText("OPTIONS", branch), from);
    REQUIRE(in.events.size() == 1);
    keys.push_back(in.events[0].key);
    TransactionOutput out;
    REQUIRE(tm.SendResponse(keys.back(), Response(*in.events[0].message, 200), out).ok());
  }
  // a and b answered with 1 and 2 of the 8 live: held 64*T1; c and d with 3 and 4: T4.
  clock.Advance(seconds(5));
  (void)tm.OnTimers();
  CHECK(tm.State(keys[0]).has_value());
  CHECK(tm.State(keys[1]).has_value());
  CHECK_FALSE(tm.State(keys[2]).has_value());
  CHECK_FALSE(tm.State(keys[3]).has_value());
  // b still answers a retransmission of its request from the transaction.
  auto again = tm.OnReceived(RequestText("OPTIONS", "z9hG4bKb"), from);
  CHECK(again.events.empty());
  REQUIRE(again.sends.size() == 1);
  CHECK(again.sends[0].bytes.rfind("SIP/2.0 200", 0) == 0);
  clock.Advance(seconds(27));
  (void)tm.OnTimers();
  CHECK(tm.size() == 0);
}

TEST_CASE("NextDeadline skips stopped timers and follows the earliest live one", "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  TransactionOutput out;
  auto invite = Request("INVITE");
  REQUIRE(tm.SendRequest(invite.Clone(), {"127.0.0.1", 5062}, out).ok());
  CHECK(tm.NextDeadline() == clock.Now() + milliseconds(500));  // timer A
  // A 180 stops A and B: nothing left to wait for.
  (void)tm.OnReceived(Response(invite, 180).Serialize(), {"127.0.0.1", 5062});
  CHECK_FALSE(tm.NextDeadline());
  (void)tm.OnReceived(Response(invite, 486).Serialize(), {"127.0.0.1", 5062});
  CHECK(tm.NextDeadline() == clock.Now() + seconds(32));  // timer D
}

TEST_CASE("a send failure ends a client transaction with a transport-error event (17.1.4)",
          "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  TransactionOutput out;
  auto key = tm.SendRequest(Request("INVITE"), {"127.0.0.1", 5062, Transport::kTcp}, out);
  REQUIRE(key.ok());
  CHECK(out.sends.size() == 1);
  // The service's send of those bytes failed (connection refused).
  auto failed = tm.OnTransportError(*key);
  REQUIRE(failed.events.size() == 1);
  CHECK(failed.events[0].kind == TuEvent::Kind::kTimeout);
  CHECK(failed.events[0].transport_error);
  CHECK(failed.events[0].key == *key);
  CHECK(failed.events[0].peer.port == 5062);
  CHECK(failed.ended == std::vector<std::string>{*key});
  CHECK(failed.sends.empty());
  CHECK(tm.size() == 0);
  CHECK_FALSE(tm.State(*key));
  // Its timers are gone with it: nothing fires, not even B at 32 s.
  clock.Advance(seconds(40));
  auto later = tm.OnTimers();
  CHECK(later.events.empty());
  CHECK(later.sends.empty());
  CHECK(tm.OnTransportError(*key).events.empty());  // unknown key: nothing
}

TEST_CASE("a send failure ends a server transaction with a transport-error event (17.2.4)",
          "[tx]") {
  sb::core::FakeClock clock;
  TransactionManager tm(clock, TimerConfig{});
  Message invite = Request("INVITE");
  auto in = tm.OnReceived(invite.raw(), {"127.0.0.1", 5061, Transport::kUdp});
  REQUIRE(in.events.size() == 1);
  std::string key = in.events[0].key;
  TransactionOutput reply;
  REQUIRE(tm.SendResponse(key, Response(invite, 486), reply).ok());
  auto failed = tm.OnTransportError(key);
  REQUIRE(failed.events.size() == 1);
  CHECK(failed.events[0].transport_error);
  CHECK(failed.events[0].key == key);
  CHECK(tm.size() == 0);
  clock.Advance(seconds(40));  // no timer G retransmission of the 486, no timer H
  auto later = tm.OnTimers();
  CHECK(later.sends.empty());
  CHECK(later.events.empty());
}

TEST_CASE("timer C through the manager: a TimedOut C event and the transaction lives on", "[tx]") {
  sb::core::FakeClock clock;
  TimerConfig timers;
  timers.timer_c = kMinTimerC;
  TransactionManager tm(clock, timers);
  TransactionOutput out;
  Message invite = Request("INVITE");
  auto key = tm.SendRequest(invite.Clone(), {"127.0.0.1", 5062, Transport::kTcp}, out);
  REQUIRE(key.ok());
  auto ringing = tm.OnReceived(Response(invite, 180).raw(), {"127.0.0.1", 5062, Transport::kTcp});
  REQUIRE(ringing.events.size() == 1);
  clock.Advance(kMinTimerC - milliseconds(1));
  CHECK(tm.OnTimers().events.empty());
  clock.Advance(milliseconds(1));
  auto fired = tm.OnTimers();
  REQUIRE(fired.events.size() == 1);
  CHECK(fired.events[0].kind == TuEvent::Kind::kTimeout);
  CHECK(fired.events[0].timer == TimerId::kC);
  CHECK_FALSE(fired.events[0].transport_error);
  CHECK(tm.State(*key) == TransactionState::kProceeding);
}

TEST_CASE(
    "§18.2.2 - a stream response whose connection closed goes to the Via's received address and "
    "sent-by port - 5060 without a port - the sent-by host without received",
    "[tx]") {
  auto response = [](std::string_view via) {
    auto m = Message::Parse(std::string("SIP/2.0 200 OK\r\nVia: ") + std::string(via) +
                            "\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\n"
                            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(m.ok());
    return std::move(*m);
  };
  CHECK(
      ReconnectDestination(
          response("SIP/2.0/TCP phone.invalid:5070;branch=z9hG4bK1;received=192.0.2.7;rport=40111"),
          Transport::kTcp) == Destination{"192.0.2.7", 5070, Transport::kTcp});
  CHECK(ReconnectDestination(response("SIP/2.0/TCP 192.0.2.8;branch=z9hG4bK2"), Transport::kTcp) ==
        Destination{"192.0.2.8", 5060, Transport::kTcp});
}
