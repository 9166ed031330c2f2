// Offer/answer (RFC 3264): build an offer from local capabilities, and answer an offer.
//
//   sb::sdp::LocalMedia audio;
//   audio.port = 40000;
//   audio.codecs = {sb::sdp::kPcmu, sb::sdp::kPcma};
//   sb::sdp::AnswerOptions options;
//   options.origin = {"-", "42", "1", "IN", "IP4", "127.0.0.1"};
//   options.address = "127.0.0.1";
//   options.media = {audio};
//   auto answer = sb::sdp::CreateAnswer(offer, options);
//   if (!answer.ok()) return Reject(488);        // nothing in the offer can be used
//   Send(sb::sdp::Serialize(*answer));
//
// The answer has one m-line per offered m-line, in order (§6). A stream is accepted when a local
// media of the same type and a compatible transport is free and at least one codec is in common;
// otherwise it is rejected with port 0 (§6). Codecs keep the offer's order and payload numbers
// (§6.1); telephone-event (RFC 4733) is added when both sides have it at the same clock rate; the
// direction is the offer's reversed, narrowed by the local wish (§6.1); rtcp-mux is echoed when
// both support it (RFC 5761 §5.1.1); for RTP/SAVP the first offered a=crypto whose suite we have a
// key for is answered with the same tag and our key (RFC 4568 §7.1.2).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/sip/sdp.h"

namespace sb::sdp {

// A codec we can use; the payload type is the one put in offers (answers reuse the offer's).
struct CodecCapability {
  std::string encoding;  // compared case-insensitively (RFC 4566 §6: rtpmap encoding names)
  uint32_t clock_rate = 8000;
  uint32_t channels = 1;
  int payload_type = -1;
  std::optional<std::string> fmtp;
};

inline const CodecCapability kPcmu{"PCMU", 8000, 1, 0, std::nullopt};
inline const CodecCapability kPcma{"PCMA", 8000, 1, 8, std::nullopt};
inline const CodecCapability kOpus{"opus", 48000, 2, 111, std::string("useinbandfec=1")};

struct LocalMedia {
  std::string media = "audio";
  uint16_t port = 0;
  std::vector<CodecCapability> codecs;
  // RFC 4733 events at 8000 Hz (and at 48000 Hz for opus calls) with this payload type in offers.
  bool telephone_event = true;
  int telephone_event_payload_type = 101;
  Direction direction = Direction::kSendRecv;  // what we want; hold is kSendOnly
  bool rtcp_mux = true;
  std::optional<uint32_t> ptime;
  // SRTP: suite name -> our inline key params, for answering RTP/SAVP. Empty = RTP/AVP only.
  std::map<std::string, std::string> crypto_keys;
};

struct AnswerOptions {
  Origin origin;        // our o= line; bump session_version on every new description
  std::string address;  // our media address for c=
  std::string addr_type = "IP4";
  std::string session_name = "-";
  std::vector<LocalMedia> media;
  // a=sendrecv is the default (RFC 3264 §5.1) but written out unless told otherwise, because
  // some endpoints keep the previous direction when a re-INVITE's answer leaves it out.
  bool explicit_sendrecv = true;
};

// Fails (kInvalidArgument) only when no offered stream could be accepted: the caller answers 488.
Result<SessionDescription> CreateAnswer(const SessionDescription& offer,
                                        const AnswerOptions& options);

// An offer with one m-line per local media (RTP/SAVP with a=crypto when crypto_keys is set).
SessionDescription CreateOffer(const AnswerOptions& options);

}  // namespace sb::sdp
