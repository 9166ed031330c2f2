#include "domain/validation.h"

#include <string>

#include "switchboard/core/cidr.h"
#include "switchboard/core/ids.h"
#include "switchboard/sip/uri.h"

namespace sb::admin {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

Status Bad(std::string_view field, std::string message) {
  return Status::InvalidArgument(std::string(field) + " " + message, std::string(field));
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

Status CheckDomainName(std::string_view name, std::string_view field) {
  if (name.empty()) return Bad(field, "is required");
  if (name.size() > 253) return Bad(field, "is longer than 253 characters");
  size_t labels = 0;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    if (!ValidLabel(name.substr(start, dot - start))) {
      return Bad(field, "must be a host name of dot-separated labels of letters, digits and '-'");
    }
    ++labels;
    start = dot + 1;
    if (labels > 127) break;
  }
  // A name of digits and dots only would be read as a (bad) IPv4 address by SIP peers.
  bool numeric = true;
  for (char c : name) {
    if (!IsDigit(c) && c != '.') numeric = false;
  }
  if (numeric) return Bad(field, "is neither a valid IP address nor a host name");
  return Status::Ok();
}

}  // namespace

Status ValidateSlug(std::string_view slug, std::string_view field) {
  if (slug.empty()) return Bad(field, "is required");
  if (slug.size() < 3 || slug.size() > 32) return Bad(field, "must be 3 to 32 characters long");
  if (!IsLower(slug.front())) return Bad(field, "must start with a lowercase letter");
  if (slug.back() == '-') return Bad(field, "must not end with '-'");
  for (char c : slug) {
    if (!IsLower(c) && !IsDigit(c) && c != '-') {
      return Bad(field, "may contain only lowercase letters, digits and '-'");
    }
  }
  return Status::Ok();
}

Status ValidateE164(std::string_view number, std::string_view field) {
  if (number.empty()) return Bad(field, "is required");
  if (number.front() != '+') return Bad(field, "must be in E.164 form, starting with '+'");
  std::string_view digits = number.substr(1);
  if (digits.empty() || !AllDigits(digits)) {
    return Bad(field, "must be '+' followed by digits only (E.164)");
  }
  if (digits.front() == '0') return Bad(field, "must not have a country code starting with 0");
  if (digits.size() < 2 || digits.size() > 15) return Bad(field, "must have 2 to 15 digits");
  return Status::Ok();
}

Status ValidateExtensionNumber(std::string_view number, std::string_view field) {
  if (number.empty()) return Bad(field, "is required");
  if (!AllDigits(number)) return Bad(field, "must contain digits only");
  if (number.size() < 2 || number.size() > 8) return Bad(field, "must have 2 to 8 digits");
  return Status::Ok();
}

Status ValidateSipUser(std::string_view user, std::string_view field) {
  if (user.empty()) return Bad(field, "is required");
  if (user.size() > 64) return Bad(field, "is longer than 64 characters");
  static constexpr std::string_view kAllowed = "-_.!~*'()&=+$,;?/";
  for (size_t i = 0; i < user.size(); ++i) {
    char c = user[i];
    if (IsAlnum(c) || kAllowed.find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < user.size() && IsHex(user[i + 1]) && IsHex(user[i + 2])) {
      i += 2;
      continue;
    }
    return Bad(field, "is not a valid SIP user (RFC 3261): bad character at position " +
                          std::to_string(i + 1));
  }
  return Status::Ok();
}

Status ValidateCanonicalSipUser(std::string_view user, std::string_view field) {
  SB_RETURN_IF_ERROR(ValidateSipUser(user, field));
  const std::string canonical = sip::Escape(sip::Unescape(user), sip::UriComponent::kUser);
  if (canonical != user) {
    std::string message = "must be written as \"";
    message.append(canonical).append("\": escape only what a SIP user must, in upper-case hex");
    return Bad(field, std::move(message));
  }
  return Status::Ok();
}

