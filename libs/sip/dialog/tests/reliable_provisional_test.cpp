// RFC 3262 reliable provisional responses: the UAS core's retransmission and PRACK matching on a
// FakeClock, the UAC's choice of which 1xx to PRACK, the PRACK built by the dialog, and a whole
// INVITE / reliable 183 (lost once) / PRACK / 200 / 200 / ACK exchange over a LoopTransport.
#include "switchboard/sip/reliable_provisional.h"

#include <catch2/catch.hpp>

#include "switchboard/core/clock.h"
#include "switchboard/sip/dialog_set.h"
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

constexpr std::string_view kSdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

std::string InviteText(std::string_view extension_header) {
  return "INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKinv1\r\n"
         "Max-Forwards: 70\r\n"
         "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n"
         "To: Bob <sip:bob@127.0.0.1>\r\n"
         "Call-ID: rel-1@127.0.0.1\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: <sip:alice@127.0.0.1:5061>\r\n" +
         std::string(extension_header) + "Content-Length: 0\r\n\r\n";
}

const Destination kAlice{"127.0.0.1", 5061, Transport::kUdp};
const DialogId kBobSide{"rel-1@127.0.0.1", "bob-tag", "alice-tag"};

MessageBuilder Progress(const Message& invite, bool with_sdp) {
  auto b = MakeResponse(invite, 183, {}, "bob-tag");
  b.AddHeader("Contact", "<sip:bob@127.0.0.1:5062>");
  if (with_sdp) b.SetBody(kSdp, "application/sdp");
  return b;
}

std::string PrackText(std::string_view rack) {
  return "PRACK sip:bob@127.0.0.1:5062 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKpr1\r\n"
         "Max-Forwards: 70\r\n"
         "From: Alice <sip:alice@127.0.0.1>;tag=alice-tag\r\n"
         "To: Bob <sip:bob@127.0.0.1>;tag=bob-tag\r\n"
         "Call-ID: rel-1@127.0.0.1\r\n"
         "CSeq: 2 PRACK\r\n" +
         (rack.empty() ? std::string() : "RAck: " + std::string(rack) + "\r\n") +
         "Content-Length: 0\r\n\r\n";
}

uint32_t Fixed() { return 4242; }

Message Built(const MessageBuilder& b) {
  auto m = b.BuildMessage();
  if (!m.ok()) FAIL("does not parse: " << m.error().ToString() << "\n" << b.Build());
  return std::move(*m);
}

}  // namespace

TEST_CASE("Supported and Require name the 100rel wish of a request", "[100rel]") {
  CHECK(Rel100Of(Parse(InviteText(""))) == Rel100::kNone);
  CHECK(Rel100Of(Parse(InviteText("Supported: timer, 100rel\r\n"))) == Rel100::kSupported);
  CHECK(Rel100Of(Parse(InviteText("k: 100REL\r\n"))) == Rel100::kSupported);
  CHECK(Rel100Of(Parse(InviteText("Supported: 100rel\r\nRequire: 100rel\r\n"))) ==
        Rel100::kRequired);
  // A UAS without 100rel answers Require: 100rel with 420 (RFC 3261 §8.2.2.3).
  auto invite = Parse(InviteText("Require: 100rel\r\n"));
  auto refused = CheckRequire(invite, {"timer"});
  REQUIRE(refused);
  CHECK(refused->status_code == 420);
  CHECK_FALSE(CheckRequire(invite, {kOption100rel}));
}

