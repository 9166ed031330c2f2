// The registrar end to end: the real sb-admin and sb-signaling binaries on a private NATS, the
// shared Redis and a fresh PostgreSQL database; the tenant and its extensions created through
// admin's gRPC API. Phones are sipp (digest MD5 from an injection file) and a small client here
// that answers challenges with sb::sip::AnswerChallenge (SHA-256, wrong passwords, floods from
// their own 127.0.0.x addresses).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "baresip_phone.h"
#include "platform.h"
#include "sipp_process.h"
#include "switchboard/redis/client.h"
#include "switchboard/signaling/v1/events.pb.h"
#include "switchboard/sip/digest.h"
#include "switchboard/sip/message.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/nats_connect.h"
#include "switchboard/testing/servers.h"

namespace {

using namespace std::chrono_literals;
using sb::signaling::test::Platform;
using sb::signaling::test::Sipp;

// A UDP phone on its own loopback address.
class Phone {
 public:
  Phone(std::string ip, uint16_t sip_port) : ip_(std::move(ip)), sip_port_(sip_port) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip_.c_str(), &a.sin_addr);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{.tv_sec = 3, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Phone() { close(fd_); }

  // Sends `request` and returns the first final response (provisional ones skipped).
  std::optional<sb::sip::Message> Transact(const std::string& request) {
    Send(request);
    return Await();
  }

  void Send(const std::string& request) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(sip_port_);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  // The next final response (provisional ones skipped); nullopt after 3 s without one.
  std::optional<sb::sip::Message> Await() {
    for (int i = 0; i < 5; ++i) {
      char buf[65536];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      auto parsed = sb::sip::Message::Parse(std::string_view(buf, static_cast<size_t>(n)));
      if (parsed.ok() && parsed->status_code() >= 200) return std::move(*parsed);
    }
    return std::nullopt;
  }

  std::string Register(const std::string& domain, const std::string& user, int expires,
                       const std::string& extra = {}) {
    ++cseq_;
    std::string m = "REGISTER sip:" + domain + " SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP " + ip_ + ":" + std::to_string(port_) + ";rport" + via_params_ +
         ";branch=z9hG4bK" + std::to_string(port_) + "x" + std::to_string(cseq_) + "\r\n";
    m += "Max-Forwards: 70\r\nFrom: <sip:" + user + "@" + domain + ">;tag=" + ip_ + "\r\n";
    m += "To: <sip:" + user + "@" + domain + ">\r\n";
    m += "Call-ID: reg-" + ip_ + "-" + std::to_string(port_) + "\r\n";
    m += "CSeq: " + std::to_string(cseq_) + " REGISTER\r\n";
    m += "Contact: <sip:" + user + "@" + ip_ + ":" + std::to_string(port_) + ">" + contact_params_ +
         "\r\n";
    m += "Expires: " + std::to_string(expires) + "\r\nUser-Agent: registrar-itest\r\n";
    m += extra;
    m += "Content-Length: 0\r\n\r\n";
    return m;
  }

  // REGISTER, answer the challenge for `algorithm` with `password`, return the final answer.
  std::optional<sb::sip::Message> RegisterWithDigest(const std::string& domain,
                                                     const std::string& user,
                                                     const std::string& password, int expires,
                                                     sb::sip::DigestAlgorithm algorithm,
                                                     const std::string& extra = {}) {
    auto challenge = Transact(Register(domain, user, expires, extra));
    if (!challenge || challenge->status_code() != 401) return challenge;
    return Transact(Answering(*challenge, domain, user, password, expires, algorithm, extra));
  }

  // The REGISTER that answers `challenge` (a 401) for `algorithm` with `password`, unsent.
  std::string Answering(const sb::sip::Message& challenge, const std::string& domain,
                        const std::string& user, const std::string& password, int expires,
                        sb::sip::DigestAlgorithm algorithm, const std::string& extra = {}) {
    for (size_t i = 0; i < challenge.header_count(); ++i) {
      auto field = challenge.header(i);
      if (field.id != sb::sip::HeaderId::kWwwAuthenticate) continue;
      auto c = sb::sip::ParseChallenge(field.value);
      if (!c.ok() || c->algorithm != algorithm) continue;
      auto creds = sb::sip::AnswerChallenge(*c, {.username = user, .password = password, .ha1 = {}},
                                            "REGISTER", "sip:" + domain, "",
                                            "cn" + std::to_string(cseq_), 1);
      REQUIRE(creds.ok());
      return Register(domain, user, expires,
                      extra + "Authorization: " + sb::sip::FormatCredentials(*creds) + "\r\n");
    }
    FAIL("no challenge for the algorithm");
    return {};
  }

  const std::string& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  // Appended to the Contact's name-addr (";+sip.instance=...;reg-id=1").
  void set_contact_params(std::string params) { contact_params_ = std::move(params); }
  // Appended to its Via's parameters (";received=..." that a proxy must overwrite).
  void set_via_params(std::string params) { via_params_ = std::move(params); }

 private:
  std::string ip_;
  uint16_t sip_port_;
  int fd_ = -1;
  uint16_t port_ = 0;
  uint32_t cseq_ = 0;
  std::string contact_params_;
  std::string via_params_;
};

// Waits (bounded) until sb-signaling answers a REGISTER; true once it does.
bool WaitForSignaling(Phone& phone, const std::string& domain) {
  for (int i = 0; i < 20; ++i) {
    if (phone.Transact(phone.Register(domain, "probe", 60))) return true;
  }
  return false;
}

int Code(const std::optional<sb::sip::Message>& m) { return m ? m->status_code() : 0; }

// `count` phones on 127.0.0.<first_ip> and up.
std::vector<std::unique_ptr<Phone>> Phones(int count, int first_ip, int sip_port) {
  std::vector<std::unique_ptr<Phone>> phones;
  for (int i = 0; i < count; ++i) {
    phones.push_back(std::make_unique<Phone>("127.0.0." + std::to_string(first_ip + i),
                                             static_cast<uint16_t>(sip_port)));
  }
  return phones;
}

// Phones that register `user` at the same moment: each takes its challenge, then (after
// `before_answers`) every answer is sent before any response is read, so the node reads them
// together and each one's view of the AOR comes from Redis before the others are saved. The
// phones' final answers, in order.
std::vector<int> RegisterTogether(const std::vector<Phone*>& phones, const std::string& domain,
                                  const std::string& user, const std::string& password,
                                  const std::function<void()>& before_answers = {}) {
  std::vector<std::string> answers;
  for (Phone* phone : phones) {
    auto challenge = phone->Transact(phone->Register(domain, user, 300));
    REQUIRE(Code(challenge) == 401);
    answers.push_back(
        phone->Answering(*challenge, domain, user, password, 300, sb::sip::DigestAlgorithm::kMd5));
  }
  if (before_answers) before_answers();
  for (size_t i = 0; i < phones.size(); ++i) phones[i]->Send(answers[i]);
  std::vector<int> codes;
  for (Phone* phone : phones) codes.push_back(Code(phone->Await()));
  return codes;
}

// The phones from `first` on.
std::vector<Phone*> From(const std::vector<std::unique_ptr<Phone>>& phones, size_t first) {
  std::vector<Phone*> out;
  for (size_t i = first; i < phones.size(); ++i) out.push_back(phones[i].get());
  return out;
}

std::string ContactOf(const Phone& phone, const std::string& user) {
  return "sip:" + user + "@" + phone.ip() + ":" + std::to_string(phone.port());
}

}  // namespace

