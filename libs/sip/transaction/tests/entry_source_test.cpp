// EntrySource: where a request entered the deployment from, behind a balancer of ours.
#include <catch2/catch.hpp>
#include <string>

#include "switchboard/sip/transaction_manager.h"

using sb::sip::Destination;
using sb::sip::EntrySource;
using sb::sip::Message;
using sb::sip::Transport;

namespace {

// `validate` false: as a message parsed without the header checks (which refuse any bad Via).
Message Register(const std::string& vias, bool validate = true) {
  sb::sip::ParseOptions options;
  options.validate = validate;
  auto m = Message::Parse("REGISTER sip:acme.sb.test SIP/2.0\r\n" + vias +
                              "Max-Forwards: 69\r\nFrom: <sip:1001@acme.sb.test>;tag=1\r\n"
                              "To: <sip:1001@acme.sb.test>\r\nCall-ID: c1\r\nCSeq: 1 "
                              "REGISTER\r\nContent-Length: 0\r\n\r\n",
                          options);
  REQUIRE(m.ok());
  return std::move(*m);
}

const auto kBalancer = [](std::string_view host) { return host == "10.0.0.2"; };
const Destination kFromBalancer{"10.0.0.2", 5060, Transport::kUdp};

}  // namespace

TEST_CASE("a request straight from a phone entered from its own source", "[unit]") {
  const Destination phone{"198.51.100.9", 40000, Transport::kUdp};
  Message m = Register("Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKp\r\n");
  CHECK(EntrySource(m, phone, kBalancer) == phone);
  // Whatever its Via claims: only a trusted proxy's word is taken.
  Message claims = Register(
      "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKfake\r\n"
      "Via: SIP/2.0/UDP 192.0.2.7:5060;received=203.0.113.1;branch=z9hG4bKp\r\n");
  CHECK(EntrySource(claims, phone, kBalancer) == phone);
}

TEST_CASE(
    "through the balancer - the phone's address and port as the balancer stamped them (received, "
    "rport), else its sent-by - over the phone's transport",
    "[unit]") {
  Message natted = Register(
      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKlb\r\n"
      "Via: SIP/2.0/UDP 192.168.1.20:5062;received=198.51.100.9;rport=40123;branch=z9hG4bKp\r\n");
  CHECK(EntrySource(natted, kFromBalancer, kBalancer) ==
        Destination{"198.51.100.9", 40123, Transport::kUdp});
  // A bare rport (not filled in) or none: the sent-by port, 5060 when it has none.
  Message direct = Register(
      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKlb\r\n"
      "Via: SIP/2.0/UDP 198.51.100.9:5070;rport;branch=z9hG4bKp\r\n");
  CHECK(EntrySource(direct, kFromBalancer, kBalancer) ==
        Destination{"198.51.100.9", 5070, Transport::kUdp});
  // One Via per header line or several in one: the same list. The phone's leg was TCP.
  Message folded = Register(
      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKlb, SIP/2.0/tcp "
      "198.51.100.9;branch=z9hG4bKp\r\n");
  CHECK(EntrySource(folded, kFromBalancer, kBalancer) ==
        Destination{"198.51.100.9", 5060, Transport::kTcp});
}

TEST_CASE(
    "behind two proxies of ours - where the outer one saw it - the walk stops at the first "
    "address not trusted",
    "[unit]") {
  const auto ours = [](std::string_view host) { return host == "10.0.0.2" || host == "10.0.0.3"; };
  Message m = Register(
      "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKinner\r\n"
      "Via: SIP/2.0/UDP 10.0.0.3:5080;branch=z9hG4bKouter\r\n"
      "Via: SIP/2.0/UDP 192.0.2.7;received=198.51.100.9;rport=1024;branch=z9hG4bKp\r\n"
      "Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKspoofed\r\n");
  CHECK(EntrySource(m, kFromBalancer, ours) == Destination{"198.51.100.9", 1024, Transport::kUdp});
  CHECK(EntrySource(m, kFromBalancer, kBalancer) == Destination{"10.0.0.3", 5080, Transport::kUdp});
}

TEST_CASE("a balancer's own request, or one whose next Via does not parse, is the balancer's",
          "[unit]") {
  Message probe = Register("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKlb\r\n");
  CHECK(EntrySource(probe, kFromBalancer, kBalancer) == kFromBalancer);
  Message bad = Register(
      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKlb\r\n"
      "Via: nonsense\r\n",
      false);
  CHECK(EntrySource(bad, kFromBalancer, kBalancer) == kFromBalancer);
}
