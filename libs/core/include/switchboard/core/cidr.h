// IP addresses and networks: admin's trunk source ranges and hosts, signaling's trusted proxies
// and trunk gateways.
//
//   sb::core::IsIpLiteral("[2001:db8::1]");               // true: nothing to look up in DNS
//   auto net = sb::core::Cidr::Parse("203.0.113.0/24");   // a bare address is a /32 or /128
//   if (net.ok() && net->Contains("203.0.113.7")) ...
//   net->ToString();                                      // "203.0.113.0/24"
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "switchboard/core/status.h"

namespace sb::core {

// An IPv4 or IPv6 address, the latter also in brackets as URIs write it.
bool IsIpLiteral(std::string_view host);

class Cidr {
 public:
  // INVALID_ARGUMENT with a message that completes "<field> ..." ("has a bad prefix length").
  static Result<Cidr> Parse(std::string_view text);

  // False for an address of the other family or one that does not parse.
  bool Contains(std::string_view address) const;
  // Whether any of `networks` contains `address` (parsed once, for a list checked per request).
  static bool AnyContains(std::span<const Cidr> networks, std::string_view address);
  // No address bit set past the prefix ("10.0.0.1/8" is almost always a typo for a narrower one).
  bool HostBitsZero() const;
  // The address as inet_ntop writes it, "/", the prefix length.
  std::string ToString() const;

 private:
  int family_ = 0;
  std::array<unsigned char, 16> bytes_{};
  int prefix_ = 0;
};

}  // namespace sb::core