TEST_CASE(
    "a phone whose address changed registers its instance again - its old binding is replaced - "
    "the 200 lists its instance and reg-id",
    "[integration]") {
  Platform p;
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  const std::string aor = "sip:1001@" + domain;
  const std::string flow =
      ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";reg-id=1";
  Phone before("127.0.0.33", static_cast<uint16_t>(p.sip_port()));
  Phone after("127.0.0.34", static_cast<uint16_t>(p.sip_port()));
  before.set_contact_params(flow);
  after.set_contact_params(flow);
  REQUIRE(WaitForSignaling(before, domain));

  REQUIRE(Code(before.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                         sb::sip::DigestAlgorithm::kMd5)) == 200);
  CHECK(p.StoredContacts(tenant, aor) ==
        std::vector<std::string>{"sip:1001@127.0.0.33:" + std::to_string(before.port())});
  auto moved = after.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                        sb::sip::DigestAlgorithm::kMd5);
  REQUIRE(Code(moved) == 200);
  const std::string contact = "sip:1001@127.0.0.34:" + std::to_string(after.port());
  CHECK(p.StoredContacts(tenant, aor) == std::vector<std::string>{contact});
  auto listed = moved->Header(sb::sip::HeaderId::kContact);
  REQUIRE(listed);
  CHECK(std::string(*listed) == "<" + contact + ">;expires=300" + flow);
}

