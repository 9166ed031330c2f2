#include "session/sdp_negotiator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "net/udp_socket.h"
#include "switchboard/core/ascii.h"
#include "switchboard/rtp/sdes_crypto.h"
#include "switchboard/sip/sdp.h"
#include "switchboard/sip/sdp_offer_answer.h"

namespace sb::media {
namespace {

constexpr std::string_view kSuite = "AES_CM_128_HMAC_SHA1_80";

std::optional<codec::CodecType> CodecOf(const sdp::Codec& c) {
  std::string name = c.encoding;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  if (name == "PCMU" && c.clock_rate == 8000) return codec::CodecType::kPcmu;
  if (name == "PCMA" && c.clock_rate == 8000) return codec::CodecType::kPcma;
  if (name == "OPUS" && c.clock_rate == 48000) return codec::CodecType::kOpus;
  return std::nullopt;
}

bool IsEvent(const sdp::Codec& c) { return core::EqualsIgnoreCase(c.encoding, "telephone-event"); }

sdp::LocalMedia Local(uint16_t port, const std::string& srtp_key) {
  sdp::LocalMedia local;
  local.port = port;
  local.codecs = {sdp::kPcmu, sdp::kPcma, sdp::kOpus};
  local.rtcp_mux = true;
  // What we send and want to receive (RFC 4566 §6): the leg packetises and plays out 20 ms
  // frames (kFrameMs in session/leg.h).
  local.ptime = 20;
  if (!srtp_key.empty()) {
    // The node's keys are KeySaltLength bytes from its CSPRNG; SrtpSession refuses any other.
    auto crypto = rtp::MakeCrypto(
        1, rtp::CryptoSuite::kAesCm128HmacSha1_80,
        std::span(reinterpret_cast<const uint8_t*>(srtp_key.data()), srtp_key.size()));
    if (crypto.ok()) local.crypto_keys[std::string(kSuite)] = rtp::FormatKeyParams(*crypto);
  }
  return local;
}

sdp::AnswerOptions Options(const SdpIdentity& id, uint32_t version, sdp::LocalMedia local) {
  sdp::AnswerOptions options;
  options.origin = {"-", id.session_id, std::to_string(version), "IN", "IP4", id.address};
  options.address = id.address;
  options.media = {std::move(local)};
  return options;
}

// Keeps the first codec we speak and telephone-event at its clock; drops the other formats and
// their rtpmap/fmtp lines.
void KeepOneCodec(sdp::MediaDescription& m) {
  std::optional<int> audio, event;
  uint32_t rate = 0;
  for (const auto& c : sdp::Codecs(m)) {
    if (!audio && !IsEvent(c) && CodecOf(c)) {
      audio = c.payload_type;
      rate = c.clock_rate;
    }
  }
  for (const auto& c : sdp::Codecs(m)) {
    if (!event && IsEvent(c) && c.clock_rate == rate) event = c.payload_type;
  }
  auto keep = [&](const std::string& pt) {
    return (audio && pt == std::to_string(*audio)) || (event && pt == std::to_string(*event));
  };
  std::erase_if(m.formats, [&](const std::string& f) { return !keep(f); });
  std::erase_if(m.attributes, [&](const sdp::Attribute& a) {
    if ((a.name != "rtpmap" && a.name != "fmtp") || !a.value) return false;
    std::string pt = a.value->substr(0, a.value->find(' '));
    return !keep(pt);
  });
}

// The leg's media from the endpoint's description `remote` (its address and port) and the
// negotiated codecs of `agreed` (the answer, ours or theirs).
Result<LegMedia> MediaFrom(const sdp::SessionDescription& remote, const sdp::MediaDescription& rm,
                           const sdp::MediaDescription& agreed) {
  LegMedia media;
  auto conn = sdp::MediaConnection(remote, rm);
  if (!conn) return Status::InvalidArgument("the audio stream has no c= address", "sdp");
  auto ip = ParseIpv4(conn->address);
  if (!ip.ok()) return Status::InvalidArgument("only IPv4 media addresses are supported", "sdp");
  media.rtcp_mux = sdp::RtcpMux(agreed);
  media.remote_rtp = {*ip, rm.port};
  media.remote_rtcp =
      media.rtcp_mux ? media.remote_rtp : Endpoint{*ip, static_cast<uint16_t>(rm.port + 1)};
  bool have_audio = false;
  uint32_t rate = 0;
  for (const auto& c : sdp::Codecs(agreed)) {
    if (IsEvent(c)) continue;
    if (auto type = CodecOf(c)) {
      media.codec = *type;
      media.payload_type = c.payload_type;
      rate = c.clock_rate;
      have_audio = true;
      break;
    }
  }
  if (!have_audio) return Status::InvalidArgument("no PCMU, PCMA or Opus in common", "sdp");
  for (const auto& c : sdp::Codecs(agreed)) {
    if (IsEvent(c) && c.clock_rate == rate) {
      media.telephone_event_pt = c.payload_type;
      break;
    }
  }
  return media;
}

const sdp::MediaDescription* FirstAudio(const sdp::SessionDescription& sd) {
  for (const auto& m : sd.media) {
    if (m.media == "audio" && m.port != 0) return &m;
  }
  return nullptr;
}

// The endpoint's master key || salt from its a=crypto (RFC 4568 §6.1 key-params). Session
// parameters are not used by the node and are left out of what is parsed.
Result<std::string> InlineKey(const sdp::Crypto& crypto) {
  auto parsed = rtp::ParseCryptoAttribute(std::to_string(crypto.tag) + " " + crypto.suite + " " +
                                          crypto.key_params);
  if (!parsed.ok()) {
    return Status::InvalidArgument("a=crypto: " + std::string(parsed.status().message()), "sdp");
  }
  auto key = parsed->key();
  return std::string(key.begin(), key.end());
}

}  // namespace

Result<Negotiated> SdpNegotiator::Answer(const std::string& offer_text, uint16_t port,
                                         const std::string& srtp_key, uint32_t version) const {
  auto offer = sdp::Parse(offer_text);
  if (!offer.ok()) return Status::InvalidArgument(offer.status().message(), "sdp");
  auto answer = sdp::CreateAnswer(*offer, Options(identity_, version, Local(port, srtp_key)));
  if (!answer.ok()) return Status::InvalidArgument(answer.status().message(), "sdp");
  // Only the first audio stream is anchored; any other offered stream is refused (port 0).
  bool anchored = false;
  const sdp::MediaDescription* offered = nullptr;
  for (size_t i = 0; i < answer->media.size(); ++i) {
    auto& m = answer->media[i];
    if (m.port == 0) continue;
    if (anchored || m.media != "audio") {
      m.port = 0;
      continue;
    }
    KeepOneCodec(m);
    anchored = true;
    offered = &offer->media[i];
  }
  if (offered == nullptr)
    return Status::InvalidArgument("no audio stream could be accepted", "sdp");
  const sdp::MediaDescription* ours = FirstAudio(*answer);
  auto media = MediaFrom(*offer, *offered, *ours);
  if (!media.ok()) return media.status();
  auto chosen = sdp::CryptoAttributes(*ours);
  if (!chosen.empty()) {
    for (const auto& c : sdp::CryptoAttributes(*offered)) {
      if (c.tag != chosen[0].tag) continue;
      auto remote_key = InlineKey(c);
      if (!remote_key.ok()) return remote_key.status();
      media->srtp = SrtpKeys{c.suite, srtp_key, *remote_key};
      break;
    }
  }
  return Negotiated{sdp::Serialize(*answer), *media};
}

std::string SdpNegotiator::Offer(uint16_t port, const std::string& srtp_key,
                                 uint32_t version) const {
  return sdp::Serialize(sdp::CreateOffer(Options(identity_, version, Local(port, srtp_key))));
}

Result<LegMedia> SdpNegotiator::ApplyAnswer(const std::string& answer_text,
                                            const std::string& srtp_key) const {
  auto answer = sdp::Parse(answer_text);
  if (!answer.ok()) return Status::InvalidArgument(answer.status().message(), "sdp");
  const sdp::MediaDescription* m = FirstAudio(*answer);
  if (m == nullptr) return Status::InvalidArgument("the answer accepts no audio stream", "sdp");
  auto media = MediaFrom(*answer, *m, *m);
  if (!media.ok()) return media.status();
  if (!srtp_key.empty()) {
    auto crypto = sdp::CryptoAttributes(*m);
    if (crypto.empty())
      return Status::InvalidArgument("SRTP was offered; the answer has no a=crypto", "sdp");
    auto remote_key = InlineKey(crypto[0]);
    if (!remote_key.ok()) return remote_key.status();
    media->srtp = SrtpKeys{crypto[0].suite, srtp_key, *remote_key};
  }
  return media;
}

}  // namespace sb::media
