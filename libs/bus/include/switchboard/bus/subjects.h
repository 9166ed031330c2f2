// Subject and stream names: the one place that spells them (ARCHITECTURE.md, "The bus").
//
//   events         sb.evt.<domain>.<type>.<tenant_id>       sb.evt.call.answered.<tenant>
//   commands       sb.cmd.<service>.<operation>             sb.cmd.billing.authorize
//   node commands  sb.cmd.<service>.<node_id>.<operation>   sb.cmd.media.media-1.play
//
//   auto subject = sb::bus::subjects::Event("call", "answered", tenant);
//   if (!subject.ok()) return subject.status();
//   bus.Publish({.subject = *subject, .data = body});
//   bus.Subscribe(*subjects::EventFilter("call", "*", "*"), "", handler);  // every tenant
//
// A token is one dot-separated part: non-empty, letters, digits, '-' and '_' only, so a tenant
// id or operation can never smuggle in a dot, a space or a wildcard.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::bus::subjects {

inline constexpr std::string_view kEventPrefix = "sb.evt";
inline constexpr std::string_view kCommandPrefix = "sb.cmd";
// The domains whose events must not be lost, which the events stream captures: calls, messages,
// billing, admin's changes (tenants, extensions, numbers, trunks: the caches follow them) and
// registrations. Media events (DTMF, leg statistics, node load) are about live media, useless
// late, and stay on core NATS: storing them cost the server two file writes per call.
inline constexpr std::array<std::string_view, 8> kDurableEventDomains = {
    "call", "message", "billing", "tenant", "extension", "number", "trunk", "registration"};
// The JetStream stream of events that must not be lost (call, message, billing, tenant).
inline constexpr std::string_view kEventsStream = "SB_EVENTS";

// OK when `token` is a valid token; INVALID_ARGUMENT naming `what` otherwise.
Status ValidateToken(std::string_view token, std::string_view what);

Result<std::string> Event(std::string_view domain, std::string_view type, const TenantId& tenant);
Result<std::string> Command(std::string_view service, std::string_view operation);
Result<std::string> NodeCommand(std::string_view service, std::string_view node_id,
                                std::string_view operation);

// Every command for one node: sb.cmd.<service>.<node_id>.*
Result<std::string> NodeCommandFilter(std::string_view service, std::string_view node_id);

// A subscription pattern over events: each argument is a token or "*"; `tenant` may also be ">".
Result<std::string> EventFilter(std::string_view domain, std::string_view type,
                                std::string_view tenant);

// The parts of an event subject (for logging and routing on the consumer side).
struct EventSubject {
  std::string domain;
  std::string type;
  TenantId tenant;
};
Result<EventSubject> ParseEvent(std::string_view subject);

// NATS subject matching: `*` matches one token, a final `>` one or more.
bool Matches(std::string_view pattern, std::string_view subject);

// A syntactically valid subject (publish: no wildcards) or pattern (subscribe: wildcards as
// whole tokens, `>` only last). Used by the buses to reject nonsense before the wire.
bool IsValidSubject(std::string_view subject);
bool IsValidPattern(std::string_view pattern);

}  // namespace sb::bus::subjects