TEST_CASE(
    "phones of one address of record whose REGISTERs arrive together are all stored - each "
    "request writes only the bindings it changes",
    "[integration]") {
  Platform p;
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  const std::string aor = "sip:1001@" + domain;
  const auto phones = Phones(8, 60, p.sip_port());
  REQUIRE(WaitForSignaling(*phones[0], domain));
  // Before the fix, 3 to 6 of the 8 were lost in every run.
  CHECK(RegisterTogether(From(phones, 0), domain, "1001", "pass-1001-secret") ==
        std::vector<int>(8, 200));
  std::vector<std::string> expected;
  for (auto& phone : phones) expected.push_back(ContactOf(*phone, "1001"));
  auto stored = p.StoredContacts(tenant, aor);
  std::sort(stored.begin(), stored.end());
  std::sort(expected.begin(), expected.end());
  CHECK(stored == expected);

  // One of them leaves: only its binding goes.
  auto gone = phones[3]->RegisterWithDigest(domain, "1001", "pass-1001-secret", 0,
                                            sb::sip::DigestAlgorithm::kMd5);
  REQUIRE(Code(gone) == 200);
  CHECK(p.StoredContacts(tenant, aor).size() == phones.size() - 1);
}

TEST_CASE(
    "phones of one address of record that register together cannot take it past its 10 bindings "
    "- the ones that found no room are answered 403 and store nothing",
    "[integration]") {
  // A Redis of its own, held while the answers arrive so that every one reads the AOR before
  // any is saved, whatever the machine's speed.
  auto redis = sb::testing::RedisServer::Start();
  Platform p({.signaling_env = {{"SB_REDIS_URL", redis.url()}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  const std::string aor = "sip:1001@" + domain;
  const auto phones = Phones(12, 70, p.sip_port());
  REQUIRE(WaitForSignaling(*phones[0], domain));
  // The first registers alone, so that the node has the credentials and decides the others on
  // its SIP loop, all at once.
  REQUIRE(Code(phones[0]->RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                             sb::sip::DigestAlgorithm::kMd5)) == 200);
  auto options = sb::redis::OptionsFromUrl(redis.url());
  REQUIRE(options.ok());
  sb::redis::Client held(*options);
  // Each of the other 11 reads the AOR with room to spare; before the fix all were stored.
  const std::vector<Phone*> others = From(phones, 1);
  const std::vector<int> codes = RegisterTogether(others, domain, "1001", "pass-1001-secret", [&] {
    REQUIRE(held.Run(sb::redis::Command("CLIENT").Arg("PAUSE").Arg(int64_t{300})).ok());
  });
  CHECK(std::count(codes.begin(), codes.end(), 200) == 9);
  CHECK(std::count(codes.begin(), codes.end(), 403) == 2);
  std::vector<std::string> admitted = {ContactOf(*phones[0], "1001")};
  for (size_t i = 0; i < others.size(); ++i) {
    if (codes[i] == 200) admitted.push_back(ContactOf(*others[i], "1001"));
  }
  auto stored = p.StoredContacts(tenant, aor);
  std::sort(stored.begin(), stored.end());
  std::sort(admitted.begin(), admitted.end());
  CHECK(stored == admitted);

  // Room made by one that leaves is taken by one that was refused.
  const auto refused = std::find(codes.begin(), codes.end(), 403);
  REQUIRE(refused != codes.end());
  CHECK(Code(phones[0]->RegisterWithDigest(domain, "1001", "pass-1001-secret", 0,
                                           sb::sip::DigestAlgorithm::kMd5)) == 200);
  CHECK(Code(others[static_cast<size_t>(refused - codes.begin())]->RegisterWithDigest(
            domain, "1001", "pass-1001-secret", 300, sb::sip::DigestAlgorithm::kMd5)) == 200);
  CHECK(p.StoredContacts(tenant, aor).size() == 10);
}

TEST_CASE("phones register with digest / refresh / unregister / wrong password and unknown domain",
          "[integration]") {
  Platform p;
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  p.CreateExtension(tenant, "1002", "pass-1002-secret");
  const std::string domain = tenant.sip_domain();
  Phone phone("127.0.0.31", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(phone, domain));

  // MD5 and SHA-256 (RFC 8760) both register; the 200 lists the binding.
  auto md5 = phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                      sb::sip::DigestAlgorithm::kMd5);
  REQUIRE(Code(md5) == 200);
  auto contact = md5->Header(sb::sip::HeaderId::kContact);
  REQUIRE(contact.has_value());
  CHECK(contact->find("127.0.0.31") != std::string_view::npos);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).size() == 1);

  Phone other("127.0.0.32", static_cast<uint16_t>(p.sip_port()));
  auto sha = other.RegisterWithDigest(domain, "1002", "pass-1002-secret", 300,
                                      sb::sip::DigestAlgorithm::kSha256,
                                      "Path: <sip:lb.regtest.example;lr>\r\nSupported: path\r\n");
  REQUIRE(Code(sha) == 200);
  auto path = sha->Header(sb::sip::HeaderId::kPath);
  REQUIRE(path.has_value());
  CHECK(*path == "<sip:lb.regtest.example;lr>");

  // A refresh keeps one binding.
  auto refresh = phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                          sb::sip::DigestAlgorithm::kMd5);
  CHECK(Code(refresh) == 200);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).size() == 1);

  // Too short an expiry: 423 with Min-Expires.
  auto brief = phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 5,
                                        sb::sip::DigestAlgorithm::kMd5);
  CHECK(Code(brief) == 423);
  CHECK(brief->Header(sb::sip::HeaderId::kMinExpires).has_value());

  // Un-register: expires 0 removes the binding.
  auto gone = phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 0,
                                       sb::sip::DigestAlgorithm::kMd5);
  CHECK(Code(gone) == 200);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).empty());

  // A wrong password is 403 and stores nothing.
  Phone guesser("127.0.0.33", static_cast<uint16_t>(p.sip_port()));
  auto wrong = guesser.RegisterWithDigest(domain, "1001", "not-the-password", 300,
                                          sb::sip::DigestAlgorithm::kMd5);
  CHECK(Code(wrong) == 403);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).empty());

  // A domain no tenant has: 404 before any challenge.
  auto unknown = phone.Transact(phone.Register("nobody." + p.platform_domain(), "1001", 300));
  CHECK(Code(unknown) == 404);
}

