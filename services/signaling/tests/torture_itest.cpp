// The RFC 4475 torture messages (shared/conformance/sip-torture) sent to the full sb-signaling
// (sb-admin, registrar and B2BUA wired on NATS and Redis, as in production) over TCP and over
// UDP: each gets the final response expectations.tsv names for this node, or none where none
// can be sent or received, and the node answers an OPTIONS after every one of them.
//
// The tenant "example" on the platform domain "com" owns example.com, the domain most messages
// name: their REGISTERs reach the registrar and their INVITEs the B2BUA, which authenticate
// first (401 / 407) as a deployed node does. Where the tsv says a REGISTER succeeds (escnull,
// dblreq, cparam01, cparam02, regescrt), the test then plays the phone that sent it: the tenant
// has an extension for each AOR, and the same message with the answer to the challenge, CSeq + 1
// and a new branch must get a 200 listing exactly the bindings the tsv describes, as must a
// fetch (the REGISTER without Contact) after it.
//
// Over UDP the answers go where RFC 3261 §18.2.2 says: to the source address (received=) at the
// top Via's sent-by port (5060 when absent), or the source port with rport. Each message is sent
// from a socket of its own on 127.0.77.x bound at that port, which therefore gets them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "platform.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/framer.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/transaction.h"
#include "switchboard/testing/udp_socket.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sb::signaling::test::Platform;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The first final response the node sends, per transport (0: none); where two requests race,
// either one's.
struct Expectation {
  std::set<int> tcp;
  std::set<int> udp;
};
Expectation Both(int code) { return {{code}, {code}}; }

// Why each code: malformed requests 400 (RFC 4475 §3.1.2, §3.2.1, §3.3.1, §3.3.8-9; also where
// the tsv only allows it: lwsstart, trws, escruri, badaspec, mismatch02), 505 for SIP/7.0, 416 for
// unknown URI schemes, 420 for unknown Require options, 501 for methods this node does not
// serve, OPTIONS 200 (a UAS: Max-Forwards 0 included). REGISTERs to example.com get 401: the
// registrar challenges before anything else (RFC 3261 §10.3 step 3; where the tsv expects a
// REGISTER to succeed, the authenticated retry is checked too: Registrations() below), and a bad
// To is 400 before that (unksm2).
// INVITEs get 407: the B2BUA authenticates the caller before it looks at the target, but a body
// it cannot read (invut: 415) or an Accept without SDP (sdp01: 406) is refused first (§8.2.3). An
// INVITE with a To tag names a dialog this node does not have: 481 (wsinv, §12.2.2). Responses
// nobody asked for are dropped (0).
const std::map<std::string, Expectation>& Expected() {
  static const std::map<std::string, Expectation> expected = {
      {"wsinv", Both(481)},
      {"intmeth", Both(501)},
      {"esc01", Both(407)},
      {"escnull", Both(401)},
      {"esc02", Both(501)},
      {"lwsdisp", Both(200)},
      {"longreq", Both(407)},
      // Datagram semantics: trailing bytes after a message are ignored only in a datagram
      // (dblreq); a body shorter than Content-Length waits on a stream (clerr). On a stream
      // dblreq's REGISTER and INVITE are both requests: the REGISTER's answer is the one checked
      // (the INVITE's is 407); the 5 bytes after the INVITE's Content-Length are a framing
      // error, which does not stop them from being answered.
      {"dblreq", Both(401)},
      {"semiuri", Both(200)},
      {"transports", Both(200)},
      {"mpart01", Both(501)},
      {"unreason", Both(0)},
      {"noreason", Both(0)},
      {"badinv01", Both(400)},
      {"clerr", {{0}, {400}}},
      {"ncl", Both(400)},
      {"scalar02", Both(400)},
      {"scalarlg", Both(0)},
      {"quotbal", Both(400)},
      {"ltgtruri", Both(400)},
      {"lwsruri", Both(400)},
      {"lwsstart", Both(400)},
      {"trws", Both(400)},
      {"escruri", Both(400)},
      {"baddate", Both(407)},
      {"regbadct", Both(400)},
      {"badaspec", Both(400)},
      // As stored, baddn.dat lacks the empty line that ends its headers: on a stream that is an
      // unfinished message, which the node rightly waits for.
      {"baddn", {{0}, {400}}},
      {"badvers", Both(505)},
      {"mismatch01", Both(400)},
      {"mismatch02", Both(400)},
      {"bigcode", Both(0)},
      {"badbranch", Both(400)},
      {"insuf", Both(400)},
      {"unkscm", Both(416)},
      {"novelsc", Both(416)},
      {"unksm2", Both(400)},
      {"bext01", Both(420)},
      {"invut", Both(415)},
      {"regaut01", Both(401)},
      {"multi01", Both(400)},
      {"mcl01", Both(400)},
      {"bcast", Both(0)},
      {"zeromf", Both(200)},
      {"cparam01", Both(401)},
      // Same branch and sent-by as cparam01's REGISTER (regescrt as escnull's): challenges keep
      // no transaction (§26.3.2.4), so over UDP too each is challenged as a request of its own.
      {"cparam02", Both(401)},
      {"regescrt", Both(401)},
      {"sdp01", Both(406)},
      // Over a stream a message needs Content-Length (§18.3, §20.14), which RFC 2543 ones lack;
      // in a datagram the body is the rest of it.
      {"inv2543", {{400}, {407}}},
  };
  return expected;
}

