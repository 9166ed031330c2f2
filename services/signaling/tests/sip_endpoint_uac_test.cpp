// SipEndpoint as a user agent core on both sides of a call: requests it sends and their
// responses, forks, ACK for 2xx, CANCEL, timeouts, dialogs and requests inside them -- on a
// FakeClock, with the peer played by the test from the bytes the endpoint emits.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/metrics.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"
#include "transport/sip_endpoint.h"

namespace {

using sb::signaling::ClientResponse;
using sb::signaling::EndpointConfig;
using sb::signaling::IncomingRequest;
using sb::signaling::SipEndpoint;
using sb::sip::Destination;
using sb::sip::Message;
using sb::sip::Transport;

const Destination kCallee{"198.51.100.4", 41000, Transport::kUdp};
const Destination kCaller{"192.0.2.7", 40112, Transport::kUdp};

sb::sip::ParseOptions Lenient() {
  sb::sip::ParseOptions options;
  options.validate = false;
  return options;
}

Message Parse(const std::string& bytes) {
  auto parsed = Message::Parse(bytes, Lenient());
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

sb::sip::MessageBuilder Invite(std::string_view call_id = "uac-1@sb") {
  auto b = sb::sip::MessageBuilder::Request("INVITE", "sip:1002@198.51.100.4:41000");
  b.AddHeader("From", "<sip:1001@acme.sb.test>;tag=b2b1")
      .AddHeader("To", "<sip:1002@acme.sb.test>")
      .AddHeader("Call-ID", call_id)
      .AddHeader("CSeq", "1 INVITE")
      .AddHeader("Contact", "<sip:203.0.113.5:5060>")
      .SetBody("v=0\r\n", "application/sdp");
  return b;
}

// The peer's answer to a request the endpoint sent.
std::string Answer(const Message& request, int code, std::string_view to_tag) {
  auto r = sb::sip::MakeResponse(request, code, {}, to_tag);
  if (code > 100 && code < 300) r.AddHeader("Contact", "<sip:1002@10.0.0.9:5062>");
  return r.Build();
}

struct Fixture {
  sb::core::FakeClock clock;
  sb::core::MetricsRegistry metrics;
  SipEndpoint endpoint{clock, metrics, [] {
                         EndpointConfig c;
                         c.advertised_host = "203.0.113.5";
                         c.advertised_port = 5060;
                         c.seed = 7;
                         return c;
                       }()};
  std::vector<int> codes;
  std::vector<std::optional<sb::sip::DialogId>> dialogs;
  int timeouts = 0;

  sb::signaling::ResponseCallback Record() {
    return [this](const ClientResponse& r, SipEndpoint&) {
      if (r.timed_out) {
        ++timeouts;
        return;
      }
      codes.push_back(r.response->status_code());
      dialogs.push_back(r.dialog);
    };
  }
  std::vector<sb::sip::action::Send> Sent() { return endpoint.TakeSends(); }
};

// A TU that records what reaches it and leaves the answering to the test.
struct Recorder : sb::signaling::RequestHandler, sb::signaling::DialogHandler {
  std::vector<std::string> keys, tags, methods, cancelled;
  std::vector<std::optional<sb::sip::DialogId>> dialogs;
  std::vector<sb::sip::DialogId> ack_timeouts;
  void OnRequest(const IncomingRequest& r, SipEndpoint&) override {
    keys.push_back(r.key);
    tags.push_back(r.local_tag);
  }
  void OnCancelled(std::string_view key, SipEndpoint&) override { cancelled.emplace_back(key); }
  void OnDialogRequest(const IncomingRequest& r, SipEndpoint&) override {
    keys.push_back(r.key);
    methods.emplace_back(r.message->method_text());
    dialogs.push_back(r.dialog);
  }
  void OnAckTimeout(const sb::sip::DialogId& id, SipEndpoint&) override {
    ack_timeouts.push_back(id);
  }
};

}  // namespace

TEST_CASE("an INVITE goes out with our Via and loop-hash branch and rport", "[unit]") {
  Fixture f;
  auto key = f.endpoint.SendRequest(Invite(), kCallee, f.Record());
  REQUIRE(key.ok());
  auto sent = f.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kCallee);
  Message invite = Parse(sent[0].bytes);
  auto via = invite.TopVia();
  REQUIRE(via.ok());
  CHECK((*via)->host == "203.0.113.5");
  CHECK((*via)->port == 5060);
  CHECK((*via)->rport().has_value());
  std::string_view branch = (*via)->branch();
  CHECK(branch.starts_with("z9hG4bK-sb"));
  CHECK(branch.ends_with(
      sb::signaling::LoopHash("sip:1002@198.51.100.4:41000", "uac-1@sb", "b2b1", 1)));
  CHECK(invite.Header(sb::sip::HeaderId::kMaxForwards) == std::optional<std::string_view>("70"));
  CHECK(f.endpoint.transactions() == 1);