TEST_CASE(
    "a nonce answered at another replica is re-challenged stale - the phone registers with that "
    "replica's own nonce, and the first replica still takes its nonce",
    "[integration]") {
  Platform p({.media = true});  // a replica is ready once it hears a media node
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  const int second = p.AddSignalingReplica();
  Phone at_first("127.0.0.41", static_cast<uint16_t>(p.sip_port()));
  Phone at_second("127.0.0.42", static_cast<uint16_t>(second));
  REQUIRE(WaitForSignaling(at_first, domain));
  REQUIRE(WaitForSignaling(at_second, domain));

  // The first replica's challenge, answered to the second one (as when the set of replicas
  // changed between them): a right answer, but not a nonce the second one counts.
  auto challenge = at_first.Transact(at_first.Register(domain, "1001", 300));
  REQUIRE(Code(challenge) == 401);
  const std::string answer = at_first.Answering(*challenge, domain, "1001", "pass-1001-secret", 300,
                                                sb::sip::DigestAlgorithm::kMd5);
  auto stale = at_second.Transact(answer);
  REQUIRE(Code(stale) == 401);
  auto www = stale->Header(sb::sip::HeaderId::kWwwAuthenticate);
  REQUIRE(www.has_value());
  auto restated = sb::sip::ParseChallenge(*www);
  REQUIRE(restated.ok());
  CHECK(restated->stale);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).empty());

  // Its own nonce registers there; the first replica's nonce, unspent, still registers there.
  auto registered = at_second.Transact(at_second.Answering(
      *stale, domain, "1001", "pass-1001-secret", 300, sb::sip::DigestAlgorithm::kMd5));
  CHECK(Code(registered) == 200);
  CHECK(Code(at_first.Transact(answer)) == 200);
  // Count 1 of the first nonce is spent now: the same answer again, in a new transaction (not a
  // retransmission, which the transaction absorbs), is a replay.
  std::string replay = answer;
  const size_t branch = replay.find(";branch=z9hG4bK");
  REQUIRE(branch != std::string::npos);
  replay.insert(branch + 15, "replay");
  auto replayed = at_first.Transact(replay);
  REQUIRE(Code(replayed) == 401);
  auto again = sb::sip::ParseChallenge(*replayed->Header(sb::sip::HeaderId::kWwwAuthenticate));
  REQUIRE(again.ok());
  CHECK(again->stale);
}