TEST_CASE(
    "a reliable 1xx gets Require and a first RSeq and is resent at T1 doubling until its PRACK",
    "[100rel]") {
  sb::core::FakeClock clock;
  ReliableProvisionalSender rel(clock, TimerConfig{}, Fixed);
  auto invite = Parse(InviteText("Supported: 100rel\r\n"));
  auto reliable = rel.Prepare(Progress(invite, false), kAlice);
  REQUIRE(reliable.ok());
  CHECK(IsReliableProvisional(*reliable));
  CHECK(reliable->RSeq()->value() == 4243u);  // 1 + 4242 % (2**31 - 1)
  CHECK(reliable->HasToken(HeaderId::kRequire, "100rel"));
  CHECK(rel.unacknowledged() == 1);

  CHECK(rel.NextDeadline() == clock.Now() + milliseconds(500));
  clock.Advance(milliseconds(499));
  CHECK(rel.OnTimers().sends.empty());
  clock.Advance(milliseconds(1));
  auto first = rel.OnTimers();
  REQUIRE(first.sends.size() == 1);
  CHECK(first.sends[0].bytes == reliable->Serialize());
  CHECK(first.sends[0].destination == kAlice);
  clock.Advance(milliseconds(999));  // the next one is 1 s later, at 1.5 s
  CHECK(rel.OnTimers().sends.empty());
  clock.Advance(milliseconds(1));
  CHECK(rel.OnTimers().sends.size() == 1);

  auto answer = rel.OnPrack(Parse(PrackText("4243 1 INVITE")));
  CHECK(answer.status_code == 200);
  CHECK(answer.dialog == kBobSide);
  CHECK(answer.rseq == 4243u);
  CHECK(rel.unacknowledged() == 0);
  CHECK_FALSE(rel.NextDeadline());
  clock.Advance(seconds(60));
  auto later = rel.OnTimers();
  CHECK(later.sends.empty());
  CHECK(later.gave_up.empty());
  // The same PRACK again matches nothing unacknowledged: 481 (RFC 3262 §3).
  CHECK(rel.OnPrack(Parse(PrackText("4243 1 INVITE"))).status_code == 481);
}

TEST_CASE("without a PRACK the 1xx is sent 7 times and given up at 64*T1", "[100rel]") {
  sb::core::FakeClock clock;
  ReliableProvisionalSender rel(clock, TimerConfig{}, Fixed);
  auto invite = Parse(InviteText("Require: 100rel\r\n"));
  REQUIRE(rel.Prepare(Progress(invite, true), kAlice).ok());
  size_t sends = 1;  // the first copy, sent by the TU through the transaction
  std::vector<ReliableProvisionalSender::GaveUp> gave_up;
  for (int step = 0; step < 100; ++step) {
    auto next = rel.NextDeadline();
    if (!next) break;
    clock.Advance(*next - clock.Now());
    auto out = rel.OnTimers();
    sends += out.sends.size();
    for (auto& g : out.gave_up) gave_up.push_back(g);
  }
  // Sent at 0, .5, 1.5, 3.5, 7.5, 15.5 and 31.5 s; given up at 32 s.
  CHECK(sends == 7);
  REQUIRE(gave_up.size() == 1);
  CHECK(gave_up[0].dialog == kBobSide);
  CHECK(gave_up[0].invite_cseq == 1u);
  CHECK(gave_up[0].rseq == 4243u);
  CHECK(clock.Now().time_since_epoch() >= seconds(32));
  CHECK(rel.unacknowledged() == 0);
}

TEST_CASE("one unacknowledged reliable 1xx at a time and RSeq counts up by one", "[100rel]") {
  sb::core::FakeClock clock;
  ReliableProvisionalSender rel(clock, TimerConfig{}, Fixed);
  auto invite = Parse(InviteText("Supported: 100rel\r\n"));
  REQUIRE(rel.Prepare(Progress(invite, true), kAlice).ok());
  auto second = rel.Prepare(MakeResponse(invite, 180, {}, "bob-tag"), kAlice);
  CHECK(second.status().code() == sb::StatusCode::kFailedPrecondition);
  // An offer in the unacknowledged 1xx holds the 2xx back (RFC 3262 §3).
  CHECK(rel.Blocks2xx(kBobSide, 1));
  auto answer = rel.OnPrack(Parse(PrackText("4243 1 INVITE")));
  CHECK(answer.status_code == 200);
  CHECK(answer.had_body);
  CHECK_FALSE(rel.Blocks2xx(kBobSide, 1));
  auto third = rel.Prepare(MakeResponse(invite, 180, {}, "bob-tag"), kAlice);
  REQUIRE(third.ok());
  CHECK(third->RSeq()->value() == 4244u);
  CHECK_FALSE(rel.Blocks2xx(kBobSide, 1));  // no body in this one
  rel.Finish(kBobSide, 1);
  CHECK(rel.unacknowledged() == 0);
  CHECK(rel.OnPrack(Parse(PrackText("4244 1 INVITE"))).status_code == 481);
}

