// Input validation for the admin API. Each function checks one kind of value and, when it is bad,
// returns INVALID_ARGUMENT with a message a person can act on and the request field at fault
// (passed in, so "inbound_sources[2]" or "page.page_size" name the exact field).
//
//   SB_RETURN_IF_ERROR(ValidateE164(req.e164, "e164"));
//   auto cidr = CanonicalCidr(text, "inbound_sources[0]");  // "10.0.0.1" -> "10.0.0.1/32"
#pragma once

#include <string>
#include <string_view>

#include "domain/model.h"
#include "switchboard/core/status.h"

namespace sb::admin {

// Tenant slug: 3..32 of [a-z0-9-], starting with a letter, not ending with '-'. It becomes the
// first label of the tenant's SIP domain, so it must be a valid DNS label.
Status ValidateSlug(std::string_view slug, std::string_view field);
// E.164 (ITU-T E.164): '+', a non-zero digit, at most 15 digits in all.
Status ValidateE164(std::string_view number, std::string_view field);
// Extension number: 2..8 digits.
Status ValidateExtensionNumber(std::string_view number, std::string_view field);
// SIP user part (RFC 3261 §25.1 `user`): unreserved, escaped or user-unreserved characters,
// at most 64.
Status ValidateSipUser(std::string_view user, std::string_view field);
// An extension's SIP user as the registrar matches it (CanonicalAor in services/signaling): no
// escape of a character that needs none, escapes in upper-case hex. Two users equal as URIs
// ("a%62", "ab") would otherwise be two extensions with one address of record.
Status ValidateCanonicalSipUser(std::string_view user, std::string_view field);
// A host name (RFC 1123 labels, at most 253 characters) or an IPv4 / IPv6 address literal.
Status ValidateHost(std::string_view host, std::string_view field);
// A DNS domain name as used for SIP domains: like ValidateHost, but no address literals.
Status ValidateDomain(std::string_view domain, std::string_view field);
Status ValidatePort(int64_t port, std::string_view field);
// 8..128 printable ASCII characters.
Status ValidatePassword(std::string_view password, std::string_view field);
// Names and display names for people: 1..max characters (UTF-8 allowed), no control characters,
// no '"' or '\' (display names end up inside a quoted SIP header value).
Status ValidateDisplayText(std::string_view text, std::string_view field, size_t max,
                           bool allow_empty);
// Trunk and API key names: 1..64 of [A-Za-z0-9_.-].
Status ValidateName(std::string_view name, std::string_view field);
// A number's routing target: "ext:<extension number>"; empty means unrouted.
Status ValidateTarget(std::string_view target, std::string_view field);
// Outbound prefix rule: match and prepend of at most 16 of [0-9+*#], strip 0..16.
Status ValidatePrefixRule(const PrefixRule& rule, std::string_view field);
// A resource id: a canonical UUID.
Status ValidateId(std::string_view id, std::string_view field);

// An IPv4 or IPv6 CIDR ("203.0.113.0/24", "2001:db8::/32") or a bare address (a /32 or /128),
// returned in canonical form. Host bits past the prefix must be zero: "10.0.0.1/8" is almost
// always a typo for a narrower rule.
Result<std::string> CanonicalCidr(std::string_view text, std::string_view field);
// True if the address (IPv4 or IPv6 text) lies in the canonical CIDR. False on any parse error.
bool CidrContains(std::string_view cidr, std::string_view address);

// The SIP domain of a tenant: "<slug>.<platform domain>".
std::string TenantSipDomain(std::string_view slug, std::string_view platform_domain);

}  // namespace sb::admin