TEST_CASE("a suspended tenant's phones are refused with 403 once admin's event arrives",
          "[integration]") {
  // The node keeps admin's answers far longer than this test runs: only the event can end them.
  Platform p({.signaling_env = {{"SB_SIGNALING_ADMIN_CACHE_MS", "600000"}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  Phone phone("127.0.0.34", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(phone, tenant.sip_domain()));
  REQUIRE(Code(phone.RegisterWithDigest(tenant.sip_domain(), "1001", "pass-1001-secret", 300,
                                        sb::sip::DigestAlgorithm::kMd5)) == 200);
  p.Suspend(tenant);
  int code = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (code != 403 && std::chrono::steady_clock::now() < deadline) {
    code = Code(phone.Transact(phone.Register(tenant.sip_domain(), "1001", 300)));
    if (code != 403) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(code == 403);
}

TEST_CASE("sipp registers with MD5 digest from an injection file", "[integration]") {
  Platform p;
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  Phone probe("127.0.0.35", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(probe, domain));

  const auto csv = p.dir() / "users.csv";
  std::ofstream(csv) << "SEQUENTIAL\n1001;" << domain << ";pass-1001-secret\n";
  // bench/signaling's REGISTER scenario: 401, the answer from the injection file, 200.
  auto sipp = Sipp::Start(
      "register", {"-sf", SB_SIPP_REGISTER_SCENARIO, "127.0.0.1:" + std::to_string(p.sip_port()),
                   "-inf", csv.string(), "-i", "127.0.0.36", "-p",
                   std::to_string(sb::testing::FreePort()), "-auth_uri", domain, "-m", "1"});
  const int rc = sipp.Wait();
  INFO(sipp.Report());
  CHECK(rc == 0);
  auto stored = p.StoredContacts(tenant, "sip:1001@" + domain);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].find("127.0.0.36") != std::string::npos);
}

// 14 bad REGISTERs from `attacker_ip` sent to `port` (sb-signaling's, or a balancer's in front of
// it), their Via claiming to have been received from the phone's address: the attacker's address
// is banned at the 10th, and then refused even with the right password; the phone at `phone_ip`
// still registers.
void CheckFloodBanned(Platform& p, uint16_t port, const std::string& attacker_ip,
                      const std::string& phone_ip) {
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  p.CreateExtension(tenant, "1002", "pass-1002-secret");
  const std::string domain = tenant.sip_domain();
  Phone attacker(attacker_ip, port);
  attacker.set_via_params(";received=" + phone_ip);
  Phone phone(phone_ip, port);
  REQUIRE(WaitForSignaling(phone, domain));

  // The default policy bans at the 10th failure within 5 minutes.
  std::vector<int> codes;
  std::string last_reason;
  for (int i = 0; i < 14; ++i) {
    auto r = attacker.RegisterWithDigest(domain, "1001", "guess-" + std::to_string(i), 300,
                                         sb::sip::DigestAlgorithm::kMd5);
    codes.push_back(Code(r));
    if (r) last_reason = std::string(r->reason_phrase());
  }
  CHECK(std::count(codes.begin(), codes.begin() + 10, 403) == 10);
  CHECK(last_reason == "Forbidden (banned)");
  // Banned means banned: not even the right password gets through from there, nor a challenge.
  auto right = attacker.Transact(attacker.Register(domain, "1001", 300));
  CHECK(Code(right) == 403);

  auto ok = phone.RegisterWithDigest(domain, "1002", "pass-1002-secret", 300,
                                     sb::sip::DigestAlgorithm::kSha256);
  CHECK(Code(ok) == 200);
  CHECK(p.StoredContacts(tenant, "sip:1002@" + domain).size() == 1);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).empty());
  auto redis = p.Redis();
  CHECK(redis->Run(sb::redis::Command("EXISTS").Key("ban:" + attacker_ip))->integer() == 1);
  CHECK(redis->Run(sb::redis::Command("EXISTS").Key("ban:" + phone_ip))->integer() == 0);
}