TEST_CASE("PRACKs that do not match get 481 and one without RAck 400", "[100rel]") {
  sb::core::FakeClock clock;
  ReliableProvisionalSender rel(clock, TimerConfig{}, Fixed);
  auto invite = Parse(InviteText("Supported: 100rel\r\n"));
  REQUIRE(rel.Prepare(Progress(invite, false), kAlice).ok());
  CHECK(rel.OnPrack(Parse(PrackText("4244 1 INVITE"))).status_code == 481);  // wrong RSeq
  CHECK(rel.OnPrack(Parse(PrackText("4243 2 INVITE"))).status_code == 481);  // wrong CSeq
  CHECK(rel.OnPrack(Parse(PrackText("4243 1 UPDATE"))).status_code == 481);  // wrong method
  std::string other_dialog = PrackText("4243 1 INVITE");
  other_dialog.replace(other_dialog.find("bob-tag"), 7, "eve-tag");
  CHECK(rel.OnPrack(Parse(other_dialog)).status_code == 481);
  auto missing = rel.OnPrack(Parse(PrackText("")));
  CHECK(missing.status_code == 400);
  CHECK(missing.reason == "Missing RAck");
  CHECK(rel.OnPrack(Parse(PrackText("x 1 INVITE"))).status_code == 400);
  CHECK(rel.unacknowledged() == 1);  // none of them acknowledged it
  CHECK(rel.OnPrack(Parse(PrackText("4243 1 INVITE"))).status_code == 200);
}

TEST_CASE("what cannot be sent reliably is refused", "[100rel]") {
  sb::core::FakeClock clock;
  ReliableProvisionalSender rel(clock, TimerConfig{}, Fixed);
  auto invite = Parse(InviteText("Supported: 100rel\r\n"));
  CHECK_FALSE(rel.Prepare(MakeResponse(invite, 100), kAlice).ok());
  CHECK_FALSE(rel.Prepare(MakeResponse(invite, 200, {}, "bob-tag"), kAlice).ok());
  CHECK_FALSE(rel.Prepare(MakeResponse(invite, 180), kAlice).ok());  // no To tag
  auto options = Parse(
      "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK7\r\n"
      "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\r\n");
  CHECK_FALSE(rel.Prepare(MakeResponse(options, 183, {}, "t"), kAlice).ok());
  CHECK(rel.unacknowledged() == 0);
}

TEST_CASE("the UAC PRACKs reliable 1xx in RSeq order and discards the rest", "[100rel]") {
  auto invite = Parse(InviteText("Supported: 100rel\r\n"));
  auto with_rseq = [&](int code, std::string_view rseq, std::string_view tag) {
    auto b = MakeResponse(invite, code, {}, tag);
    if (!rseq.empty()) {
      b.AddHeader("Require", "100rel");
      b.AddHeader("RSeq", rseq);
    }
    return Parse(b.Build());
  };
  PrackTracker tracker;
  CHECK(tracker.OnProvisional(with_rseq(180, "", "bob-tag")) ==
        PrackTracker::Verdict::kNotReliable);
  CHECK(tracker.OnProvisional(with_rseq(183, "10", "bob-tag")) == PrackTracker::Verdict::kPrack);
  CHECK(tracker.OnProvisional(with_rseq(183, "10", "bob-tag")) ==
        PrackTracker::Verdict::kDiscard);  // a retransmission
  CHECK(tracker.OnProvisional(with_rseq(180, "12", "bob-tag")) ==
        PrackTracker::Verdict::kDiscard);  // 11 is missing
  CHECK(tracker.OnProvisional(with_rseq(180, "11", "bob-tag")) == PrackTracker::Verdict::kPrack);
  // Another fork is another early dialog with its own RSeq space.
  CHECK(tracker.OnProvisional(with_rseq(183, "500", "carol-tag")) == PrackTracker::Verdict::kPrack);
  auto bad = MakeResponse(invite, 183, {}, "bob-tag");
  bad.AddHeader("Require", "100rel");
  CHECK(tracker.OnProvisional(Parse(bad.Build())) == PrackTracker::Verdict::kMalformed);
  CHECK(tracker.OnProvisional(Parse(MakeResponse(invite, 200, {}, "bob-tag").Build())) ==
        PrackTracker::Verdict::kNotReliable);
  tracker.Finish("rel-1@127.0.0.1", 1);
  CHECK(tracker.OnProvisional(with_rseq(183, "10", "bob-tag")) == PrackTracker::Verdict::kPrack);
}