  // Timer A over UDP: the INVITE again after T1, without a sleep.
  f.clock.Advance(std::chrono::milliseconds(500));
  f.endpoint.OnTimers();
  auto again = f.Sent();
  REQUIRE(again.size() == 1);
  CHECK(again[0].bytes == sent[0].bytes);
}

TEST_CASE(
    "180 then 200 - an early then confirmed dialog - the 2xx is ACKed at once and again on "
    "its retransmission",
    "[unit]") {
  Fixture f;
  REQUIRE(f.endpoint.SendRequest(Invite(), kCallee, f.Record()).ok());
  Message invite = Parse(f.Sent().at(0).bytes);
  f.endpoint.OnReceived(Answer(invite, 100, ""), kCallee);
  f.endpoint.OnReceived(Answer(invite, 180, "callee-a"), kCallee);
  CHECK(f.Sent().empty());
  const std::string ok = Answer(invite, 200, "callee-a");
  f.endpoint.OnReceived(ok, kCallee);
  auto sent = f.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kCallee);
  Message ack = Parse(sent[0].bytes);
  CHECK(ack.method() == sb::sip::Method::kAck);
  CHECK(ack.request_uri_text() == "sip:1002@10.0.0.9:5062");  // the 2xx's Contact (§12.1.2)
  CHECK((*ack.GetCSeq())->number == 1);
  CHECK((*ack.To())->tag() == "callee-a");
  CHECK(f.codes == std::vector<int>{100, 180, 200});
  REQUIRE(f.dialogs.at(2).has_value());
  CHECK(f.dialogs[1] == f.dialogs[2]);
  const sb::sip::Dialog* dialog = f.endpoint.FindDialog(*f.dialogs[2]);
  REQUIRE(dialog != nullptr);
  CHECK(dialog->state() == sb::sip::DialogState::kConfirmed);

  f.endpoint.OnReceived(ok, kCallee);
  auto again = f.Sent();
  REQUIRE(again.size() == 1);
  CHECK(again[0].bytes == sent[0].bytes);
  CHECK(f.codes.size() == 3);  // the TU saw that 2xx once
}

TEST_CASE("two forks answer 200 - each gets its own dialog and ACK and the TU sees both",
          "[unit]") {
  Fixture f;
  REQUIRE(f.endpoint.SendRequest(Invite(), kCallee, f.Record()).ok());
  Message invite = Parse(f.Sent().at(0).bytes);
  f.endpoint.OnReceived(Answer(invite, 180, "fork-a"), kCallee);
  f.endpoint.OnReceived(Answer(invite, 180, "fork-b"), kCallee);
  f.endpoint.OnReceived(Answer(invite, 200, "fork-a"), kCallee);
  f.endpoint.OnReceived(Answer(invite, 200, "fork-b"), kCallee);
  auto sent = f.Sent();
  REQUIRE(sent.size() == 2);
  CHECK((*Parse(sent[0].bytes).To())->tag() == "fork-a");
  CHECK((*Parse(sent[1].bytes).To())->tag() == "fork-b");
  CHECK(f.codes == std::vector<int>{180, 180, 200, 200});
  CHECK(f.dialogs[2] != f.dialogs[3]);
  CHECK(f.endpoint.dialogs() == 2);
}