Status ValidateHost(std::string_view host, std::string_view field) {
  if (host.empty()) return Bad(field, "is required");
  if (core::IsIpLiteral(host)) return Status::Ok();
  return CheckDomainName(host, field);
}

Status ValidateDomain(std::string_view domain, std::string_view field) {
  if (!domain.empty() && core::IsIpLiteral(domain)) return Bad(field, "must be a domain name");
  return CheckDomainName(domain, field);
}

Status ValidatePort(int64_t port, std::string_view field) {
  if (port < 1 || port > 65535) return Bad(field, "must be between 1 and 65535");
  return Status::Ok();
}

Status ValidatePassword(std::string_view password, std::string_view field) {
  if (password.size() < 8) return Bad(field, "must be at least 8 characters long");
  if (password.size() > 128) return Bad(field, "must be at most 128 characters long");
  for (char c : password) {
    if (c < 0x20 || c > 0x7e) return Bad(field, "may contain only printable ASCII characters");
  }
  return Status::Ok();
}

Status ValidateDisplayText(std::string_view text, std::string_view field, size_t max,
                           bool allow_empty) {
  if (text.empty()) return allow_empty ? Status::Ok() : Bad(field, "is required");
  if (text.size() > max) {
    return Bad(field, "is longer than " + std::to_string(max) + " bytes");
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return Bad(field, "must not contain control characters");
    if (c == '"' || c == '\\') return Bad(field, "must not contain '\"' or '\\'");
  }
  return Status::Ok();
}

Status ValidateName(std::string_view name, std::string_view field) {
  if (name.empty()) return Bad(field, "is required");
  if (name.size() > 64) return Bad(field, "is longer than 64 characters");
  for (char c : name) {
    if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') {
      return Bad(field, "may contain only letters, digits, '_', '-' and '.'");
    }
  }
  return Status::Ok();
}

Status ValidateTarget(std::string_view target, std::string_view field) {
  if (target.empty()) return Status::Ok();
  static constexpr std::string_view kExt = "ext:";
  if (target.substr(0, kExt.size()) != kExt) {
    return Bad(field, "must be 'ext:<extension number>'");
  }
  Status s = ValidateExtensionNumber(target.substr(kExt.size()), field);
  if (!s.ok()) return Bad(field, "must be 'ext:<extension number>' with 2 to 8 digits");
  return Status::Ok();
}

Status ValidatePrefixRule(const PrefixRule& rule, std::string_view field) {
  auto dial = [](std::string_view s) {
    if (s.size() > 16) return false;
    for (char c : s) {
      if (!IsDigit(c) && c != '+' && c != '*' && c != '#') return false;
    }
    return true;
  };
  std::string f(field);
  if (!dial(rule.match)) return Bad(f + ".match", "must be at most 16 of 0-9 + * #");
  if (rule.strip < 0 || rule.strip > 16) return Bad(f + ".strip", "must be between 0 and 16");
  if (!dial(rule.prepend)) return Bad(f + ".prepend", "must be at most 16 of 0-9 + * #");
  return Status::Ok();
}

Status ValidateId(std::string_view id, std::string_view field) {
  if (id.empty()) return Bad(field, "is required");
  if (!core::IsUuid(id)) return Bad(field, "must be a UUID");
  return Status::Ok();
}

Result<std::string> CanonicalCidr(std::string_view text, std::string_view field) {
  if (text.empty()) return Bad(field, "is required");
  auto cidr = core::Cidr::Parse(text);
  if (!cidr.ok()) return Bad(field, std::string(cidr.status().message()));
  if (!cidr->HostBitsZero()) return Bad(field, "has address bits set past the prefix length");
  return cidr->ToString();
}

bool CidrContains(std::string_view cidr, std::string_view address) {
  auto net = core::Cidr::Parse(cidr);
  return net.ok() && net->Contains(address);
}

std::string TenantSipDomain(std::string_view slug, std::string_view platform_domain) {
  return std::string(slug) + "." + std::string(platform_domain);
}

}  // namespace sb::admin