TEST_CASE("the dialog builds the PRACK with RAck from the reliable 1xx", "[100rel]") {
  auto invite = Parse(InviteText("Supported: 100rel\r\n"));
  auto b = Progress(invite, false);
  b.AddHeader("Require", "100rel");
  b.AddHeader("RSeq", "988789");
  b.AddHeader("Record-Route", "<sip:proxy.example;lr>");
  auto reliable = Parse(b.Build());
  auto dialog = Dialog::CreateUac(invite, reliable);
  REQUIRE(dialog.ok());
  auto prack = dialog->MakePrack(reliable, "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKp1");
  REQUIRE(prack.ok());
  auto m = prack->BuildMessage();
  REQUIRE(m.ok());
  CHECK(m->method() == Method::kPrack);
  CHECK(m->request_uri_text() == "sip:bob@127.0.0.1:5062");
  CHECK(*m->Header(HeaderId::kRoute) == "<sip:proxy.example;lr>");
  CHECK((*m->GetCSeq())->number == 2u);
  CHECK((*m->GetCSeq())->method == "PRACK");
  auto rack = m->RAck();
  REQUIRE(rack.ok());
  CHECK((*rack)->rseq == 988789u);
  CHECK((*rack)->cseq == 1u);
  CHECK((*rack)->method == "INVITE");
  CHECK((*m->To())->tag() == "bob-tag");
  // A 1xx of another dialog, or one without RSeq, gives no PRACK.
  CHECK_FALSE(dialog->MakePrack(Parse(MakeResponse(invite, 183, {}, "bob-tag").Build()), "v").ok());
}

namespace {

// Alice (UAC, Supported: 100rel) and Bob (UAS) over a loop transport, each with a transaction
// manager; Bob's TU answers the INVITE with a reliable 183 with SDP, then the 200 once the PRACK
// came.
struct RelCall {
  sb::core::FakeClock clock;
  LoopTransport net{clock};
  TransactionManager alice_tm{clock, TimerConfig{}};
  TransactionManager bob_tm{clock, TimerConfig{}};
  ReliableProvisionalSender bob_rel{clock, TimerConfig{}, Fixed};
  PrackTracker alice_tracker;
  DialogSet alice_dialogs;
  std::optional<Message> invite;
  std::string invite_key;  // Bob's server transaction
  std::optional<Destination> alice_at;
  int pracks_sent = 0, pracks_matched = 0, provisionals_seen = 0, acks_sent = 0, resends = 0;
  std::vector<int> alice_final;

  void Send(uint16_t from, std::vector<action::Send> sends) {
    for (auto& s : sends) {
      net.Send({"127.0.0.1", from}, {s.destination.host, s.destination.port}, std::move(s.bytes));
    }
  }

  void Bob(TransactionOutput in) {
    Send(5062, std::move(in.sends));
    for (auto& e : in.events) {
      if (e.kind != TuEvent::Kind::kRequest) continue;
      const Message& m = *e.message;
      TransactionOutput out;
      if (m.method() == Method::kInvite) {
        invite_key = e.key;
        alice_at = ResponseDestination(m, e.peer);
        REQUIRE(Rel100Of(m) == Rel100::kSupported);
        auto reliable = bob_rel.Prepare(Progress(m, true), *alice_at);
        REQUIRE(reliable.ok());
        REQUIRE(bob_tm.SendResponse(e.key, *reliable, out).ok());
      } else if (m.method() == Method::kPrack) {
        auto answer = bob_rel.OnPrack(m);
        pracks_matched += answer.status_code == 200;
        REQUIRE(bob_tm.SendResponse(e.key, *MakeResponse(m, answer.status_code).BuildMessage(), out)
                    .ok());
        if (answer.status_code == 200 && !bob_rel.Blocks2xx(kBobSide, 1)) {
          auto ok = MakeResponse(*invite, 200, {}, "bob-tag");
          ok.AddHeader("Contact", "<sip:bob@127.0.0.1:5062>");
          REQUIRE(bob_tm.SendResponse(invite_key, *ok.BuildMessage(), out).ok());
          bob_rel.Finish(kBobSide, 1);
        }
      }
      Send(5062, std::move(out.sends));
    }
  }

