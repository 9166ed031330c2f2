// Offer/answer for a media leg: turns the endpoint's SDP into the leg's LegMedia and writes the
// node's SDP (its advertised address and the leg's port), through libs/sip/sdp (RFC 3264). The
// node answers with exactly one audio codec (PCMU, PCMA or Opus, the offerer's first choice among
// them) plus telephone-event at that codec's clock, so that what the endpoint sends is known.
//
//   SdpNegotiator sdp({.address = "203.0.113.5", .session_id = "42"});
//   auto answer = sdp.Answer(offer_text, 30000, srtp_key);
//   if (!answer.ok()) return answer.status();        // INVALID_ARGUMENT: the caller sends 488
//   engine.AddLeg({... .media = answer->media});
//   Reply(answer->sdp);
//
// Pure: keys come in as bytes (the node draws them from a CSPRNG).
#pragma once

#include <cstdint>
#include <string>

#include "session/types.h"
#include "switchboard/core/status.h"

namespace sb::media {

struct SdpIdentity {
  std::string address;     // advertised IPv4 address for c= and o=
  std::string session_id;  // o= sess-id
};

struct Negotiated {
  std::string sdp;  // ours
  LegMedia media;
};

class SdpNegotiator {
 public:
  explicit SdpNegotiator(SdpIdentity identity) : identity_(std::move(identity)) {}

  // The endpoint offered; `srtp_key` (30 bytes) is our key if the offer asks for SRTP.
  Result<Negotiated> Answer(const std::string& offer, uint16_t port, const std::string& srtp_key,
                            uint32_t version) const;
  // Our offer for a leg the node calls out on; with a key, RTP/SAVP with a=crypto.
  std::string Offer(uint16_t port, const std::string& srtp_key, uint32_t version) const;
  // The endpoint answered our offer (made with `srtp_key`, empty for plain RTP).
  Result<LegMedia> ApplyAnswer(const std::string& answer, const std::string& srtp_key) const;

 private:
  SdpIdentity identity_;
};

}  // namespace sb::media
