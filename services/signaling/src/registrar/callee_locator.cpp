#include "registrar/callee_locator.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "registrar/bindings.h"
#include "switchboard/core/ascii.h"
#include "switchboard/sip/uri.h"

namespace sb::signaling {
namespace {

std::optional<sip::Destination> ReceivedOf(std::string_view path) {
  constexpr std::string_view kParam = ";received=";
  auto at = std::search(path.begin(), path.end(), kParam.begin(), kParam.end(),
                        [](char a, char b) { return core::AsciiLower(a) == core::AsciiLower(b); });
  if (at == path.end()) return std::nullopt;
  std::string_view value = path.substr(static_cast<size_t>(at - path.begin()) + kParam.size());
  value = value.substr(0, value.find_first_of(";>"));
  // The value may be escaped ("sip%3A...") or quoted.
  std::string uri = sip::Unescape(value);
  std::erase(uri, '"');
  if (core::EqualsIgnoreCase(std::string_view(uri).substr(0, 4), "sip:")) uri.erase(0, 4);
  uri = uri.substr(0, uri.find(';'));
  return ParseSource("udp:" + uri);
}

}  // namespace

std::optional<sip::Destination> PathReceived(const std::vector<std::string>& path) {
  std::optional<sip::Destination> seen;
  for (const auto& p : path) {
    if (auto received = ReceivedOf(p)) seen = std::move(received);
  }
  return seen;
}

std::optional<sip::Destination> ParseSource(std::string_view source) {
  size_t first = source.find(':');
  size_t last = source.rfind(':');
  if (first == std::string_view::npos || last == first) return std::nullopt;
  std::string_view transport = source.substr(0, first);
  std::string_view host = source.substr(first + 1, last - first - 1);
  std::string_view port_text = source.substr(last + 1);
  uint16_t port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
      host.empty()) {
    return std::nullopt;
  }
  sip::Destination d;
  d.host = std::string(host);
  d.port = port;
  if (transport == "udp") {
    d.transport = sip::Transport::kUdp;
  } else if (transport == "tcp") {
    d.transport = sip::Transport::kTcp;
  } else if (transport == "tls") {
    d.transport = sip::Transport::kTls;
  } else {
    return std::nullopt;
  }
  return d;
}

Result<std::vector<b2bua::Target>> RegistrarCalleeLocator::Locate(const TenantId& tenant,
                                                                  std::string_view domain,
                                                                  std::string_view number) {
  if (admin_ != nullptr) {
    auto known = admin_->Credentials(domain, number);
    if (!known.ok()) return known.status();
  }
  auto stored = store_.Load(tenant, CanonicalAor("sip", number, domain));
  if (!stored.ok()) return stored.status();
  const auto now = clock_.WallNow();
  std::vector<Binding> live;
  for (auto& b : *stored) {
    if (b.expires_at > now) live.push_back(std::move(b));
  }
  std::stable_sort(live.begin(), live.end(),
                   [](const Binding& a, const Binding& b) { return a.q_milli > b.q_milli; });
  std::vector<b2bua::Target> out;
  for (auto& b : live) {
    auto destination = ParseSource(b.source);
    if (!destination) continue;  // not written by this registrar: unreachable, skip it
    out.push_back({.contact_uri = b.contact,
                   .destination = *destination,
                   .path = b.path,
                   .entry = PathReceived(b.path)});
  }
  return out;
}

}  // namespace sb::signaling