TEST_CASE("a flood of bad REGISTERs from one address is banned / a phone elsewhere registers",
          "[integration]") {
  Platform p;
  CheckFloodBanned(p, static_cast<uint16_t>(p.sip_port()), "127.0.0.20", "127.0.0.21");
}

TEST_CASE(
    "through the Kamailio balancer - the flooding phone's address is banned, not the balancer's "
    "- a phone behind the same balancer registers",
    "[integration]") {
  // Every request reaches the replica from the balancer (127.0.0.1); its Via stamp names the
  // phone. Without trusting it the 10th failure would ban the balancer, and every phone with it.
  Platform p({.signaling_env = {{"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1/32"}}});
  auto balancer = sb::signaling::test::StartBalancer({p.sip_port()});
  CheckFloodBanned(p, static_cast<uint16_t>(balancer.port()), "127.0.0.23", "127.0.0.24");
  auto redis = p.Redis();
  CHECK(redis->Run(sb::redis::Command("EXISTS").Key("ban:127.0.0.1"))->integer() == 0);
}

TEST_CASE(
    "through the Kamailio balancer an account over its limit is refused to its phone only - the "
    "replica stays in and another phone registers",
    "[integration]") {
  // The replica answers the account's extra REGISTERs 503. The balancer used to take a replica
  // that answered 503 out of its set until the next probe, so one phone over its account's limit
  // (wrong passwords are counted too) had every phone answered "503 No Signaling Replica".
  Platform p({.signaling_env = {{"SB_SIGNALING_TRUSTED_PROXIES", "127.0.0.1/32"},
                                {"SB_SIGNALING_ACCOUNT_LIMIT", "3"}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  p.CreateExtension(tenant, "1002", "pass-1002-secret");
  const std::string domain = tenant.sip_domain();
  auto balancer = sb::signaling::test::StartBalancer({p.sip_port()});
  Phone guesser("127.0.0.27", static_cast<uint16_t>(balancer.port()));
  Phone phone("127.0.0.28", static_cast<uint16_t>(balancer.port()));
  REQUIRE(WaitForSignaling(phone, domain));

  std::string codes;
  for (int i = 0; i < 5; ++i) {
    codes += std::to_string(Code(guesser.RegisterWithDigest(domain, "1001", "guess", 300,
                                                            sb::sip::DigestAlgorithm::kMd5))) +
             " ";
  }
  // The replica's 503 reaches the phone as 500 (a proxy does not relay 503, RFC 3261 §16.7).
  CHECK(codes == "403 403 403 500 500 ");
  for (int i = 0; i < 3; ++i) {
    CHECK(Code(phone.RegisterWithDigest(domain, "1002", "pass-1002-secret", 300,
                                        sb::sip::DigestAlgorithm::kMd5)) == 200);
  }
  CHECK(p.StoredContacts(tenant, "sip:1002@" + domain).size() == 1);
  CHECK(balancer.ReadLog().find("sb-lb replica down") == std::string::npos);
}

TEST_CASE(
    "once Redis has found a phone's address not banned its next challenges come from the loop",
    "[integration]") {
  Platform p;
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  Phone phone("127.0.0.22", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(phone, domain));
  const std::string sample = "sb_signaling_register_loop_challenges_total";
  const double before = p.Metric(sample);
  REQUIRE(before >= 0);
  for (int i = 0; i < 3; ++i) {
    CHECK(Code(phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                        sb::sip::DigestAlgorithm::kMd5)) == 200);
  }
  // The first challenge asked Redis; the next ones did not (within 2 s of that check).
  CHECK(p.Metric(sample) >= before + 1);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).size() == 1);
}

