#include <algorithm>

#include "sdp_text.h"
#include "switchboard/sip/sdp_offer_answer.h"

namespace sb::sdp {
namespace {

using internal::EqualsIgnoreCase;

bool IsSecureProto(std::string_view proto) { return proto == "RTP/SAVP" || proto == "RTP/SAVPF"; }
bool IsPlainRtpProto(std::string_view proto) { return proto == "RTP/AVP" || proto == "RTP/AVPF"; }

bool Matches(const CodecCapability& cap, const Codec& offered) {
  return EqualsIgnoreCase(cap.encoding, offered.encoding) && cap.clock_rate == offered.clock_rate &&
         cap.channels == offered.channels;
}

// A rejected stream keeps media, proto and formats of the offer with port 0 (RFC 3264 §6).
MediaDescription Rejected(const MediaDescription& offered) {
  MediaDescription m;
  m.media = offered.media;
  m.port = 0;
  m.proto = offered.proto;
  m.formats = offered.formats;
  if (m.formats.empty()) m.formats.push_back("0");
  return m;
}

std::optional<MediaDescription> Accept(const SessionDescription& offer,
                                       const MediaDescription& offered, const LocalMedia& local,
                                       bool explicit_sendrecv) {
  MediaDescription m;
  m.media = offered.media;
  m.port = local.port;
  m.proto = offered.proto;

  std::optional<Crypto> crypto;
  if (IsSecureProto(offered.proto)) {
    for (const auto& c : CryptoAttributes(offered)) {
      auto key = local.crypto_keys.find(c.suite);
      if (key == local.crypto_keys.end()) continue;
      crypto = Crypto{c.tag, c.suite, key->second, {}};
      break;
    }
    if (!crypto) return std::nullopt;
  } else if (!IsPlainRtpProto(offered.proto)) {
    return std::nullopt;
  }

  std::vector<Codec> chosen;
  std::vector<uint32_t> rates;
  const std::vector<Codec> offered_codecs = Codecs(offered);
  for (const auto& codec : offered_codecs) {
    if (EqualsIgnoreCase(codec.encoding, "telephone-event")) continue;
    for (const auto& cap : local.codecs) {
      if (!Matches(cap, codec)) continue;
      Codec c = codec;
      // fmtp describes what the receiver of the media accepts, so ours goes in the answer.
      c.fmtp = cap.fmtp ? cap.fmtp : codec.fmtp;
      chosen.push_back(std::move(c));
      rates.push_back(codec.clock_rate);
      break;
    }
  }
  if (chosen.empty()) return std::nullopt;
  if (local.telephone_event) {
    for (const auto& codec : offered_codecs) {
      if (!EqualsIgnoreCase(codec.encoding, "telephone-event")) continue;
      bool rate_in_use = false;
      for (uint32_t r : rates) rate_in_use = rate_in_use || r == codec.clock_rate;
      if (rate_in_use) chosen.push_back(codec);
    }
  }
  for (const auto& c : chosen) AddCodec(m, c);

  if (local.ptime) m.attributes.push_back(Attribute{"ptime", std::to_string(*local.ptime)});
  Direction d = Intersect(Reverse(GetDirection(offer, offered)), local.direction);
  if (d != Direction::kSendRecv || explicit_sendrecv) {
    m.attributes.push_back(Attribute{std::string(DirectionName(d)), std::nullopt});
  }
  if (local.rtcp_mux && RtcpMux(offered)) m.attributes.push_back(Attribute{"rtcp-mux", {}});
  if (crypto) m.attributes.push_back(Attribute{"crypto", FormatCrypto(*crypto)});
  return m;
}

SessionDescription Skeleton(const AnswerOptions& options) {
  SessionDescription sd;
  sd.origin = options.origin;
  sd.session_name = options.session_name;
  sd.connection = Connection{"IN", options.addr_type, options.address};
  sd.timings.push_back(Timing{});
  return sd;
}

}  // namespace

Result<SessionDescription> CreateAnswer(const SessionDescription& offer,
                                        const AnswerOptions& options) {
  SessionDescription answer = Skeleton(options);
  std::vector<bool> used(options.media.size(), false);
  bool any_accepted = false;
  for (const auto& offered : offer.media) {
    std::optional<MediaDescription> accepted;
    // A stream the offerer itself disabled stays disabled (§6: port 0 in, port 0 out).
    if (offered.port != 0) {
      for (size_t i = 0; i < options.media.size() && !accepted; ++i) {
        if (used[i] || options.media[i].media != offered.media) continue;
        accepted = Accept(offer, offered, options.media[i], options.explicit_sendrecv);
        if (accepted) used[i] = true;
      }
    }
    if (accepted) {
      any_accepted = true;
      answer.media.push_back(std::move(*accepted));
    } else {
      answer.media.push_back(Rejected(offered));
    }
  }
  if (!any_accepted) {
    return Status::InvalidArgument("no offered media stream is acceptable", "sdp");
  }
  return answer;
}

SessionDescription CreateOffer(const AnswerOptions& options) {
  SessionDescription offer = Skeleton(options);
  for (const auto& local : options.media) {
    MediaDescription m;
    m.media = local.media;
    m.port = local.port;
    m.proto = local.crypto_keys.empty() ? "RTP/AVP" : "RTP/SAVP";
    std::vector<uint32_t> rates;
    for (const auto& cap : local.codecs) {
      AddCodec(m, Codec{cap.payload_type, cap.encoding, cap.clock_rate, cap.channels, cap.fmtp});
      bool seen = false;
      for (uint32_t r : rates) seen = seen || r == cap.clock_rate;
      if (!seen) rates.push_back(cap.clock_rate);
    }
    if (local.telephone_event) {
      int pt = local.telephone_event_payload_type;
      // 101 for 8 kHz events is what every deployed SIP device expects to see.
      std::sort(rates.begin(), rates.end());
      for (uint32_t rate : rates) {
        AddCodec(m, Codec{pt++, "telephone-event", rate, 1, std::string("0-16")});
      }
    }
    if (local.ptime) m.attributes.push_back(Attribute{"ptime", std::to_string(*local.ptime)});
    if (local.direction != Direction::kSendRecv || options.explicit_sendrecv) {
      m.attributes.push_back(Attribute{std::string(DirectionName(local.direction)), std::nullopt});
    }
    if (local.rtcp_mux) m.attributes.push_back(Attribute{"rtcp-mux", std::nullopt});
    uint32_t tag = 1;
    for (const auto& [suite, key] : local.crypto_keys) {
      m.attributes.push_back(Attribute{"crypto", FormatCrypto(Crypto{tag++, suite, key, {}})});
    }
    offer.media.push_back(std::move(m));
  }
  return offer;
}

}  // namespace sb::sdp
