// Hold and unhold across the B2BUA (RFC 3264 §8.4): the direction a re-offer asks for is read
// from one side's SDP and written into the SDP the other side gets from the media node, whose
// o= version is bumped because the description changed (§8).
//
//   auto dir = sb::signaling::b2bua::OfferedDirection(reinvite_sdp);   // kSendOnly: hold
//   std::string to_other = sb::signaling::b2bua::WithDirection(node_sdp, *dir, true);
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchboard/sip/sdp.h"

namespace sb::signaling::b2bua {

// The direction of the first audio stream (RFC 2543 c=0.0.0.0 hold counts as sendonly);
// nullopt when the SDP does not parse or has no media.
std::optional<sdp::Direction> OfferedDirection(std::string_view sdp_text);

// `sdp_text` with every m-line's direction set to `direction` (session-level ones removed), and
// its o= version incremented when `bump_version`. The text unchanged when it does not parse.
std::string WithDirection(std::string_view sdp_text, sdp::Direction direction, bool bump_version);

// `fresh` (a new media leg's description, on another node, for a party that had `previous` from
// us) as the next version of `previous`: RFC 3264 §8 has a re-offer keep the o= line but for its
// version, incremented. In `previous`'s direction, so a party holding or held stays so. `fresh`
// unchanged when either does not parse.
std::string ContinuedDescription(std::string_view previous, std::string_view fresh);

// The codec a description's first audio stream sends first ("PCMU", "opus"; telephone-event and
// comfort noise are not codecs here): in an answer, the one the call uses. Empty when none.
std::string FirstCodec(std::string_view sdp_text);

// RFC 3264 §8: a description whose o= line (origin, session id and version) is the one before
// changes nothing, e.g. the offer of an RFC 4028 session refresh. The direction is compared too:
// some phones put a hold in without a new version. Bodies that do not parse are compared as text.
bool SameDescription(std::string_view before, std::string_view now);

}  // namespace sb::signaling::b2bua