// A final response of the node: its status code (0: none came; -1: bytes that are no SIP
// response, which no expectation names) and its text.
struct Final {
  int code = 0;
  std::string text;
  // Over UDP, a final response that came after it while the phone went on listening (the
  // answer to a request the datagram carried after its first, which must not get one).
  int then = 0;
};

// `bytes` as a final response to a request of `method` (any when empty); nullopt for a
// provisional response, the answer to another request or a request of the node's own.
std::optional<Final> AsFinal(std::string_view bytes, std::string_view method) {
  sb::sip::ParseOptions lenient;
  lenient.validate = false;
  auto parsed = sb::sip::Message::Parse(bytes, lenient);
  if (!parsed.ok()) return Final{-1, std::string(bytes)};
  if (parsed->is_request() || parsed->status_code() < 200) return std::nullopt;
  if (!method.empty()) {
    auto cseq = parsed->GetCSeq();
    if (!cseq.ok() || (*cseq)->method != method) return std::nullopt;
  }
  return Final{parsed->status_code(), std::string(bytes)};
}

// The n-th liveness probe: a new transaction each time (its own branch), answered by rport.
std::string Options(int n) {
  const std::string id = "alive" + std::to_string(n);
  return "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK" +
         id + "\r\nMax-Forwards: 70\r\nFrom: <sip:probe@sb.test>;tag=1\r\nTo: <sip:127.0.0.1>\r\n" +
         "Call-ID: " + id + "@sb.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
}

