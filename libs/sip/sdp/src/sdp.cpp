#include "switchboard/sip/sdp.h"

#include <charconv>

#include "sdp_text.h"

namespace sb::sdp {
namespace {

using internal::Fields;
using internal::ParseUint;
using internal::SplitFirst;

Status Error(size_t line_no, std::string_view what) {
  return Status::InvalidArgument("SDP line " + std::to_string(line_no) + ": " + std::string(what),
                                 "sdp");
}

Result<Connection> ParseConnection(std::string_view v) {
  auto f = Fields(v);
  if (f.size() != 3) return Status::InvalidArgument("c= needs 3 fields");
  return Connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

Result<Bandwidth> ParseBandwidth(std::string_view v) {
  auto [type, value] = SplitFirst(v, ':');
  if (type.empty() || !value) return Status::InvalidArgument("b= needs <type>:<kbps>");
  auto kbps = ParseUint(*value, UINT32_MAX);
  if (!kbps) return Status::InvalidArgument("b= bandwidth is not a number");
  return Bandwidth{std::string(type), *kbps};
}

Attribute ParseAttribute(std::string_view v) {
  auto [name, value] = SplitFirst(v, ':');
  Attribute a{std::string(name), std::nullopt};
  if (value) a.value = std::string(*value);
  return a;
}

Result<MediaDescription> ParseMediaLine(std::string_view v) {
  auto f = Fields(v);
  if (f.size() < 4) return Status::InvalidArgument("m= needs media, port, proto and a format");
  MediaDescription m;
  m.media = std::string(f[0]);
  auto [port_text, count_text] = SplitFirst(f[1], '/');
  auto port = ParseUint(port_text, 65535);
  if (!port) return Status::InvalidArgument("m= port is not 0..65535");
  m.port = static_cast<uint16_t>(*port);
  if (count_text) {
    auto count = ParseUint(*count_text, 65535);
    if (!count || *count == 0) return Status::InvalidArgument("m= port count is not a number");
    m.port_count = static_cast<uint32_t>(*count);
  }
  m.proto = std::string(f[2]);
  for (size_t i = 3; i < f.size(); ++i) m.formats.emplace_back(f[i]);
  return m;
}

bool HasControlCharacters(std::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x20 && c != '\t') return true;
    if (c == 0x7f) return true;
  }
  return false;
}

void AppendLine(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out.append(value);
  out += "\r\n";
}

std::string FormatConnection(const Connection& c) {
  return c.net_type + " " + c.addr_type + " " + c.address;
}

void AppendAttributes(std::string& out, const std::vector<Attribute>& attributes) {
  for (const auto& a : attributes) {
    out += "a=";
    out += a.name;
    if (a.value) {
      out += ':';
      out += *a.value;
    }
    out += "\r\n";
  }
}

}  // namespace