TEST_CASE("baresip registers through sb-signaling with digest", "[integration]") {
  // baresip 1.0 (libre) fails on a SHA-256 challenge (ENOSYS) instead of answering the MD5 one,
  // so this node offers MD5 only, as a deployment with such phones would.
  Platform p({.signaling_env = {{"SB_SIGNALING_DIGEST_ALGORITHMS", "md5"}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  Phone probe("127.0.0.38", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(probe, domain));

  sb::signaling::test::BaresipPhone baresip(
      {.ip = "127.0.0.37",
       .user = "1001",
       .password = "pass-1001-secret",
       .domain = domain,
       .outbound = "127.0.0.1:" + std::to_string(p.sip_port()),
       .lifetime = 20s});
  std::vector<std::string> stored;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (stored.empty() && std::chrono::steady_clock::now() < deadline) {
    stored = p.StoredContacts(tenant, "sip:1001@" + domain);
    if (stored.empty()) std::this_thread::sleep_for(100ms);
  }
  INFO(baresip.ReadLog());
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].find("127.0.0.37") != std::string::npos);
}

TEST_CASE("a REGISTER whose domain and credentials the node has cached is decided on the SIP loop",
          "[integration][loop]") {
  Platform p;
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  const std::string aor = "sip:1001@" + domain;
  Phone phone("127.0.0.46", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(phone, domain));
  const std::string loop = "sb_signaling_register_loop_total";
  const std::string ok = "sb_signaling_register_total{result=\"ok\"}";

  // The first pair asks admin for the credentials (a worker); the node keeps the answer.
  REQUIRE(Code(phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                        sb::sip::DigestAlgorithm::kMd5)) == 200);
  const double loop_before = p.Metric(loop);
  const double ok_before = p.Metric(ok);
  REQUIRE(loop_before >= 0);

  // A refresh from a second address: both bindings listed, as the worker path lists them.
  Phone desk("127.0.0.47", static_cast<uint16_t>(p.sip_port()));
  auto second = desk.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                        sb::sip::DigestAlgorithm::kMd5);
  REQUIRE(Code(second) == 200);
  CHECK(p.Metric(loop) == loop_before + 1);
  CHECK(p.Metric(ok) == ok_before + 1);
  auto stored = p.StoredContacts(tenant, aor);
  std::sort(stored.begin(), stored.end());
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].find("127.0.0.46") != std::string::npos);
  CHECK(stored[1].find("127.0.0.47") != std::string::npos);
  size_t contacts = 0;
  for (size_t i = 0; i < second->header_count(); ++i) {
    if (second->header(i).id == sb::sip::HeaderId::kContact) ++contacts;
  }
  CHECK(contacts == 2);

  // The bindings rules answer the same on the loop: 423, then an un-register.
  auto brief = desk.RegisterWithDigest(domain, "1001", "pass-1001-secret", 5,
                                       sb::sip::DigestAlgorithm::kMd5);
  CHECK(Code(brief) == 423);
  CHECK(brief->Header(sb::sip::HeaderId::kMinExpires).has_value());
  CHECK(Code(desk.RegisterWithDigest(domain, "1001", "pass-1001-secret", 0,
                                     sb::sip::DigestAlgorithm::kMd5)) == 200);
  CHECK(p.StoredContacts(tenant, aor).size() == 1);

  // A wrong password is refused on the loop too, and stores nothing.
  Phone guesser("127.0.0.48", static_cast<uint16_t>(p.sip_port()));
  CHECK(Code(guesser.RegisterWithDigest(domain, "1001", "not-the-password", 300,
                                        sb::sip::DigestAlgorithm::kMd5)) == 403);
  CHECK(p.StoredContacts(tenant, aor).size() == 1);
  CHECK(p.Metric(loop) == loop_before + 4);
}

