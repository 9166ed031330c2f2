#include "switchboard/core/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace sb::core {
namespace {

bool ParseAddress(std::string_view text, int& family, std::array<unsigned char, 16>& bytes) {
  const std::string s(text);
  for (int f : {AF_INET, AF_INET6}) {
    if (inet_pton(f, s.c_str(), bytes.data()) == 1) {
      family = f;
      return true;
    }
  }
  return false;
}

int AddressBits(int family) { return family == AF_INET ? 32 : 128; }

bool BitSet(const std::array<unsigned char, 16>& bytes, int i) {
  return (bytes[i / 8] & (0x80 >> (i % 8))) != 0;
}

}  // namespace

bool IsIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int family = 0;
  std::array<unsigned char, 16> bytes{};
  return ParseAddress(host, family, bytes);
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  Cidr out;
  const size_t slash = text.find('/');
  if (!ParseAddress(text.substr(0, slash), out.family_, out.bytes_)) {
    return Status::InvalidArgument("must be an IPv4 or IPv6 address or CIDR");
  }
  out.prefix_ = AddressBits(out.family_);
  if (slash == std::string_view::npos) return out;
  const std::string_view len = text.substr(slash + 1);
  unsigned value = 0;  // unsigned: from_chars takes no sign
  auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
  if (len.empty() || len.size() > 3 || ec != std::errc() || end != len.data() + len.size()) {
    return Status::InvalidArgument("has a bad prefix length");
  }
  if (value > static_cast<unsigned>(AddressBits(out.family_))) {
    return Status::InvalidArgument("has a prefix length longer than the address");
  }
  out.prefix_ = static_cast<int>(value);
  return out;
}

bool Cidr::Contains(std::string_view address) const { return AnyContains({this, 1}, address); }

bool Cidr::AnyContains(std::span<const Cidr> networks, std::string_view address) {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
  if (networks.empty() || !ParseAddress(address, family, bytes)) return false;
  return std::any_of(networks.begin(), networks.end(), [&](const Cidr& net) {
    if (net.family_ != family) return false;
    for (int i = 0; i < net.prefix_; ++i) {
      if (BitSet(net.bytes_, i) != BitSet(bytes, i)) return false;
    }
    return true;
  });
}

bool Cidr::HostBitsZero() const {
  for (int i = prefix_; i < AddressBits(family_); ++i) {
    if (BitSet(bytes_, i)) return false;
  }
  return true;
}

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_, bytes_.data(), buf, sizeof buf);
  std::string out = buf;
  out.append("/").append(std::to_string(prefix_));
  return out;
}

}  // namespace sb::core