const Attribute* MediaDescription::Find(std::string_view name) const {
  for (const auto& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const Attribute* SessionDescription::Find(std::string_view name) const {
  for (const auto& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<SessionDescription> Parse(std::string_view text) {
  if (text.size() > kMaxSdpSize) return Status::InvalidArgument("SDP body too large", "sdp");
  SessionDescription sd;
  bool seen_v = false, seen_o = false, seen_s = false;
  // Single-valued lines seen at the current level (session, then each m=), by letter.
  std::string seen_single;
  MediaDescription* media = nullptr;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      // A trailing empty line is common (an extra CRLF); one in the middle is not SDP.
      if (pos >= text.size()) break;
      return Error(line_no, "empty line");
    }
    if (line.size() < 2 || line[1] != '=') return Error(line_no, "not <type>=<value>");
    if (HasControlCharacters(line)) return Error(line_no, "control character");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (!seen_v && type != 'v') return Error(line_no, "the first line must be v=");

    auto once = [&](char letter) -> bool {
      if (seen_single.find(letter) != std::string::npos) return false;
      seen_single += letter;
      return true;
    };

    if (media == nullptr) {
      switch (type) {
        case 'v': {
          if (seen_v) return Error(line_no, "repeated v=");
          if (value != "0") return Error(line_no, "unsupported SDP version");
          seen_v = true;
          break;
        }
        case 'o': {
          if (seen_o) return Error(line_no, "repeated o=");
          auto f = Fields(value);
          if (f.size() != 6) return Error(line_no, "o= needs 6 fields");
          sd.origin = Origin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                             std::string(f[3]), std::string(f[4]), std::string(f[5])};
          seen_o = true;
          break;
        }
        case 's':
          if (seen_s) return Error(line_no, "repeated s=");
          sd.session_name = std::string(value);
          seen_s = true;
          break;
        case 'i':
          if (!once('i')) return Error(line_no, "repeated i=");
          sd.information = std::string(value);
          break;
        case 'u':
          if (!once('u')) return Error(line_no, "repeated u=");
          sd.uri = std::string(value);
          break;
        case 'e':
          sd.emails.emplace_back(value);
          break;
        case 'p':
          sd.phones.emplace_back(value);
          break;
        case 'c': {
          if (!once('c')) return Error(line_no, "repeated session c=");
          auto c = ParseConnection(value);
          if (!c.ok()) return Error(line_no, c.status().message());
          sd.connection = std::move(*c);
          break;
        }
        case 'b': {
          auto b = ParseBandwidth(value);
          if (!b.ok()) return Error(line_no, b.status().message());
          sd.bandwidths.push_back(std::move(*b));
          break;
        }
        case 't': {
          auto f = Fields(value);
          if (f.size() != 2) return Error(line_no, "t= needs start and stop");
          auto start = ParseUint(f[0], UINT64_MAX);
          auto stop = ParseUint(f[1], UINT64_MAX);
          if (!start || !stop) return Error(line_no, "t= times are not numbers");
          sd.timings.push_back(Timing{*start, *stop, {}});
          break;
        }
        case 'r':
          if (sd.timings.empty()) return Error(line_no, "r= before t=");
          sd.timings.back().repeats.emplace_back(value);
          break;
        case 'z':
          if (!once('z')) return Error(line_no, "repeated z=");
          sd.zone = std::string(value);
          break;
        case 'k':
          if (!once('k')) return Error(line_no, "repeated k=");
          sd.key = std::string(value);
          break;
        case 'a':
          sd.attributes.push_back(ParseAttribute(value));
          break;
        case 'm':
          break;
        default:
          return Error(line_no, "unknown type letter");
      }
      if (type != 'm') continue;
    }

    switch (type) {
      case 'm': {
        auto m = ParseMediaLine(value);
        if (!m.ok()) return Error(line_no, m.status().message());
        sd.media.push_back(std::move(*m));
        media = &sd.media.back();
        seen_single.clear();
        break;
      }
      case 'i':
        if (!once('i')) return Error(line_no, "repeated media i=");
        media->title = std::string(value);
        break;
      case 'c': {
        auto c = ParseConnection(value);
        if (!c.ok()) return Error(line_no, c.status().message());
        media->connections.push_back(std::move(*c));
        break;
      }
      case 'b': {
        auto b = ParseBandwidth(value);
        if (!b.ok()) return Error(line_no, b.status().message());
        media->bandwidths.push_back(std::move(*b));
        break;
      }
      case 'k':
        if (!once('k')) return Error(line_no, "repeated media k=");
        media->key = std::string(value);
        break;
      case 'a':
        media->attributes.push_back(ParseAttribute(value));
        break;
      default:
        return Error(line_no, "line type not allowed in a media section");
    }
  }
  if (!seen_v) return Status::InvalidArgument("SDP is empty", "sdp");
  if (!seen_o) return Status::InvalidArgument("SDP has no o= line", "sdp");
  if (!seen_s) return Status::InvalidArgument("SDP has no s= line", "sdp");
  if (sd.timings.empty()) return Status::InvalidArgument("SDP has no t= line", "sdp");
  return sd;
}

std::string Serialize(const SessionDescription& sd) {
  std::string out;
  out.reserve(512);
  AppendLine(out, 'v', std::to_string(sd.version));
  const Origin& o = sd.origin;
  AppendLine(out, 'o',
             o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type + " " +
                 o.addr_type + " " + o.address);
  // Verbatim, even empty: RFC 3264's own examples carry "s=", and a proxy must not rewrite it.
  AppendLine(out, 's', sd.session_name);
  if (sd.information) AppendLine(out, 'i', *sd.information);
  if (sd.uri) AppendLine(out, 'u', *sd.uri);
  for (const auto& e : sd.emails) AppendLine(out, 'e', e);
  for (const auto& p : sd.phones) AppendLine(out, 'p', p);
  if (sd.connection) AppendLine(out, 'c', FormatConnection(*sd.connection));
  for (const auto& b : sd.bandwidths) AppendLine(out, 'b', b.type + ":" + std::to_string(b.kbps));
  if (sd.timings.empty()) AppendLine(out, 't', "0 0");
  for (const auto& t : sd.timings) {
    AppendLine(out, 't', std::to_string(t.start) + " " + std::to_string(t.stop));
    for (const auto& r : t.repeats) AppendLine(out, 'r', r);
  }
  if (sd.zone) AppendLine(out, 'z', *sd.zone);
  if (sd.key) AppendLine(out, 'k', *sd.key);
  AppendAttributes(out, sd.attributes);
  for (const auto& m : sd.media) {
    std::string line = m.media + " " + std::to_string(m.port);
    if (m.port_count) line += "/" + std::to_string(*m.port_count);
    line += " " + m.proto;
    for (const auto& f : m.formats) line += " " + f;
    AppendLine(out, 'm', line);
    if (m.title) AppendLine(out, 'i', *m.title);
    for (const auto& c : m.connections) AppendLine(out, 'c', FormatConnection(c));
    for (const auto& b : m.bandwidths) AppendLine(out, 'b', b.type + ":" + std::to_string(b.kbps));
    if (m.key) AppendLine(out, 'k', *m.key);
    AppendAttributes(out, m.attributes);
  }
  return out;
}

}  // namespace sb::sdp