TEST_CASE(
    "CANCEL waits for a provisional response then goes - 487 ends the INVITE and its "
    "early dialog",
    "[unit]") {
  Fixture f;
  auto key = f.endpoint.SendRequest(Invite(), kCallee, f.Record());
  REQUIRE(key.ok());
  Message invite = Parse(f.Sent().at(0).bytes);
  REQUIRE(f.endpoint.Cancel(*key).ok());
  CHECK(f.Sent().empty());  // §9.1: no provisional yet, so no CANCEL yet
  f.endpoint.OnReceived(Answer(invite, 180, "callee-a"), kCallee);
  auto sent = f.Sent();
  REQUIRE(sent.size() == 1);
  Message cancel = Parse(sent[0].bytes);
  CHECK(cancel.method() == sb::sip::Method::kCancel);
  CHECK((*cancel.TopVia())->branch() == (*invite.TopVia())->branch());
  CHECK(f.endpoint.dialogs() == 1);

  f.endpoint.OnReceived(Answer(cancel, 200, "callee-a"), kCallee);
  f.endpoint.OnReceived(Answer(invite, 487, "callee-a"), kCallee);
  auto acks = f.Sent();
  REQUIRE(acks.size() == 1);  // the transaction's ACK for a non-2xx (§17.1.1.3)
  CHECK(Parse(acks[0].bytes).method() == sb::sip::Method::kAck);
  CHECK(f.codes == std::vector<int>{180, 487});
  CHECK(f.endpoint.dialogs() == 0);
  CHECK_FALSE(f.endpoint.Cancel(*key).ok());
}

TEST_CASE(
    "another node's INVITE is cancelled from here - the CANCEL has its branch and CSeq number "
    "and its 200 ends it here - not an INVITE is refused",
    "[unit]") {
  Fixture f;
  REQUIRE(f.endpoint.SendRequest(Invite(), kCallee, f.Record()).ok());
  const std::string sent_elsewhere = f.Sent().at(0).bytes;  // as the dead node sent it
  Fixture here;
  REQUIRE(here.endpoint.CancelSent(sent_elsewhere, kCallee).ok());
  auto sent = here.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kCallee);
  Message cancel = Parse(sent[0].bytes);
  Message invite = Parse(sent_elsewhere);
  CHECK(cancel.method() == sb::sip::Method::kCancel);
  CHECK((*cancel.TopVia())->branch() == (*invite.TopVia())->branch());
  CHECK((*cancel.GetCSeq())->number == (*invite.GetCSeq())->number);
  here.endpoint.OnReceived(Answer(cancel, 200, "callee-a"), kCallee);
  here.clock.Advance(std::chrono::seconds(5));
  here.endpoint.OnTimers();
  CHECK(here.Sent().empty());  // answered: no retransmission
  CHECK(here.endpoint.CancelSent(Answer(invite, 180, "x"), kCallee).code() ==
        sb::StatusCode::kInvalidArgument);
}

TEST_CASE(
    "another node's INVITE is answered from here - no 100, no handler, its final response again "
    "until the ACK - the same INVITE again, or not an INVITE, is refused",
    "[unit]") {
  Fixture f;
  Recorder tu;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &tu);
  auto from_caller = Invite("lost-1@caller").Build();
  from_caller.insert(from_caller.find("\r\n") + 2,
                     "Via: SIP/2.0/UDP 192.0.2.7:40112;branch=z9hG4bKlost1\r\n");
  REQUIRE(f.endpoint.AnswerReceived(from_caller, kCaller, 500).ok());
  auto sent = f.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kCaller);
  Message lost = Parse(sent[0].bytes);
  CHECK(lost.status_code() == 500);
  CHECK((*lost.TopVia())->branch() == "z9hG4bKlost1");
  CHECK(tu.keys.empty());
  f.clock.Advance(std::chrono::milliseconds(500));  // Timer G
  f.endpoint.OnTimers();
  CHECK(f.Sent().size() == 1);
  CHECK(f.endpoint.AnswerReceived(from_caller, kCaller, 500).code() ==
        sb::StatusCode::kFailedPrecondition);
  (void)f.Sent();  // the 500 again, as to a retransmitted INVITE
  std::string ack =
      "ACK sip:1002@198.51.100.4:41000 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.7:40112;branch=z9hG4bKlost1\r\n"
      "From: <sip:1001@acme.sb.test>;tag=b2b1\r\nTo: <sip:1002@acme.sb.test>;tag=" +
      std::string((*lost.To())->tag()) +
      "\r\nCall-ID: lost-1@caller\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(ack, kCaller);
  f.clock.Advance(std::chrono::seconds(10));
  f.endpoint.OnTimers();
  CHECK(f.Sent().empty());
  CHECK(tu.keys.empty());
  CHECK(f.endpoint.AnswerReceived(Answer(Parse(from_caller), 180, "x"), kCaller, 500).code() ==
        sb::StatusCode::kInvalidArgument);
  CHECK(f.endpoint.AnswerReceived(from_caller, kCaller, 200).code() ==
        sb::StatusCode::kInvalidArgument);
}