TEST_CASE("a REGISTER on the loop that Redis fails is answered 503 - once Redis is back 200",
          "[integration][loop]") {
  auto redis = sb::testing::RedisServer::Start();
  Platform p({.signaling_env = {{"SB_REDIS_URL", redis.url()}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  Phone phone("127.0.0.49", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(phone, domain));
  auto register_once = [&] {
    return Code(phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", 300,
                                         sb::sip::DigestAlgorithm::kMd5));
  };
  REQUIRE(register_once() == 200);
  REQUIRE(register_once() == 200);  // the node has the credentials now: this one is on the loop
  const double loop_before = p.Metric("sb_signaling_register_loop_total");
  const double unavailable_before = p.Metric("sb_signaling_register_total{result=\"unavailable\"}");

  SECTION("Redis killed, then started again") {
    redis.Kill();
    CHECK(register_once() == 503);
    redis.Restart();
  }
  SECTION("Redis holding every command past the node's 2 s timeout") {
    auto options = sb::redis::OptionsFromUrl(redis.url());
    REQUIRE(options.ok());
    sb::redis::Client admin(*options);
    REQUIRE(admin.Run(sb::redis::Command("CLIENT").Arg("PAUSE").Arg(int64_t{2500})).ok());
    const auto start = std::chrono::steady_clock::now();
    CHECK(register_once() == 503);
    CHECK(std::chrono::steady_clock::now() - start < 2500ms);
    std::this_thread::sleep_for(600ms);  // the pause is over
  }
  CHECK(p.Metric("sb_signaling_register_loop_total") > loop_before);
  CHECK(p.Metric("sb_signaling_register_total{result=\"unavailable\"}") > unavailable_before);

  // The node reconnects in the background: a loaded machine may take a few seconds.
  int code = 0;
  for (int i = 0; i < 30 && code != 200; ++i) {
    if (i > 0) std::this_thread::sleep_for(200ms);
    code = register_once();
  }
  CHECK(code == 200);
  CHECK(p.SignalingRunning());
}

TEST_CASE(
    "an un-REGISTER whose replica dies before JetStream has its event is reported by another "
    "replica",
    "[integration]") {
  // A short lease and sweep so that the survivor reports it within seconds; admin's answers
  // kept, so that the REGISTER needs no NATS. The media node makes the replicas ready.
  Platform p({.media = true,
              .signaling_env = {{"SB_SIGNALING_SWEEP_LEASE_MS", "3000"},
                                {"SB_SIGNALING_LAPSE_SWEEP_MS", "500"},
                                {"SB_SIGNALING_ADMIN_CACHE_MS", "600000"}}});
  auto tenant = p.CreateTenant();
  p.CreateExtension(tenant, "1001", "pass-1001-secret");
  const std::string domain = tenant.sip_domain();
  Phone phone("127.0.0.51", static_cast<uint16_t>(p.sip_port()));
  REQUIRE(WaitForSignaling(phone, domain));
  auto register_for = [&](int expires) {
    return Code(phone.RegisterWithDigest(domain, "1001", "pass-1001-secret", expires,
                                         sb::sip::DigestAlgorithm::kMd5));
  };
  REQUIRE(register_for(300) == 200);
  p.AddSignalingReplica();

  // JetStream away: the node stores the un-registration and answers 200 after its publish times
  // out; then it dies, with whatever its NATS client still buffered.
  p.nats().Stop();
  CHECK(register_for(0) == 200);
  CHECK(p.StoredContacts(tenant, "sip:1001@" + domain).empty());
  p.KillSignaling(p.sip_port());
  p.nats().Restart();

  auto bus = sb::testing::ConnectNats(p.nats_url(), "registrar-itest");
  sb::testing::EventInbox unregistered(*bus, "sb.evt.registration.unregistered." + tenant.id(),
                                       sb::testing::EventInbox::FromStream{"SB_EVENTS"});
  auto stored = unregistered.AtLeast<switchboard::signaling::v1::Unregistered>(1, 20s);
  REQUIRE(!stored.empty());
  CHECK(stored[0].aor() == "sip:1001@" + domain);
  CHECK(stored[0].contact().find("127.0.0.51") != std::string::npos);
  CHECK(stored[0].reason() == switchboard::signaling::v1::UNREGISTER_REASON_CLIENT);
  // Built by the node that died, sent by the survivor's sweep: once.
  std::this_thread::sleep_for(2s);
  CHECK(unregistered.All<switchboard::signaling::v1::Unregistered>().size() == 1);
}