  void Alice(TransactionOutput in) {
    Send(5061, std::move(in.sends));
    for (auto& e : in.events) {
      if (e.kind != TuEvent::Kind::kResponse && e.kind != TuEvent::Kind::kStray2xx) continue;
      const Message& m = *e.message;
      if ((*m.GetCSeq())->method != "INVITE" || m.status_code() == 100) continue;
      TransactionOutput out;
      if (m.status_code() < 200) {
        auto verdict = alice_tracker.OnProvisional(m);
        if (verdict == PrackTracker::Verdict::kDiscard) continue;
        ++provisionals_seen;
        auto id = alice_dialogs.OnUacResponse(*invite, m);
        REQUIRE(id);
        if (verdict == PrackTracker::Verdict::kPrack) {
          auto prack = alice_dialogs.Find(*id)->MakePrack(
              m, "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKprack" + std::to_string(pracks_sent));
          REQUIRE(prack.ok());
          REQUIRE(alice_tm.SendRequest(Built(*prack), {"127.0.0.1", 5062}, out).ok());
          ++pracks_sent;
        }
      } else {
        alice_final.push_back(m.status_code());
        auto id = alice_dialogs.OnUacResponse(*invite, m);
        REQUIRE(id);
        auto ack =
            alice_dialogs.Find(*id)->MakeAck(1, "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKa");
        REQUIRE(alice_tm.SendRequest(Built(*ack), {"127.0.0.1", 5062}, out).ok());
        ++acks_sent;
      }
      Send(5061, std::move(out.sends));
    }
  }

  void Run(milliseconds until) {
    auto end = clock.Now() + until;
    for (int step = 0; step < 100000; ++step) {
      for (auto& p : net.TakeDue()) {
        Destination from{p.from.host, p.from.port, Transport::kUdp};
        if (p.to.port == 5061) Alice(alice_tm.OnReceived(p.bytes, from));
        if (p.to.port == 5062) Bob(bob_tm.OnReceived(p.bytes, from));
      }
      Alice(alice_tm.OnTimers());
      Bob(bob_tm.OnTimers());
      auto r = bob_rel.OnTimers();
      resends += static_cast<int>(r.sends.size());
      Send(5062, std::move(r.sends));
      std::optional<sb::core::Clock::TimePoint> next = net.NextDelivery();
      for (auto d : {alice_tm.NextDeadline(), bob_tm.NextDeadline(), bob_rel.NextDeadline()}) {
        if (d && (!next || *d < *next)) next = d;
      }
      if (!next || *next > end) break;
      if (*next > clock.Now()) clock.Advance(*next - clock.Now());
    }
    if (clock.Now() < end) clock.Advance(end - clock.Now());
  }
};

}  // namespace

TEST_CASE("INVITE with 100rel: a lost reliable 183 is resent and PRACKed once then 200 and ACK",
          "[100rel]") {
  RelCall call;
  call.net.Drop(LoopTransport::StartsWith("SIP/2.0 183"), 1);
  call.net.Duplicate(LoopTransport::StartsWith("SIP/2.0 183"), 1);  // the resent one, twice
  call.invite = Parse(InviteText("Supported: 100rel\r\n"));
  TransactionOutput out;
  REQUIRE(call.alice_tm
              .SendRequest(Parse(InviteText("Supported: 100rel\r\n")), {"127.0.0.1", 5062}, out)
              .ok());
  call.Send(5061, std::move(out.sends));
  call.Run(seconds(5));

  CHECK(call.resends == 1);            // at T1, after the first copy was lost
  CHECK(call.provisionals_seen == 1);  // the duplicate was discarded by RSeq
  CHECK(call.pracks_sent == 1);
  CHECK(call.pracks_matched == 1);
  CHECK(call.bob_rel.unacknowledged() == 0);
  CHECK(call.alice_final == std::vector<int>{200});
  CHECK(call.acks_sent == 1);
  auto forks = call.alice_dialogs.Forks("rel-1@127.0.0.1", "alice-tag");
  REQUIRE(forks.size() == 1);
  CHECK(call.alice_dialogs.Find(forks[0])->state() == DialogState::kConfirmed);
  CHECK(call.alice_dialogs.Find(forks[0])->local_cseq() == 2u);  // the PRACK took CSeq 2
}
