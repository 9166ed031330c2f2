// A whole call between two user agents built from the stack's layers (transactions, dialogs, the
// UAS core's 2xx retransmission) over a LoopTransport that loses messages, on a FakeClock:
// INVITE / 180 / 200 / ACK / BYE / 200 as in RFC 3665 §3.1, with the 200 and the ACK lost.
#include <catch2/catch.hpp>

#include "switchboard/core/clock.h"
#include "switchboard/sip/dialog_set.h"
#include "switchboard/sip/invite_2xx.h"
#include "switchboard/sip/transaction_manager.h"
#include "switchboard/testing/loop_transport.h"

using namespace sb::sip;
using sb::testing::LoopTransport;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

Message Parse(std::string_view text) {
  auto m = Message::Parse(text);
  if (!m.ok()) FAIL("does not parse: " << m.error().ToString() << "\n" << text);
  return std::move(*m);
}

struct Ua {
  Ua(std::string n, uint16_t p, const sb::core::Clock& clock)
      : name(std::move(n)), port(p), tm(clock, TimerConfig{}), retransmit(clock, TimerConfig{}) {}
  std::string name;
  uint16_t port;
  TransactionManager tm;
  Invite2xxRetransmitter retransmit;
  DialogSet dialogs;
  int branches = 0;
  std::vector<int> responses_seen;  // status codes the TU got
  int acks_sent = 0;
  int acks_received = 0;
  std::vector<DialogId> gave_up;
  std::optional<Message> invite;  // the UAC's INVITE

  std::string Via() {
    return "SIP/2.0/UDP 127.0.0.1:" + std::to_string(port) + ";branch=z9hG4bK" + name +
           std::to_string(++branches);
  }
  Destination Peer(uint16_t peer_port) { return {"127.0.0.1", peer_port, Transport::kUdp}; }
};

struct Call {
  sb::core::FakeClock clock;
  LoopTransport net{clock};
  Ua alice{"alice", 5061, clock};
  Ua bob{"bob", 5062, clock};

  void Send(Ua& from, std::vector<action::Send> sends) {
    for (auto& s : sends) {
      net.Send({"127.0.0.1", from.port}, {s.destination.host, s.destination.port},
               std::move(s.bytes));
    }
  }

  // Bob's TU: rings, answers 200 with a dialog; answers BYE with 200.
  void BobHandles(TuEvent& e) {
    Ua& b = bob;
    const Message& m = *e.message;
    if (e.kind != TuEvent::Kind::kRequest) return;
    if (m.method() == Method::kAck) {
      ++b.acks_received;
      b.retransmit.OnAck(m);
      if (Dialog* d = b.dialogs.Match(m)) (void)d->OnRequest(m);
      return;
    }
    TransactionOutput out;
    if (m.method() == Method::kInvite) {
      auto ringing = MakeResponse(m, 180, {}, "bob-tag").BuildMessage();
      REQUIRE(b.tm.SendResponse(e.key, *ringing, out).ok());
      auto ok_builder = MakeResponse(m, 200, {}, "bob-tag");
      ok_builder.AddHeader("Contact", "<sip:bob@127.0.0.1:5062>");
      auto ok = ok_builder.BuildMessage();
      REQUIRE(b.dialogs.AddUas(m, "bob-tag", 200, "sip:bob@127.0.0.1:5062", 4000).ok());
      REQUIRE(b.tm.SendResponse(e.key, *ok, out).ok());
      // The transaction sent the 2xx once; the UAS core owns its retransmissions.
      auto first = b.retransmit.Start(*ok, ResponseDestination(m, e.peer));
      REQUIRE(first.ok());
    } else if (m.method() == Method::kBye) {
      Dialog* d = b.dialogs.Match(m);
      int code = 481;
      if (d != nullptr) {
        auto check = d->OnRequest(m);
        code = check.reject_code != 0 ? check.reject_code : 200;
        if (code == 200) d->Terminate();
      }
      REQUIRE(b.tm.SendResponse(e.key, *MakeResponse(m, code).BuildMessage(), out).ok());
    }
    Send(b, std::move(out.sends));
  }

  // Alice's TU: for every 2xx to the INVITE (first or retransmitted, RFC 6026 passes them all)
  // she sends the ACK of §13.2.2.4.
  void AliceHandles(TuEvent& e) {
    Ua& a = alice;
    if (e.kind != TuEvent::Kind::kResponse && e.kind != TuEvent::Kind::kStray2xx) return;
    const Message& m = *e.message;
    a.responses_seen.push_back(m.status_code());
    auto cseq = m.GetCSeq();
    if ((*cseq)->method != "INVITE") return;
    auto id = a.dialogs.OnUacResponse(*a.invite, m);
    if (m.status_code() >= 200 && m.status_code() < 300) {
      REQUIRE(id);
      auto ack = a.dialogs.Find(*id)->MakeAck((*cseq)->number, a.Via());
      REQUIRE(ack.ok());
      TransactionOutput out;
      auto built = ack->BuildMessage();
      REQUIRE(built.ok());
      REQUIRE(a.tm.SendRequest(std::move(*built), a.Peer(bob.port), out).ok());
      ++a.acks_sent;
      Send(a, std::move(out.sends));
    }
  }

  void Deliver(Ua& to, TransactionOutput out) {
    Send(to, std::move(out.sends));
    for (auto& e : out.events) {
      if (&to == &bob) BobHandles(e);
      if (&to == &alice) AliceHandles(e);
    }
  }