TEST_CASE("no answer at all - Timer B reports a timeout to the TU", "[unit]") {
  Fixture f;
  REQUIRE(f.endpoint.SendRequest(Invite(), kCallee, f.Record()).ok());
  for (int i = 0; i < 70 && f.timeouts == 0; ++i) {
    f.clock.Advance(std::chrono::milliseconds(500));
    f.endpoint.OnTimers();
  }
  CHECK(f.timeouts == 1);
  CHECK(f.codes.empty());
}

TEST_CASE(
    "BYE inside the dialog - next CSeq to the dialog's peer - its 200 reaches the "
    "callback",
    "[unit]") {
  Fixture f;
  REQUIRE(f.endpoint.SendRequest(Invite(), kCallee, f.Record()).ok());
  Message invite = Parse(f.Sent().at(0).bytes);
  f.endpoint.OnReceived(Answer(invite, 200, "callee-a"), kCallee);
  (void)f.Sent();
  auto id = f.dialogs.at(0);
  REQUIRE(id.has_value());
  auto bye_key = f.endpoint.SendInDialog(*id, "BYE", f.Record());
  REQUIRE(bye_key.ok());
  auto sent = f.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kCallee);
  Message bye = Parse(sent[0].bytes);
  CHECK(bye.method() == sb::sip::Method::kBye);
  CHECK((*bye.GetCSeq())->number == 2);
  CHECK((*bye.To())->tag() == "callee-a");
  CHECK((*bye.From())->tag() == "b2b1");
  f.endpoint.OnReceived(Answer(bye, 200, "callee-a"), kCallee);
  CHECK(f.codes == std::vector<int>{200, 200});

  // A re-INVITE with hold SDP and an INFO go the same way.
  REQUIRE(
      f.endpoint.SendInDialog(*id, "INVITE", f.Record(), "v=0\r\na=sendonly\r\n", "application/sdp")
          .ok());
  Message reinvite = Parse(f.Sent().at(0).bytes);
  CHECK((*reinvite.GetCSeq())->number == 3);
  CHECK(reinvite.body().find("sendonly") != std::string_view::npos);
  f.endpoint.ForgetDialog(*id);
  CHECK_FALSE(f.endpoint.SendInDialog(*id, "BYE", nullptr).ok());
}

TEST_CASE(
    "UAS - 200 to an INVITE creates the dialog with our Contact and is resent until "
    "the ACK",
    "[unit]") {
  Fixture f;
  Recorder tu;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &tu);
  f.endpoint.SetDialogHandler(&tu);
  std::string invite =
      "INVITE sip:1002@acme.sb.test SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKin1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n"
      "To: <sip:1002@acme.sb.test>\r\nCall-ID: in-1\r\nCSeq: 10 INVITE\r\n"
      "Contact: <sip:1001@10.1.1.1:5060>\r\nContent-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(invite, kCaller);
  (void)f.Sent();
  REQUIRE(tu.keys.size() == 1);
  REQUIRE(f.endpoint.Respond(tu.keys[0], 200).ok());
  auto sent = f.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].destination == kCaller);  // rport: the source, not the Via's private address
  Message ok = Parse(sent[0].bytes);
  CHECK(ok.Header(sb::sip::HeaderId::kContact) ==
        std::optional<std::string_view>("<sip:203.0.113.5:5060>"));
  sb::sip::DialogId id{"in-1", tu.tags[0], "caller"};
  REQUIRE(f.endpoint.FindDialog(id) != nullptr);
  CHECK(f.endpoint.DialogPeer(id) == kCaller);

  f.clock.Advance(std::chrono::milliseconds(500));
  f.endpoint.OnTimers();
  auto resent = f.Sent();
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].bytes == sent[0].bytes);

  std::string ack =
      "ACK sip:203.0.113.5:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKack1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n"
      "To: <sip:1002@acme.sb.test>;tag=" +
      tu.tags[0] + "\r\nCall-ID: in-1\r\nCSeq: 10 ACK\r\nContent-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(ack, kCaller);
  CHECK(tu.methods == std::vector<std::string>{"ACK"});
  CHECK(tu.dialogs.at(0) == id);
  f.clock.Advance(std::chrono::seconds(2));
  f.endpoint.OnTimers();
  CHECK(f.Sent().empty());

  // The caller hangs up: the BYE reaches the dialog handler with its dialog.
  std::string bye = ack;
  bye.replace(0, 3, "BYE");
  bye.replace(bye.find("z9hG4bKack1"), 11, "z9hG4bKbye1");
  bye.replace(bye.find("CSeq: 10 ACK"), 12, "CSeq: 11 BYE");
  f.endpoint.OnReceived(bye, kCaller);
  REQUIRE(tu.methods.size() == 2);
  CHECK(tu.methods[1] == "BYE");
  CHECK(tu.dialogs[1] == id);
  REQUIRE(f.endpoint.Respond(tu.keys.back(), 200).ok());
  CHECK(Parse(f.Sent().at(0).bytes).status_code() == 200);

  // An older CSeq in the dialog is out of order (§12.2.2): 500, the TU never sees it.
  std::string old = bye;
  old.replace(old.find("z9hG4bKbye1"), 11, "z9hG4bKold1");
  old.replace(old.find("CSeq: 11 BYE"), 12, "CSeq: 9 BYE");
  f.endpoint.OnReceived(old, kCaller);
  CHECK(Parse(f.Sent().at(0).bytes).status_code() == 500);
  CHECK(tu.methods.size() == 2);
}

