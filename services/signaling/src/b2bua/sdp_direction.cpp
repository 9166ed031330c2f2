#include "b2bua/sdp_direction.h"

#include <algorithm>
#include <cstdint>

#include "switchboard/core/ascii.h"

namespace sb::signaling::b2bua {
namespace {

bool IsDirection(const sdp::Attribute& a) {
  return !a.value && (a.name == "sendrecv" || a.name == "sendonly" || a.name == "recvonly" ||
                      a.name == "inactive");
}

void BumpVersion(sdp::Origin& origin) {
  uint64_t version = 0;
  for (char c : origin.session_version) {
    if (c < '0' || c > '9') break;
    version = version * 10 + static_cast<uint64_t>(c - '0');
  }
  origin.session_version = std::to_string(version + 1);
}

}  // namespace

std::optional<sdp::Direction> OfferedDirection(std::string_view sdp_text) {
  auto sd = sdp::Parse(sdp_text);
  if (!sd.ok() || sd->media.empty()) return std::nullopt;
  const sdp::MediaDescription* audio = &sd->media.front();
  for (const auto& m : sd->media) {
    if (m.media == "audio") {
      audio = &m;
      break;
    }
  }
  // An RFC 2543 hold (c=0.0.0.0) says "do not send to me": the same as sendonly from the offerer.
  if (sdp::IsOnHold(*sd, *audio) && sdp::GetDirection(*sd, *audio) == sdp::Direction::kSendRecv) {
    return sdp::Direction::kSendOnly;
  }
  return sdp::GetDirection(*sd, *audio);
}

std::string WithDirection(std::string_view sdp_text, sdp::Direction direction, bool bump_version) {
  auto sd = sdp::Parse(sdp_text);
  if (!sd.ok()) return std::string(sdp_text);
  std::erase_if(sd->attributes, IsDirection);
  for (auto& m : sd->media) {
    std::erase_if(m.attributes, IsDirection);
    m.attributes.push_back({std::string(sdp::DirectionName(direction)), std::nullopt});
  }
  if (bump_version) BumpVersion(sd->origin);
  return sdp::Serialize(*sd);
}

std::string ContinuedDescription(std::string_view previous, std::string_view fresh) {
  auto before = sdp::Parse(previous);
  auto now = sdp::Parse(fresh);
  if (!before.ok() || !now.ok()) return std::string(fresh);
  now->origin = before->origin;
  BumpVersion(now->origin);
  return WithDirection(sdp::Serialize(*now),
                       OfferedDirection(previous).value_or(sdp::Direction::kSendRecv), false);
}

std::string FirstCodec(std::string_view sdp_text) {
  auto sd = sdp::Parse(sdp_text);
  if (!sd.ok()) return {};
  for (const auto& m : sd->media) {
    if (m.media != "audio") continue;
    for (const auto& codec : sdp::Codecs(m)) {
      if (!core::EqualsIgnoreCase(codec.encoding, "telephone-event") &&
          !core::EqualsIgnoreCase(codec.encoding, "CN")) {
        return codec.encoding;
      }
    }
    return {};
  }
  return {};
}

bool SameDescription(std::string_view before, std::string_view now) {
  auto a = sdp::Parse(before);
  auto b = sdp::Parse(now);
  if (!a.ok() || !b.ok()) return before == now;
  return a->origin == b->origin && OfferedDirection(before) == OfferedDirection(now);
}

}  // namespace sb::signaling::b2bua