  void Run(milliseconds until) {
    auto end = clock.Now() + until;
    for (int step = 0; step < 100000; ++step) {
      for (auto& p : net.TakeDue()) {
        Ua& to = p.to.port == alice.port ? alice : bob;
        Deliver(to, to.tm.OnReceived(p.bytes, {p.from.host, p.from.port, Transport::kUdp}));
      }
      for (Ua* ua : {&alice, &bob}) {
        Deliver(*ua, ua->tm.OnTimers());
        auto r = ua->retransmit.OnTimers();
        Send(*ua, std::move(r.sends));
        for (auto& id : r.gave_up) ua->gave_up.push_back(id);
      }
      std::optional<sb::core::Clock::TimePoint> next = net.NextDelivery();
      for (auto d : {alice.tm.NextDeadline(), bob.tm.NextDeadline(),
                     alice.retransmit.NextDeadline(), bob.retransmit.NextDeadline()}) {
        if (d && (!next || *d < *next)) next = d;
      }
      if (!next || *next > end) break;
      if (*next > clock.Now()) clock.Advance(*next - clock.Now());
    }
    if (clock.Now() < end) clock.Advance(end - clock.Now());
  }

  void Invite() {
    std::string text =
        "INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
        "Via: " +
        alice.Via() +
        "\r\n"
        "Max-Forwards: 70\r\n"
        "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n"
        "To: Bob <sip:bob@127.0.0.1>\r\n"
        "Call-ID: call-1@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@127.0.0.1:5061>\r\n"
        "Content-Length: 0\r\n\r\n";
    alice.invite = Parse(text);
    TransactionOutput out;
    REQUIRE(alice.tm.SendRequest(Parse(text), alice.Peer(bob.port), out).ok());
    Send(alice, std::move(out.sends));
  }

  void Bye() {
    auto id = alice.dialogs.Forks("call-1@127.0.0.1", "alice-tag");
    REQUIRE(id.size() == 1);
    auto bye = alice.dialogs.Find(id[0])->MakeRequest("BYE", alice.Via());
    REQUIRE(bye.ok());
    TransactionOutput out;
    auto built = bye->BuildMessage();
    REQUIRE(built.ok());
    REQUIRE(alice.tm.SendRequest(std::move(*built), alice.Peer(bob.port), out).ok());
    Send(alice, std::move(out.sends));
  }
};

}  // namespace

TEST_CASE("a call completes although the first 200 and the first ACK are lost", "[dialog]") {
  Call call;
  call.net.Drop(LoopTransport::StartsWith("SIP/2.0 200"), 1);
  call.net.Drop(LoopTransport::StartsWith("ACK"), 1);
  call.Invite();
  call.Run(seconds(5));

  // Bob sent the 200 at 0 (lost), 500 ms (ACK lost), 1500 ms (ACKed).
  CHECK(call.alice.acks_sent == 2);
  CHECK(call.bob.acks_received == 1);
  CHECK(call.bob.retransmit.size() == 0);
  CHECK(call.bob.gave_up.empty());
  auto forks = call.alice.dialogs.Forks("call-1@127.0.0.1", "alice-tag");
  REQUIRE(forks.size() == 1);
  const Dialog* a = call.alice.dialogs.Find(forks[0]);
  CHECK(a->state() == DialogState::kConfirmed);
  CHECK(a->remote_target() == "sip:bob@127.0.0.1:5062");

  call.Bye();
  call.Run(seconds(1));
  CHECK(call.alice.responses_seen.back() == 200);
  DialogId bob_side{"call-1@127.0.0.1", "bob-tag", "alice-tag"};
  CHECK(call.bob.dialogs.Find(bob_side)->state() == DialogState::kTerminated);
  CHECK(call.bob.dialogs.Find(bob_side)->remote_cseq() == 2u);

  call.Run(seconds(40));  // every transaction timer runs out
  CHECK(call.alice.tm.size() == 0);
  CHECK(call.bob.tm.size() == 0);
}

TEST_CASE("a 200 never ACKed is retransmitted up to T2 and given up after 64*T1", "[dialog]") {
  Call call;
  call.net.Drop(LoopTransport::StartsWith("ACK"), 1000);
  call.Invite();
  call.Run(seconds(31));
  CHECK(call.bob.gave_up.empty());
  call.Run(seconds(2));
  REQUIRE(call.bob.gave_up.size() == 1);
  CHECK(call.bob.gave_up[0] == DialogId{"call-1@127.0.0.1", "bob-tag", "alice-tag"});
  // 200s sent at 0, .5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5 s: 11 in all, each
  // reaching Alice and each ACKed by her TU.
  CHECK(call.alice.acks_sent == 11);
}

TEST_CASE("the retransmitter refuses what is not a 2xx to an INVITE", "[dialog]") {
  sb::core::FakeClock clock;
  Invite2xxRetransmitter r(clock, TimerConfig{});
  auto ringing = Parse(
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
      "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n");
  CHECK_FALSE(r.Start(ringing, {"127.0.0.1", 5061, Transport::kUdp}).ok());
  auto bye_ok = Parse(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
      "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n"
      "Content-Length: 0\r\n\r\n");
  CHECK_FALSE(r.Start(bye_ok, {"127.0.0.1", 5061, Transport::kUdp}).ok());
  CHECK(r.size() == 0);
}
