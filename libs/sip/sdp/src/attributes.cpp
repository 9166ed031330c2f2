// Typed views over SDP attributes: direction (RFC 3264 §5.1, §6.1), rtpmap/fmtp (RFC 4566 §6,
// RFC 3551 static payload types), ptime, rtcp-mux (RFC 5761) and crypto (RFC 4568 §9.1).
#include <array>

#include "sdp_text.h"
#include "switchboard/sip/sdp.h"

namespace sb::sdp {
namespace {

using internal::Fields;
using internal::ParseUint;
using internal::SplitFirst;

std::optional<Direction> DirectionOf(const std::vector<Attribute>& attributes) {
  // The last one wins should a description carry several (none of the RFCs allows it; being
  // deterministic is what matters).
  std::optional<Direction> d;
  for (const auto& a : attributes) {
    if (a.value) continue;
    if (a.name == "sendrecv") d = Direction::kSendRecv;
    if (a.name == "sendonly") d = Direction::kSendOnly;
    if (a.name == "recvonly") d = Direction::kRecvOnly;
    if (a.name == "inactive") d = Direction::kInactive;
  }
  return d;
}

struct StaticPayload {
  int pt;
  const char* encoding;
  uint32_t clock_rate;
  uint32_t channels;
};

// RFC 3551 §6, tables 4 and 5 (the assigned ones).
constexpr std::array<StaticPayload, 23> kStaticPayloads{{
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {34, "H263", 90000, 1},
}};

// "<pt> <rest>" of rtpmap and fmtp values.
std::optional<std::pair<int, std::string_view>> PayloadPrefix(const Attribute& a) {
  if (!a.value) return std::nullopt;
  auto [pt_text, rest] = SplitFirst(*a.value, ' ');
  auto pt = ParseUint(pt_text, 127);
  if (!pt || !rest) return std::nullopt;
  return std::make_pair(static_cast<int>(*pt), *rest);
}

}  // namespace

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

Direction GetDirection(const SessionDescription& sd, const MediaDescription& m) {
  if (auto d = DirectionOf(m.attributes)) return *d;
  if (auto d = DirectionOf(sd.attributes)) return *d;
  return Direction::kSendRecv;
}

Direction Reverse(Direction d) {
  switch (d) {
    case Direction::kSendOnly:
      return Direction::kRecvOnly;
    case Direction::kRecvOnly:
      return Direction::kSendOnly;
    default:
      return d;
  }
}

Direction Intersect(Direction a, Direction b) {
  auto sends = [](Direction d) { return d == Direction::kSendRecv || d == Direction::kSendOnly; };
  auto receives = [](Direction d) {
    return d == Direction::kSendRecv || d == Direction::kRecvOnly;
  };
  bool send = sends(a) && sends(b);
  bool recv = receives(a) && receives(b);
  if (send && recv) return Direction::kSendRecv;
  if (send) return Direction::kSendOnly;
  if (recv) return Direction::kRecvOnly;
  return Direction::kInactive;
}

std::optional<Connection> MediaConnection(const SessionDescription& sd, const MediaDescription& m) {
  if (!m.connections.empty()) return m.connections.front();
  return sd.connection;
}

bool IsOnHold(const SessionDescription& sd, const MediaDescription& m) {
  Direction d = GetDirection(sd, m);
  if (d == Direction::kSendOnly || d == Direction::kInactive) return true;
  auto c = MediaConnection(sd, m);
  return c && c->address == "0.0.0.0";
}

std::vector<Codec> Codecs(const MediaDescription& m) {
  std::vector<Codec> out;
  for (const auto& format : m.formats) {
    auto pt = ParseUint(format, 127);
    if (!pt) continue;
    Codec codec;
    codec.payload_type = static_cast<int>(*pt);
    bool named = false;
    for (const auto& a : m.attributes) {
      if (a.name != "rtpmap") continue;
      auto prefix = PayloadPrefix(a);
      if (!prefix || prefix->first != codec.payload_type) continue;
      // <encoding>/<clock>[/<channels>]
      auto [encoding, rest] = SplitFirst(prefix->second, '/');
      if (encoding.empty() || !rest) break;
      auto [clock_text, channels_text] = SplitFirst(*rest, '/');
      auto clock = ParseUint(clock_text, UINT32_MAX);
      if (!clock) break;
      codec.encoding = std::string(encoding);
      codec.clock_rate = static_cast<uint32_t>(*clock);
      if (channels_text) {
        auto channels = ParseUint(*channels_text, 255);
        if (!channels || *channels == 0) break;
        codec.channels = static_cast<uint32_t>(*channels);
      }
      named = true;
      break;
    }
    if (!named) {
      for (const auto& s : kStaticPayloads) {
        if (s.pt == codec.payload_type) {
          codec.encoding = s.encoding;
          codec.clock_rate = s.clock_rate;
          codec.channels = s.channels;
          named = true;
        }
      }
    }
    if (!named) continue;
    for (const auto& a : m.attributes) {
      if (a.name != "fmtp") continue;
      auto prefix = PayloadPrefix(a);
      if (prefix && prefix->first == codec.payload_type) {
        codec.fmtp = std::string(prefix->second);
        break;
      }
    }
    out.push_back(std::move(codec));
  }
  return out;
}

void AddCodec(MediaDescription& m, const Codec& codec) {
  std::string pt = std::to_string(codec.payload_type);
  m.formats.push_back(pt);
  std::string map = pt + " " + codec.encoding + "/" + std::to_string(codec.clock_rate);
  if (codec.channels != 1) map += "/" + std::to_string(codec.channels);
  m.attributes.push_back(Attribute{"rtpmap", map});
  if (codec.fmtp) m.attributes.push_back(Attribute{"fmtp", pt + " " + *codec.fmtp});
}

std::optional<uint32_t> Ptime(const MediaDescription& m) {
  const Attribute* a = m.Find("ptime");
  if (!a || !a->value) return std::nullopt;
  auto v = ParseUint(*a->value, 10000);
  if (!v || *v == 0) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

bool RtcpMux(const MediaDescription& m) { return m.Has("rtcp-mux"); }

Result<Crypto> ParseCrypto(std::string_view value) {
  auto f = Fields(value);
  if (f.size() < 3) return Status::InvalidArgument("a=crypto needs tag, suite and key", "crypto");
  auto tag = ParseUint(f[0], 999999999);  // RFC 4568: 1*9DIGIT
  if (!tag) return Status::InvalidArgument("a=crypto tag is not 1*9DIGIT", "crypto");
  Crypto c;
  c.tag = static_cast<uint32_t>(*tag);
  c.suite = std::string(f[1]);
  c.key_params = std::string(f[2]);
  if (c.key_params.rfind("inline:", 0) != 0 || c.key_params.size() == 7) {
    return Status::InvalidArgument("a=crypto key must be inline:<key>", "crypto");
  }
  for (size_t i = 3; i < f.size(); ++i) c.session_params.emplace_back(f[i]);
  return c;
}

std::string FormatCrypto(const Crypto& c) {
  std::string out = std::to_string(c.tag) + " " + c.suite + " " + c.key_params;
  for (const auto& p : c.session_params) out += " " + p;
  return out;
}

std::vector<Crypto> CryptoAttributes(const MediaDescription& m) {
  std::vector<Crypto> out;
  for (const auto& a : m.attributes) {
    if (a.name != "crypto" || !a.value) continue;
    auto c = ParseCrypto(*a.value);
    if (c.ok()) out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace sb::sdp
