#include "switchboard/bus/subjects.h"

#include <vector>

namespace sb::bus::subjects {
namespace {

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// What NATS itself refuses inside a token: whitespace, and empty tokens.
bool IsWireToken(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

Status ValidateFilterToken(std::string_view token, std::string_view what) {
  if (token == "*") return Status::Ok();
  return ValidateToken(token, what);
}

}  // namespace

Status ValidateToken(std::string_view token, std::string_view what) {
  if (token.empty()) {
    return Status::InvalidArgument(std::string(what) + " must not be empty", std::string(what));
  }
  for (char c : token) {
    if (!IsTokenChar(c)) {
      return Status::InvalidArgument(std::string(what) + " \"" + std::string(token) +
                                         "\" may hold only letters, digits, '-' and '_'",
                                     std::string(what));
    }
  }
  return Status::Ok();
}

Result<std::string> Event(std::string_view domain, std::string_view type, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(ValidateToken(domain, "domain"));
  SB_RETURN_IF_ERROR(ValidateToken(type, "type"));
  SB_RETURN_IF_ERROR(ValidateToken(tenant.str(), "tenant_id"));
  return std::string(kEventPrefix) + "." + std::string(domain) + "." + std::string(type) + "." +
         tenant.str();
}

Result<std::string> Command(std::string_view service, std::string_view operation) {
  SB_RETURN_IF_ERROR(ValidateToken(service, "service"));
  SB_RETURN_IF_ERROR(ValidateToken(operation, "operation"));
  return std::string(kCommandPrefix) + "." + std::string(service) + "." + std::string(operation);
}

Result<std::string> NodeCommand(std::string_view service, std::string_view node_id,
                                std::string_view operation) {
  SB_RETURN_IF_ERROR(ValidateToken(service, "service"));
  SB_RETURN_IF_ERROR(ValidateToken(node_id, "node_id"));
  SB_RETURN_IF_ERROR(ValidateToken(operation, "operation"));
  return std::string(kCommandPrefix) + "." + std::string(service) + "." + std::string(node_id) +
         "." + std::string(operation);
}

Result<std::string> NodeCommandFilter(std::string_view service, std::string_view node_id) {
  SB_RETURN_IF_ERROR(ValidateToken(service, "service"));
  SB_RETURN_IF_ERROR(ValidateToken(node_id, "node_id"));
  return std::string(kCommandPrefix) + "." + std::string(service) + "." + std::string(node_id) +
         ".*";
}

Result<std::string> EventFilter(std::string_view domain, std::string_view type,
                                std::string_view tenant) {
  SB_RETURN_IF_ERROR(ValidateFilterToken(domain, "domain"));
  SB_RETURN_IF_ERROR(ValidateFilterToken(type, "type"));
  if (tenant != ">") SB_RETURN_IF_ERROR(ValidateFilterToken(tenant, "tenant_id"));
  return std::string(kEventPrefix) + "." + std::string(domain) + "." + std::string(type) + "." +
         std::string(tenant);
}

Result<EventSubject> ParseEvent(std::string_view subject) {
  const auto tokens = Split(subject);
  if (tokens.size() != 5 || tokens[0] != "sb" || tokens[1] != "evt") {
    return Status::InvalidArgument(
        "\"" + std::string(subject) + "\" is not sb.evt.<domain>.<type>.<tenant_id>", "subject");
  }
  SB_RETURN_IF_ERROR(ValidateToken(tokens[2], "domain"));
  SB_RETURN_IF_ERROR(ValidateToken(tokens[3], "type"));
  SB_RETURN_IF_ERROR(ValidateToken(tokens[4], "tenant_id"));
  return EventSubject{std::string(tokens[2]), std::string(tokens[3]),
                      TenantId(std::string(tokens[4]))};
}

bool Matches(std::string_view pattern, std::string_view subject) {
  const auto p = Split(pattern);
  const auto s = Split(subject);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return i == p.size() - 1 && s.size() > i;
    if (i >= s.size()) return false;
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return p.size() == s.size();
}

bool IsValidSubject(std::string_view subject) {
  for (auto t : Split(subject)) {
    if (!IsWireToken(t) || t == "*" || t == ">") return false;
  }
  return true;
}

bool IsValidPattern(std::string_view pattern) {
  const auto tokens = Split(pattern);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!IsWireToken(tokens[i])) return false;
    if (tokens[i] == ">" && i != tokens.size() - 1) return false;
  }
  return true;
}

}  // namespace sb::bus::subjects