TEST_CASE("UAS - a 2xx never ACKed is given up after 64 T1 and reported", "[unit]") {
  Fixture f;
  Recorder tu;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &tu);
  f.endpoint.SetDialogHandler(&tu);
  std::string invite =
      "INVITE sip:1002@acme.sb.test SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKin2\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n"
      "To: <sip:1002@acme.sb.test>\r\nCall-ID: in-2\r\nCSeq: 10 INVITE\r\n"
      "Contact: <sip:1001@10.1.1.1:5060>\r\nContent-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(invite, kCaller);
  REQUIRE(f.endpoint.Respond(tu.keys.at(0), 200).ok());
  for (int i = 0; i < 40 && tu.ack_timeouts.empty(); ++i) {
    f.clock.Advance(std::chrono::seconds(1));
    f.endpoint.OnTimers();
  }
  REQUIRE(tu.ack_timeouts.size() == 1);
  CHECK(tu.ack_timeouts[0].call_id == "in-2");
}

TEST_CASE(
    "a request with an unknown To tag gets 481 without a dialog handler - a CANCEL is "
    "reported to the INVITE's handler",
    "[unit]") {
  Fixture f;
  Recorder tu;
  f.endpoint.SetHandler(sb::sip::Method::kInvite, &tu);
  std::string bye =
      "BYE sip:203.0.113.5:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKstray\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n"
      "To: <sip:1002@acme.sb.test>;tag=nobody\r\nCall-ID: gone\r\nCSeq: 3 BYE\r\n"
      "Content-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(bye, kCaller);
  CHECK(Parse(f.Sent().at(0).bytes).status_code() == 481);

  std::string invite =
      "INVITE sip:1002@acme.sb.test SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKin3\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=caller\r\n"
      "To: <sip:1002@acme.sb.test>\r\nCall-ID: in-3\r\nCSeq: 1 INVITE\r\n"
      "Contact: <sip:1001@10.1.1.1:5060>\r\nContent-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(invite, kCaller);
  std::string cancel = invite;
  cancel.replace(0, 6, "CANCEL");
  cancel.replace(cancel.find("1 INVITE"), 8, "1 CANCEL");
  f.endpoint.OnReceived(cancel, kCaller);
  CHECK(tu.cancelled == std::vector<std::string>{tu.keys.at(0)});
}

TEST_CASE("a REGISTER refresh that echoes a To tag still goes to the registrar", "[unit]") {
  Fixture f;
  Recorder registrar, dialogs;
  f.endpoint.SetHandler(sb::sip::Method::kRegister, &registrar);
  f.endpoint.SetDialogHandler(&dialogs);
  std::string reg =
      "REGISTER sip:acme.sb.test SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKreg2\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:1001@acme.sb.test>;tag=phone\r\n"
      "To: <sip:1001@acme.sb.test>;tag=earlier\r\nCall-ID: reg-1\r\nCSeq: 2 REGISTER\r\n"
      "Contact: <sip:1001@10.1.1.1:5060>\r\nContent-Length: 0\r\n\r\n";
  f.endpoint.OnReceived(reg, kCaller);
  CHECK(registrar.keys.size() == 1);
  CHECK(dialogs.keys.empty());
}
