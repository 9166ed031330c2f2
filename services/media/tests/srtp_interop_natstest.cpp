// SRTP against an independent implementation: baresip (Debian's 1.0, whose srtp module is libre's
// own SRTP, not libsrtp) calls a small SIP UAS written here with libs/sip, which hands baresip's
// SDP offer (RTP/SAVP, a=crypto SDES) to a real media node over NATS and answers with the node's
// SDP. A UDP relay between the two keeps copies of baresip's SRTP packets so that the test can
// replay them at the node.
//
//   baresip (ausine 1 kHz, sndfile dumps what it decodes)
//      │ SIP/UDP                       │ SRTP
//      ▼                               ▼
//   UAS (this test) ─ create_leg ─▶  relay (this test) ◀──▶ media node (play 600 Hz, record)
//
// Audio must arrive decrypted both ways (the tone frequencies are measured), replayed SRTP
// packets are dropped and counted while the call goes on, and baresip's RFC 4733 digit (in SRTP)
// is reported by the node.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>

#include "node_fixture.h"
#include "switchboard/codec/wav.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"
#include "switchboard/testing/child_process.h"
#include "switchboard/testing/servers.h"
#include "test_util.h"

namespace sb::media {
namespace {

using test::Clock;
using test::NodeFixture;
namespace v1 = switchboard::media::v1;
using namespace std::chrono_literals;

using testing::UdpSocket;

// Forwards datagrams between baresip's RTP port and the node's leg port, keeping the first
// packets baresip sent for a replay.
class Relay {
 public:
  Relay() = default;
  ~Relay() { Stop(); }

  uint16_t port() const { return socket_.port(); }

