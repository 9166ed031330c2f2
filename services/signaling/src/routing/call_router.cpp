#include "routing/call_router.h"

#include <algorithm>
#include <string>

namespace sb::signaling {
namespace {

using b2bua::Route;

Route Refuse(int code, std::string_view reason, std::string_view cause) {
  Route r;
  r.code = code;
  r.reason = std::string(reason);
  r.cause = std::string(cause);
  return r;
}

// Nothing by that name: admin knows none, or the name cannot be one (admin refuses "+00..." as
// an E.164 number, INVALID_ARGUMENT). Any other failure means admin could not answer.
bool Missing(const Status& status) {
  return status.code() == StatusCode::kNotFound || status.code() == StatusCode::kInvalidArgument;
}

Route Unavailable() { return Refuse(503, "Routing Unavailable", "network_failure"); }

// Digits (and * #), optionally after one leading "+": what a number or a trunk prefix looks like.
bool IsDialString(std::string_view dialed) {
  if (!dialed.empty() && dialed.front() == '+') dialed.remove_prefix(1);
  return !dialed.empty() && std::all_of(dialed.begin(), dialed.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '*' || c == '#';
  });
}

// An E.164 number, "+" optional.
bool IsNumber(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Numbers are stored in E.164 with their "+"; a phone or a carrier may leave it out.
std::string E164(std::string_view dialed) {
  if (!dialed.empty() && dialed.front() == '+') return std::string(dialed);
  std::string e164 = "+";
  e164.append(dialed);
  return e164;
}

Route ToExtension(const ExtensionInfo& extension, std::string_view domain) {
  if (extension.tenant.suspended) return Refuse(403, "Tenant Suspended", "rejected");
  if (!extension.enabled) return Refuse(480, "Extension Disabled", "unavailable");
  Route r;
  r.domain = std::string(domain);
  r.extension = extension.sip_username;
  r.to_uri = "sip:" + extension.extension_number + "@" + r.domain;
  return r;
}

}  // namespace

Route AdminCallRouter::Resolve(const b2bua::Caller& caller, std::string_view dialed) {
  Route route;
  if (!caller.trunk_id.empty()) {
    route = FromTrunk(caller, dialed);
  } else if (dialed.empty()) {
    route = Refuse(404, "No Number Dialled", "not_found");
  } else if (auto extension = lookups_.Extension(caller.domain, dialed); extension.ok()) {
    route = ToExtension(*extension, caller.domain);
  } else if (!Missing(extension.status())) {
    route = Unavailable();
  } else {
    auto own = IsNumber(dialed) ? lookups_.Number(E164(dialed))
                                : Result<NumberRoute>(Status::NotFound("not a number"));
    if (own.ok() && own->tenant.id == caller.tenant) {
      route = ToNumberTarget(*own, caller.domain);
    } else if (!own.ok() && !Missing(own.status())) {
      route = Unavailable();
    } else {
      // Another tenant's number is reached like any outside number: through a trunk.
      route = ToTrunk(caller, dialed);
    }
  }
  if (route.from_uri.empty()) route.from_uri = "sip:" + caller.extension + "@" + caller.domain;
  return route;
}

Route AdminCallRouter::ThroughTrunk(const b2bua::Caller& caller, std::string_view trunk_id,
                                    std::string_view dialed, std::string_view caller_id) {
  if (!IsDialString(dialed)) return Refuse(404, "Not Found", "not_found");
  Route route = OutThrough(caller, {.tenant = caller.tenant,
                                    .dialed = std::string(dialed),
                                    .caller_id = std::string(caller_id),
                                    .trunk_id = std::string(trunk_id)});
  // No extension calls: the events show whom the carrier was shown.
  if (route.trunk) {
    route.from_uri = route.trunk->from_user.empty()
                         ? "sip:anonymous@anonymous.invalid"
                         : "sip:" + route.trunk->from_user + "@" + caller.domain;
  }
  return route;
}

Route AdminCallRouter::FromTrunk(const b2bua::Caller& caller, std::string_view dialed) const {
  if (!IsNumber(dialed)) return Refuse(404, "Not A Number", "not_found");
  auto number = lookups_.Number(E164(dialed));
  if (!number.ok()) {
    return Missing(number.status()) ? Refuse(404, "Unknown Number", "not_found") : Unavailable();
  }
  // A carrier reaches only the numbers of the tenant whose trunk it is.
  if (number->tenant.id != caller.tenant) return Refuse(404, "Unknown Number", "not_found");
  return ToNumberTarget(*number, caller.domain);
}

Route AdminCallRouter::ToNumberTarget(const NumberRoute& number, std::string_view domain) const {
  if (number.tenant.suspended) return Refuse(403, "Tenant Suspended", "rejected");
  constexpr std::string_view kExt = "ext:";
  if (number.target.substr(0, kExt.size()) != kExt) {
    return Refuse(480, "Number Not Routed", "unavailable");
  }
  auto extension = lookups_.Extension(domain, number.target.substr(kExt.size()));
  if (!extension.ok()) {
    // Admin checks the target when the number is routed; an extension deleted since is gone.
    return Missing(extension.status()) ? Refuse(480, "Number Not Routed", "unavailable")
                                       : Unavailable();
  }
  return ToExtension(*extension, domain);
}

Route AdminCallRouter::ToTrunk(const b2bua::Caller& caller, std::string_view dialed) const {
  if (!IsDialString(dialed)) return Refuse(404, "Not Found", "not_found");
  auto me = lookups_.Extension(caller.domain, caller.extension);
  if (!me.ok() && !Missing(me.status())) return Unavailable();
  return OutThrough(caller, {.tenant = caller.tenant,
                             .dialed = std::string(dialed),
                             .caller_id = me.ok() ? me->caller_id : std::string(),
                             .trunk_id = {}});
}

Route AdminCallRouter::OutThrough(const b2bua::Caller& caller, const OutboundQuery& query) const {
  auto out = lookups_.Outbound(query);
  if (!out.ok()) {
    return Missing(out.status()) ? Refuse(404, "No Route", "not_found") : Unavailable();
  }
  if (out->tenant.suspended) return Refuse(403, "Tenant Suspended", "rejected");
  // Admin keeps TLS trunks, this node has no TLS transport yet: a clear refusal now rather than
  // an INVITE nobody can read and the caller's wait for the silence timeout.
  if (out->gateway.transport != sip::Transport::kUdp &&
      out->gateway.transport != sip::Transport::kTcp) {
    return Refuse(503, "Trunk Transport Unsupported", "network_failure");
  }
  // Either way the carrier cannot be reached: not the caller's mistake, so no 404 (the number
  // may well exist behind it).
  auto hops = locate_gateway_(out->gateway);
  if (!hops.ok()) {
    return Refuse(
        503,
        hops.status().code() == StatusCode::kNotFound ? "Gateway Not Found" : "Gateway Unresolved",
        "network_failure");
  }
  std::string host = out->gateway.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6 reference
  b2bua::TrunkGateway trunk;
  trunk.trunk_id = out->trunk_id;
  trunk.destination = hops->front();
  trunk.alternates.assign(hops->begin() + 1, hops->end());
  // The gateway as admin has it (RFC 3263 §4: a name stays a name; no port, no SRV bypass).
  trunk.request_uri = "sip:" + out->dialed + "@" + host;
  if (out->gateway.port != 0) {
    trunk.request_uri += ':';
    trunk.request_uri += std::to_string(out->gateway.port);
  }
  if (out->gateway.transport == sip::Transport::kTcp) trunk.request_uri += ";transport=tcp";
  // PASSTHROUGH of an extension without a caller id presents its number rather than nothing
  // (a call placed as the tenant, with neither, goes anonymous).
  if (!out->caller_id_blocked) {
    trunk.from_user = out->caller_id.empty() ? caller.extension : out->caller_id;
  }
  trunk.username = out->username;
  trunk.password = out->password;
  Route r;
  r.domain = caller.domain;
  r.to_uri = "sip:" + out->dialed + "@" + host;
  r.trunk = std::move(trunk);
  return r;
}

}  // namespace sb::signaling
