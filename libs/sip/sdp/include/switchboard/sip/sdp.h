// SDP (RFC 4566): a session description as plain values, a parser that never throws and a
// serializer that writes the canonical line order with CRLF.
//
//   auto sd = sb::sdp::Parse(body);
//   if (!sd.ok()) return Reject(488, sd.status().message());
//   for (const auto& m : sd->media) {
//     sb::sdp::Direction dir = sb::sdp::GetDirection(*sd, m);
//     for (const auto& codec : sb::sdp::Codecs(m)) Use(codec.encoding, codec.clock_rate);
//   }
//   std::string text = sb::sdp::Serialize(*sd);
//
// Attributes are kept in order and verbatim (name and value as written), so ICE candidates, DTLS
// fingerprints and attributes this library does not know survive a parse/serialize round trip;
// the typed accessors below (rtpmap, fmtp, ptime, direction, rtcp-mux, crypto) read from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::sdp {

// An SDP body larger than this is refused before parsing (a SIP body is at most a few kB).
inline constexpr size_t kMaxSdpSize = 64 * 1024;

struct Origin {  // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
  std::string username = "-";
  std::string session_id;
  std::string session_version;
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;
  friend bool operator==(const Origin&, const Origin&) = default;
};

struct Connection {  // c=<nettype> <addrtype> <connection-address> (address may carry /ttl/n)
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;
  friend bool operator==(const Connection&, const Connection&) = default;
};

struct Bandwidth {  // b=<bwtype>:<bandwidth>
  std::string type;
  uint64_t kbps = 0;
  friend bool operator==(const Bandwidth&, const Bandwidth&) = default;
};

struct Timing {  // t=<start> <stop>, then its r= lines verbatim
  uint64_t start = 0;
  uint64_t stop = 0;
  std::vector<std::string> repeats;
  friend bool operator==(const Timing&, const Timing&) = default;
};

struct Attribute {  // a=<name> or a=<name>:<value>
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

struct MediaDescription {  // m=<media> <port>[/<count>] <proto> <fmt> ...
  std::string media;
  uint16_t port = 0;
  std::optional<uint32_t> port_count;
  std::string proto;
  std::vector<std::string> formats;
  std::optional<std::string> title;  // i=
  std::vector<Connection> connections;
  std::vector<Bandwidth> bandwidths;
  std::optional<std::string> key;  // k=
  std::vector<Attribute> attributes;

  // The first attribute with this name (case-sensitive, as RFC 4566 §5.13), or null.
  const Attribute* Find(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  friend bool operator==(const MediaDescription&, const MediaDescription&) = default;
};

struct SessionDescription {
  int version = 0;
  Origin origin;
  std::string session_name = "-";
  std::optional<std::string> information;  // i=
  std::optional<std::string> uri;          // u=
  std::vector<std::string> emails;         // e=
  std::vector<std::string> phones;         // p=
  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::vector<Timing> timings;
  std::optional<std::string> zone;  // z=
  std::optional<std::string> key;   // k=
  std::vector<Attribute> attributes;
  std::vector<MediaDescription> media;

  const Attribute* Find(std::string_view name) const;
  friend bool operator==(const SessionDescription&, const SessionDescription&) = default;
};

// Accepts CRLF or bare LF line ends (RFC 4566 §5 asks parsers to be tolerant) and session-level
// lines in any order after v= (deployed endpoints do not all keep the §5 order). Refuses unknown
// type letters (§5: the whole description must then be ignored), a missing or repeated
// v=/o=/s=, no t=, a repeated single-valued line, malformed numbers and control characters.
Result<SessionDescription> Parse(std::string_view text);
std::string Serialize(const SessionDescription& sd);

// --- typed views over attributes ---------------------------------------------------------

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view DirectionName(Direction d);
// Media-level attribute, else session-level, else sendrecv (RFC 3264 §5.1).
Direction GetDirection(const SessionDescription& sd, const MediaDescription& m);
// The direction the other side takes for an offer of `d` (RFC 3264 §6.1).
Direction Reverse(Direction d);
// Both sides' wishes combined: send only where `a` sends and `b` receives, and so on.
Direction Intersect(Direction a, Direction b);

// The media address: the m-line's own c=, else the session's.
std::optional<Connection> MediaConnection(const SessionDescription& sd, const MediaDescription& m);
// Hold as RFC 3264 §8.4 (sendonly/inactive) or the RFC 2543 form (c=0.0.0.0).
bool IsOnHold(const SessionDescription& sd, const MediaDescription& m);

struct Codec {
  int payload_type = -1;
  std::string encoding;  // as written: "PCMU", "opus", "telephone-event"
  uint32_t clock_rate = 0;
  uint32_t channels = 1;
  std::optional<std::string> fmtp;  // the a=fmtp parameters for this payload type
  friend bool operator==(const Codec&, const Codec&) = default;
};

// The m-line's formats in order, named by rtpmap or by the static table of RFC 3551 (0 PCMU,
// 8 PCMA, 9 G722, 18 G729, ...). Formats that are neither are left out.
std::vector<Codec> Codecs(const MediaDescription& m);
// a=rtpmap:<pt> <encoding>/<clock>[/<channels>] and a=fmtp:<pt> <params> for a codec.
void AddCodec(MediaDescription& m, const Codec& codec);

std::optional<uint32_t> Ptime(const MediaDescription& m);
bool RtcpMux(const MediaDescription& m);

// a=crypto:<tag> <crypto-suite> <key-params> [<session-param> ...] (RFC 4568 §9.1).
struct Crypto {
  uint32_t tag = 1;
  std::string suite;       // AES_CM_128_HMAC_SHA1_80
  std::string key_params;  // inline:<base64 key||salt>[|lifetime][|MKI:len]
  std::vector<std::string> session_params;
  friend bool operator==(const Crypto&, const Crypto&) = default;
};
Result<Crypto> ParseCrypto(std::string_view value);
std::string FormatCrypto(const Crypto& c);
// Every well-formed a=crypto of the m-line in order; malformed ones are skipped (§6.1 of RFC
// 4568 lets the answerer ignore what it cannot use).
std::vector<Crypto> CryptoAttributes(const MediaDescription& m);

}  // namespace sb::sdp