  void Start(uint16_t phone_port, uint16_t node_port) {
    phone_port_ = phone_port;
    node_port_ = node_port;
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Sends the kept packets of baresip to the node again, from the relay's (latched) address.
  size_t ReplayToNode() {
    std::lock_guard lock(mu_);
    for (const auto& p : kept_) socket_.SendTo(node_port_, p);
    return kept_.size();
  }

  uint64_t to_node() const { return to_node_; }
  uint64_t to_phone() const { return to_phone_; }
  std::vector<size_t> sizes_to_phone() {
    std::lock_guard lock(mu_);
    return sizes_to_phone_;
  }

 private:
  static constexpr size_t kKeep = 20;

  void Run() {
    while (!stop_) {
      auto got = socket_.Receive(20ms);
      if (!got) continue;
      const auto& data = got->data;
      const uint16_t from = got->port;
      if (from == node_port_) {
        socket_.SendTo(phone_port_, data);
        std::lock_guard lock(mu_);
        if (sizes_to_phone_.size() < 100) sizes_to_phone_.push_back(data.size());
        ++to_phone_;
      } else if (from == phone_port_) {
        socket_.SendTo(node_port_, data);
        std::lock_guard lock(mu_);
        // Skip the first packets, which may come before the node latched; keep later RTP.
        if (to_node_ >= 10 && kept_.size() < kKeep && rtp::LooksLikeRtp(data)) {
          kept_.push_back(data);
        }
        ++to_node_;
      }
    }
  }

  UdpSocket socket_;
  uint16_t phone_port_ = 0;
  uint16_t node_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> to_node_{0};
  std::atomic<uint64_t> to_phone_{0};
  std::mutex mu_;
  std::vector<std::vector<uint8_t>> kept_;
  std::vector<size_t> sizes_to_phone_;
  std::thread thread_;
};

// The SDP with its audio port replaced (the relay stands in for both ends).
std::string WithAudioPort(const std::string& sdp, uint16_t port, uint16_t* old_port = nullptr) {
  auto at = sdp.find("m=audio ");
  REQUIRE(at != std::string::npos);
  at += 8;
  auto end = sdp.find(' ', at);
  if (old_port != nullptr) *old_port = static_cast<uint16_t>(std::stoi(sdp.substr(at, end - at)));
  return sdp.substr(0, at) + std::to_string(port) + sdp.substr(end);
}

void WriteBaresipConfig(const std::filesystem::path& dir, uint16_t sip_port, uint16_t cons_port) {
  std::filesystem::create_directories(dir / "dump");
  std::ofstream config(dir / "config");
  config << "poll_method epoll\n"
         << "sip_listen 127.0.0.1:" << sip_port << "\n"
         << "net_interface 127.0.0.1\n"
         // ausine is a 48 kHz stereo sine source; baresip resamples it for PCMU.
         << "audio_source ausine,1000\n"
         << "ausrc_srate 48000\n"
         << "ausrc_channels 2\n"
         << "audio_player aubridge,none\n"
         << "audio_alert aubridge,none\n"
         << "module_path /usr/lib/baresip/modules\n"
         << "module g711.so\nmodule ausine.so\nmodule aubridge.so\n"
         << "module sndfile.so\nmodule srtp.so\n"
         // A UDP console: a datagram with a digit is a key press, which baresip sends as an
         // RFC 4733 event during a call.
         << "module cons.so\ncons_listen 127.0.0.1:" << cons_port << "\n"
         << "module_app account.so\nmodule_app menu.so\n"
         << "snd_path " << (dir / "dump").string() << "\n";
  std::ofstream accounts(dir / "accounts");
  // srtp-mand: baresip refuses a call without SRTP, so plain RTP cannot pass for success.
  accounts << "<sip:tester@127.0.0.1>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU\n";
  std::ofstream(dir / "contacts").flush();
}

TEST_CASE("baresip and the node exchange SRTP audio both ways and replays are dropped",
          "[natstest][srtp][interop]") {
  NodeFixture f;
  const std::filesystem::path dir = f.recordings / "baresip";
  UdpSocket sip;
  // baresip listens for SIP on UDP and TCP, and over TLS on the port above: a port only UDP found
  // free may be some other test's TCP port, and then baresip exits.
  const auto baresip_sip_port = static_cast<uint16_t>(testing::FreePort(1));
  const auto baresip_cons_port = static_cast<uint16_t>(testing::FreePort());
  WriteBaresipConfig(dir, baresip_sip_port, baresip_cons_port);
  test::EventInbox dtmf(*f.bus, f.EventPattern("dtmf"));
  Relay relay;
  // The config folder becomes the process's: its log lands there (baresip.log).
  auto phone =
      testing::ChildProcess::Start({"baresip", "-f", dir.string(), "-e",
                                    "/dial sip:media@127.0.0.1:" + std::to_string(sip.port())},
                                   {}, "baresip", dir);
  INFO("baresip log: " << phone.log().string());

  // The INVITE (retransmissions are answered again below).
  std::optional<sip::Message> invite;
  for (auto deadline = Clock::now() + 10s; !invite && Clock::now() < deadline;) {
    auto got = sip.Receive(100ms);
    if (!got) continue;
    auto parsed = sip::Message::Parse(got->text());
    if (parsed.ok() && parsed->is_request() && parsed->method() == sip::Method::kInvite) {
      invite = std::move(*parsed);
    }
  }
  if (!invite) {
    FAIL("no INVITE from baresip in 10 s; it " << (phone.Running() ? "runs" : "has exited")
                                               << "; its log:\n"
                                               << phone.ReadLog());
  }
  const std::string offer(invite->body());
  INFO("offer:\n" << offer);
  REQUIRE(offer.find("RTP/SAVP") != std::string::npos);
  REQUIRE(offer.find("a=crypto:") != std::string::npos);
  uint16_t phone_rtp_port = 0;
  const std::string relayed_offer = WithAudioPort(offer, relay.port(), &phone_rtp_port);

  v1::CreateLegRequest create;
  create.set_tenant_id(f.tenant);
  create.set_call_id(std::string(*invite->Header("Call-ID")));
  create.set_leg_id("baresip");
  create.set_sdp_type(v1::SDP_TYPE_OFFER);
  create.set_sdp(relayed_offer);
  auto leg = f.Command<v1::LegReply>(ops::kCreateLeg, create);
  INFO(leg.error().message());
  REQUIRE(leg.error().code() == 0);
  INFO("answer:\n" << leg.sdp());
  CHECK(leg.sdp().find("RTP/SAVP") != std::string::npos);
  CHECK(leg.sdp().find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") != std::string::npos);
  uint16_t node_port = 0;
  const std::string answer = WithAudioPort(leg.sdp(), relay.port(), &node_port);
  relay.Start(phone_rtp_port, node_port);

  auto ok = sip::MakeResponse(*invite, 200, {}, "uas-1");
  ok.AddHeader("Contact", "<sip:media@127.0.0.1:" + std::to_string(sip.port()) + ">");
  ok.SetBody(answer, "application/sdp");
  const std::string ok_text = ok.Build();
  sip.SendTo(baresip_sip_port, ok_text);

  // The node plays 600 Hz to baresip and records what baresip sends (its 1 kHz sine).
  v1::PlayRequest play;
  play.set_leg_id("baresip");
  play.mutable_tone()->add_frequencies_hz(600);
  REQUIRE(f.Command<v1::PlayReply>(ops::kPlay, play).error().code() == 0);
  v1::RecordStartRequest record;
  record.set_leg_id("baresip");
  record.set_recording_id("from-baresip");
  auto recording = f.Command<v1::RecordStartReply>(ops::kRecordStart, record);
  REQUIRE(recording.error().code() == 0);

  // Media flows both ways through the relay (SIP retransmissions of the 200 until the ACK).
  auto wait_for = [&](const std::function<bool()>& done, std::chrono::seconds limit) {
    for (auto deadline = Clock::now() + limit; Clock::now() < deadline;) {
      if (done()) return true;
      if (auto got = sip.Receive(20ms)) {
        auto m = sip::Message::Parse(got->text());
        if (m.ok() && m->is_request() && m->method() == sip::Method::kInvite) {
          sip.SendTo(baresip_sip_port, ok_text);
        }
      }
    }
    return done();
  };
  const bool flowing =
      wait_for([&] { return relay.to_node() >= 100 && relay.to_phone() >= 100; }, 15s);
  if (!flowing) {
    FAIL("to node " << relay.to_node() << ", to baresip " << relay.to_phone()
                    << "; baresip's log:\n"
                    << phone.ReadLog());
  }

  auto dropped = [&](const char* reason) {
    return f.metrics.Counter("sb_media_packets_dropped_total", "", {{"reason", reason}}).value();
  };
  const size_t replayed = relay.ReplayToNode();
  REQUIRE(replayed == 20);
  CHECK(wait_for([&] { return dropped("srtp_replay") >= 20; }, 5s));
  CHECK(dropped("srtp_replay") == 20);
  CHECK(dropped("srtp_auth") == 0);
  // The call goes on after the replay.
  const uint64_t before = relay.to_node();
  CHECK(wait_for([&] { return relay.to_node() >= before + 50; }, 5s));

  // A key press on baresip's console goes out as RFC 4733 in SRTP; the node reports the digit.
  // The key, then its release (baresip's KEYCODE_REL, 0x04), which ends the event.
  sip.SendTo(baresip_cons_port, std::string_view("7"));
  sip.SendTo(baresip_cons_port, std::string_view("\x04"));
  auto digit = dtmf.Wait<v1::DtmfEvent>(
      [](const v1::DtmfEvent& e, const bus::Message&) { return e.leg().leg_id() == "baresip"; },
      std::chrono::seconds(5));
  if (!digit) FAIL("no dtmf event; baresip's log:\n" << phone.ReadLog());
  CHECK(digit->digit() == "7");
  CHECK(digit->source() == v1::DTMF_SOURCE_RFC4733);

  v1::RecordStopRequest stop;
  stop.set_leg_id("baresip");
  REQUIRE(f.Command<v1::Ack>(ops::kRecordStop, stop).error().code() == 0);

  // Hang up from our side; baresip answers the BYE.
  auto bye = sip::MessageBuilder::Request(
      "BYE", "sip:tester@127.0.0.1:" + std::to_string(baresip_sip_port));
  bye.AddHeader("Via",
                "SIP/2.0/UDP 127.0.0.1:" + std::to_string(sip.port()) + ";branch=z9hG4bK-bye-1")
      .AddHeader("Max-Forwards", "70")
      .AddHeader("From", std::string(*ok.GetHeader("To")))
      .AddHeader("To", std::string(*invite->Header("From")))
      .AddHeader("Call-ID", std::string(*invite->Header("Call-ID")))
      .AddHeader("CSeq", "1 BYE");
  sip.SendTo(baresip_sip_port, bye.Build());
  bool bye_answered = false;
  for (auto deadline = Clock::now() + 5s; !bye_answered && Clock::now() < deadline;) {
    auto got = sip.Receive(100ms);
    if (!got) continue;
    auto m = sip::Message::Parse(got->text());
    bye_answered = m.ok() && m->is_response() && m->status_code() == 200 &&
                   m->Header("CSeq")->find("BYE") != std::string_view::npos;
  }
  CHECK(bye_answered);
  relay.Stop();
  // SIGTERM: baresip hangs up and flushes its dumps before it exits.
  phone.Signal(SIGTERM);
  REQUIRE(phone.WaitExit(5s) == 0);

  // What the node sent was SRTP: 12-byte header, 160 bytes of PCMU, a 10-byte tag (RTCP is
  // not relayed: no rtcp-mux in baresip's offer).
  auto sizes = relay.sizes_to_phone();
  REQUIRE_FALSE(sizes.empty());
  CHECK(static_cast<size_t>(std::count(sizes.begin(), sizes.end(), size_t{12 + 160 + 10})) ==
        sizes.size());

  // baresip decrypted and decoded the node's 600 Hz.
  std::optional<std::filesystem::path> decoded;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "dump")) {
    if (entry.path().filename().string().find("dec") != std::string::npos) decoded = entry.path();
  }
  REQUIRE(decoded.has_value());
  auto heard = codec::ReadWavFile(decoded->string());
  REQUIRE(heard.ok());
  INFO("baresip's dump: " << heard->sample_rate << " Hz, " << heard->samples.size() << " samples");
  REQUIRE(heard->samples.size() >= static_cast<size_t>(heard->sample_rate));
  // The last second: past any start-up silence.
  auto last_second = std::span(heard->samples).last(static_cast<size_t>(heard->sample_rate));
  CHECK(test::DominantFrequency(last_second, static_cast<int>(heard->sample_rate)) ==
        Approx(600).margin(10));

  // The node decrypted baresip's 1 kHz.
  auto recorded = codec::ReadWavFile(recording.file());
  REQUIRE(recorded.ok());
  REQUIRE(recorded->samples.size() >= 8000);
  CHECK(test::DominantFrequency(std::span(recorded->samples).last(8000), 8000) ==
        Approx(1000).margin(10));
}

}  // namespace
}  // namespace sb::media