class Conn {
 public:
  explicit Conn(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{0, 200'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Conn() { close(fd_); }
  void Send(const std::string& bytes) {
    REQUIRE(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // The first final response to a request of `method` (any when empty) read within `wait`;
  // code 0 when none came or the node closed first.
  Final FirstFinal(std::chrono::milliseconds wait, std::string_view method) {
    sb::sip::StreamFramer framer;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n < 0) continue;
      framer.Append(std::string_view(buf, static_cast<size_t>(n)));
      for (;;) {
        auto next = framer.Next();
        if (!next.ok()) return {-1, "bytes that are no SIP message"};
        if (!next->has_value()) break;
        if (auto final = AsFinal(**next, method)) return *final;
      }
    }
    return {};
  }

 private:
  int fd_;
};

// The top Via's sent-by port (5060 when absent; the source port with rport).
uint16_t ViaPort(const std::string& message) {
  static const std::regex via(
      R"((?:^|\r\n)(?:Via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*[0-9.]+[ \t]*/[ \t]*\w+[ \t]+[^\s:;,]+(?::(\d+))?)",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_search(message, m, via) || !m[1].matched) return 5060;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

// The ACK a UA sends for a non-2xx final response to its INVITE (RFC 3261 §17.1.1.3), which
// ends the server's retransmissions of it.
std::optional<std::string> AckFor(const std::string& request, std::string_view response) {
  sb::sip::ParseOptions lenient;
  lenient.validate = false;
  auto invite = sb::sip::Message::Parse(request, lenient);
  auto answer = sb::sip::Message::Parse(response, lenient);
  if (!invite.ok() || !answer.ok() || !invite->is_request() ||
      invite->method() != sb::sip::Method::kInvite || answer->status_code() < 300) {
    return std::nullopt;
  }
  return sb::sip::BuildNon2xxAck(*invite, *answer);
}

// The first final response a datagram from `ip`:<its Via port> draws within `wait`, and any
// other one within `linger` after it.
Final UdpFirstFinal(const std::string& ip, int node_port, const std::string& message,
                    std::chrono::milliseconds wait, std::chrono::milliseconds linger) {
  sb::testing::UdpSocket phone(ip, ViaPort(message));
  const auto node = static_cast<uint16_t>(node_port);
  REQUIRE(phone.SendTo(node, message));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = phone.Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!d) break;
    auto final = AsFinal(d->text(), {});
    if (!final) continue;
    if (auto ack = AckFor(message, d->text())) REQUIRE(phone.SendTo(node, *ack));
    const auto until = std::chrono::steady_clock::now() + linger;
    while (std::chrono::steady_clock::now() < until) {
      auto later = phone.Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now()));
      if (!later) break;
      if (auto other = AsFinal(later->text(), {})) final->then = other->code;
    }
    return *final;
  }
  return {};
}

// The REGISTERs expectations.tsv says succeed: the extension each AOR names (its SIP username,
// which is the AOR's user as written) and exactly the Contact URIs the AOR then has.
struct Registration {
  std::string user;
  std::set<std::string> contacts;
};
const std::map<std::string, Registration>& Registrations() {
  static const std::map<std::string, Registration> registrations = {
      // Two bindings (%00 and %00%00 differ once unescaped: a NUL ends nothing), and the AOR is
      // sip:null-%00-null@example.com, whole. Admin holds the username with its escape (a
      // SIP username is an RFC 3261 user; PostgreSQL text cannot hold a NUL), and the phone's
      // digest username is that, as it is the AOR's user as written.
      {"escnull", {"null-%00-null", {"sip:%00@host5.example.com", "sip:%00%00@host5.example.com"}}},
      // The REGISTER alone: in a datagram the INVITE after it is ignored.
      {"dblreq", {"j.user", {"sip:j.user@host.example.com"}}},
      // Without <>, ';unknownparam' is a contact-param: the bound URI does not have it.
      {"cparam01", {"watson", {"sip:+19725552222@gw1.example.net"}}},
      // Inside <> it is the URI's. That URI is cparam01's by §19.1.4 (a parameter in only one
      // of them is ignored), so it refreshes watson's one binding, now written with it.
      {"cparam02", {"watson", {"sip:+19725552222@gw1.example.net;unknownparam"}}},
      {"regescrt", {"user", {"sip:user@example.com?Route=%3Csip:sip.example.com%3E"}}},
  };
  return registrations;
}

// The server transaction a request belongs to (§17.2.3): its top Via's branch and sent-by.
std::string TransactionOf(const std::string& request) {
  sb::sip::ParseOptions lenient;
  lenient.validate = false;
  auto parsed = sb::sip::Message::Parse(request, lenient);
  REQUIRE(parsed.ok());
  auto via = parsed->TopVia();
  REQUIRE(via.ok());
  return std::string((*via)->branch()) + " " + std::string((*via)->host) + ":" +
         std::to_string((*via)->port);
}

// The challenge a phone answers from a 401: the strongest it offers (RFC 8760 §2.4).
sb::sip::DigestChallenge ChallengeIn(const std::string& response) {
  auto parsed = sb::sip::Message::Parse(response);
  REQUIRE(parsed.ok());
  std::vector<sb::sip::DigestChallenge> offered;
  for (size_t i = 0; i < parsed->header_count(); ++i) {
    auto field = parsed->header(i);
    if (field.id != sb::sip::HeaderId::kWwwAuthenticate) continue;
    if (auto c = sb::sip::ParseChallenge(field.value); c.ok()) offered.push_back(*c);
  }
  auto chosen = sb::sip::PreferredChallenge(offered);
  REQUIRE(chosen);
  return offered[*chosen];
}

