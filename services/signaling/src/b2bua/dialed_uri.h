// What a URI that a command or a REFER names dials: a tel: URI its global number, visual
// separators dropped (RFC 3966 §5.1.4), which the router takes as the tenant's own number or as a
// trunk's prefix rule would; a local tel: number whose context is the tenant's domain
// (RFC 3966 §5.1.5) its digits, as the tenant's own short number or extension; a sip: URI its
// user, when its host is the tenant's domain.
//
//   auto dialed = TelDialed(*sip::ParseUri("tel:+44-20-7946-0000"), "to_uri");  // "+442079460000"
//   if (!SameDomain(uri.host, caller.domain)) ...
#pragma once

#include <string>
#include <string_view>

#include "switchboard/core/status.h"
#include "switchboard/sip/uri.h"

namespace sb::signaling::b2bua {

// INVALID_ARGUMENT naming `field` for a local number whose phone-context is not `local_context`
// (empty: none is ours; another context's numbers are not ours to guess), a number with anything
// besides digits and separators, or one with an ext or isub (a route cannot dial them).
Result<std::string> TelDialed(const sip::Uri& uri, std::string_view field,
                              std::string_view local_context);

// Hosts compare case-insensitively (RFC 3261 §19.1.4).
bool SameDomain(std::string_view a, std::string_view b);

}  // namespace sb::signaling::b2bua