// The Contact URIs of a 200 to REGISTER, each of which must carry its expires (§10.3 step 8).
std::set<std::string> BoundIn(const std::string& response) {
  auto parsed = sb::sip::Message::Parse(response);
  REQUIRE(parsed.ok());
  auto contacts = parsed->NameAddrs(sb::sip::HeaderId::kContact);
  REQUIRE(contacts.ok());
  std::set<std::string> out;
  for (const auto& c : *contacts) {
    CHECK(c.params().Has("expires"));
    out.emplace(c.uri.text);
  }
  return out;
}

// `message` as its phone sends it again: the first message's header lines with `authorization`
// first, the CSeq number + `cseq_add` and the top Via's branch ended by `branch_suffix` (a new
// transaction: the suffix must differ for messages that share a branch and sent-by); then what
// followed it (dblreq's INVITE), or, for a `fetch`, no Contact and nothing after.
std::string AsPhoneAgain(const std::string& message, const std::string& authorization,
                         uint32_t cseq_add, const std::string& branch_suffix, bool fetch) {
  static const std::regex name(R"(^([A-Za-z-]+)[ \t]*:)");
  static const std::regex number(R"(\d+)");
  static const std::regex branch(R"(branch=[^;,\s]+)", std::regex::icase);
  const size_t head_end = message.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  std::istringstream lines(message.substr(0, head_end));
  std::string out;
  std::getline(lines, out);  // the request line, with its CR
  out += "\nAuthorization: " + authorization + "\r\n";
  bool top_via = true;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    std::string field;
    if (std::regex_search(line, m, name)) field = m[1];
    std::transform(field.begin(), field.end(), field.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (fetch && (field == "contact" || field == "m")) continue;
    if (field == "cseq" && std::regex_search(line, m, number)) {
      line = m.prefix().str() + std::to_string(std::stoul(m[0]) + cseq_add) + m.suffix().str();
    }
    if ((field == "via" || field == "v") && top_via) {
      line = std::regex_replace(line, branch, "$&" + branch_suffix,
                                std::regex_constants::format_first_only);
      top_via = false;
    }
    out += line + "\r\n";
  }
  out += "\r\n";
  if (!fetch) out += message.substr(head_end + 4);
  return out;
}

enum class Transport { kTcp, kUdp };

// Sends every torture message over `transport` and checks each answer and that the node still
// answers OPTIONS after it.
void RunTorture(Transport transport) {
  fs::path dir(SB_SIP_TORTURE_DIR);
  REQUIRE(fs::exists(dir / "expectations.tsv"));
  Platform platform({.platform_domain = "com"});
  auto tenant = platform.CreateTenant("example");
  REQUIRE(tenant.sip_domain() == "example.com");
  std::map<std::string, std::string> passwords;  // by SIP username
  for (const auto& [name, r] : Registrations()) {
    if (passwords.contains(r.user)) continue;
    const std::string number = std::to_string(2001 + passwords.size());
    passwords[r.user] = "torture-" + number + "-secret";
    platform.CreateExtension(tenant, number, passwords[r.user], {}, r.user);
  }
  const int port = platform.sip_port();
  // Over UDP each message has its own source address: where the node resends an earlier
  // message's answer (a retransmission by §17.2.3, or an INVITE's final response until an ACK
  // the test cannot build for a malformed one), it does not reach a later message's socket.
  // `method`: on a stream, the request whose answer counts (dblreq's REGISTER, not its INVITE).
  // `linger`: in a datagram, how long to listen after the answer for one to what follows the
  // first message (dblreq's INVITE, which is ignored).
  int sent = 0;
  auto send = [&](const std::string& bytes, std::chrono::milliseconds wait,
                  std::string_view method = {},
                  std::chrono::milliseconds linger = std::chrono::milliseconds::zero()) {
    ++sent;
    if (transport == Transport::kUdp) {
      // Only a datagram's first message is a request (dblreq): any answer is that one's.
      const std::string ip = "127.0.77." + std::to_string(sent % 250 + 1);
      return UdpFirstFinal(ip, port, bytes, wait, linger);
    }
    Conn conn(port);
    conn.Send(bytes);
    return conn.FirstFinal(wait, method);
  };
  // The node is up once it answers (admin creates the tenant while it starts).
  int alive = 0;
  for (int i = 0; i < 50 && alive != 200; ++i) alive = send(Options(i), 200ms).code;
  REQUIRE(alive == 200);

  // What the phones learnt: the challenge of each REGISTER transaction (a retransmission's
  // answer is its transaction's, which reached the phone at that Via's sent-by) and how often
  // each nonce was used (RFC 7616 §3.4: the nonce count grows).
  std::map<std::string, sb::sip::DigestChallenge> challenges;
  std::map<std::string, uint32_t> nonce_uses;
  // The phone of a REGISTER that must succeed, after its torture message drew `first`: the
  // message with its credentials must register, and a fetch must list the same bindings.
  auto register_as_phone = [&](const std::string& name, const std::string& message,
                               const Registration& r, const Final& first) {
    const std::string transaction = TransactionOf(message);
    if (first.code == 401) challenges[transaction] = ChallengeIn(first.text);
    REQUIRE(challenges.contains(transaction));
    const sb::sip::DigestChallenge& challenge = challenges[transaction];
    auto authorization = [&] {
      const uint32_t nc = ++nonce_uses[challenge.nonce];
      auto credentials = sb::sip::AnswerChallenge(
          challenge, {.username = r.user, .password = passwords.at(r.user), .ha1 = {}}, "REGISTER",
          "sip:example.com", "", "torture" + std::to_string(sent), nc);
      REQUIRE(credentials.ok());
      return sb::sip::FormatCredentials(*credentials);
    };
    const Final registered =
        send(AsPhoneAgain(message, authorization(), 1, "." + name, false), 3s, "REGISTER", 300ms);
    CHECK(registered.code == 200);
    CHECK(registered.then == 0);
    if (registered.code == 200) CHECK(BoundIn(registered.text) == r.contacts);
    const Final fetched = send(
        AsPhoneAgain(message, authorization(), 2, "." + name + ".fetch", true), 3s, "REGISTER");
    CHECK(fetched.code == 200);
    if (fetched.code == 200) CHECK(BoundIn(fetched.text) == r.contacts);
    // Stored under the whole AOR (not cut at the %00).
    auto stored = platform.StoredContacts(tenant, "sip:" + r.user + "@example.com");
    CHECK(std::set<std::string>(stored.begin(), stored.end()) == r.contacts);
  };

  std::istringstream tsv(ReadFile(dir / "expectations.tsv"));
  std::string line;
  std::getline(tsv, line);
  while (std::getline(tsv, line)) {
    const std::string name = line.substr(0, line.find('\t'));
    if (name.empty()) continue;
    INFO("torture message " << name);
    auto it = Expected().find(name);
    REQUIRE(it != Expected().end());
    const std::set<int>& expected = transport == Transport::kUdp ? it->second.udp : it->second.tcp;
    const std::string message = ReadFile(dir / (name + ".dat"));
    auto registration = Registrations().find(name);
    const bool registers = registration != Registrations().end();
    // Silence is waited for briefly; an answer comes well within 3 s (admin lookups included).
    // A REGISTER's datagram draws one answer: dblreq's INVITE after it is ignored.
    const Final got = send(message, expected.contains(0) ? 300ms : 3s, registers ? "REGISTER" : "",
                           registers ? 300ms : 0ms);
    CAPTURE(got.code);
    CHECK(expected.contains(got.code));
    CHECK(got.then == 0);
    if (registers) register_as_phone(name, message, registration->second, got);
    CHECK(send(Options(sent), 3s).code == 200);
    REQUIRE(platform.SignalingRunning());
  }
}

}  // namespace

TEST_CASE("RFC 4475 torture messages over TCP get the named responses -- the node stays up",
          "[integration]") {
  RunTorture(Transport::kTcp);
}

TEST_CASE("RFC 4475 torture messages over UDP get the named responses -- the node stays up",
          "[integration]") {
  RunTorture(Transport::kUdp);
}
