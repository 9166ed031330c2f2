#include "auth_params.h"

namespace sb::sip::internal {
namespace {

constexpr size_t kMaxParams = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 3261 §25.1 token characters.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
    case '/':  // not a token char, but real nonces and URIs in the uri parameter carry it
    case ':':
    case '@':
      return true;
    default:
      return false;
  }
}

void SkipSpace(std::string_view v, size_t& i) {
  while (i < v.size() && IsSpace(v[i])) ++i;
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ParseDigestParams(std::string_view v) {
  size_t i = 0;
  SkipSpace(v, i);
  size_t scheme_start = i;
  while (i < v.size() && !IsSpace(v[i])) ++i;
  if (!EqualsIgnoreCase(v.substr(scheme_start, i - scheme_start), "Digest")) {
    return Status::InvalidArgument("not a Digest scheme", "authorization");
  }
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(12);  // what a client's credentials carry, so that the list is not regrown
  while (true) {
    SkipSpace(v, i);
    if (i >= v.size()) break;
    if (out.size() >= kMaxParams) {
      return Status::InvalidArgument("too many digest parameters", "authorization");
    }
    size_t name_start = i;
    while (i < v.size() && IsTokenChar(v[i]) && v[i] != '=') ++i;
    std::string name(v.substr(name_start, i - name_start));
    if (name.empty()) return Status::InvalidArgument("digest parameter without a name");
    SkipSpace(v, i);
    if (i >= v.size() || v[i] != '=') {
      return Status::InvalidArgument("digest parameter " + name + " without a value");
    }
    ++i;
    SkipSpace(v, i);
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      // The common value has no escapes: taken whole, not a character at a time.
      const size_t special = v.find_first_of("\"\\", i);
      bool closed = special != std::string_view::npos && v[special] == '"';
      if (closed) {
        value.assign(v.substr(i, special - i));
        i = special + 1;
      }
      while (!closed && i < v.size()) {
        char c = v[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= v.size()) break;
          c = v[i++];
        }
        value += c;
      }
      if (!closed) return Status::InvalidArgument("unterminated quoted string in " + name);
    } else {
      size_t start = i;
      while (i < v.size() && v[i] != ',' && !IsSpace(v[i])) ++i;
      value = std::string(v.substr(start, i - start));
    }
    out.emplace_back(std::move(name), std::move(value));
    SkipSpace(v, i);
    if (i >= v.size()) break;
    if (v[i] != ',') return Status::InvalidArgument("expected ',' between digest parameters");
    ++i;
  }
  return out;
}

bool IsStrictToken(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (!IsTokenChar(c) || c == '/' || c == ':' || c == '@') return false;
  }
  return true;
}

std::string Quote(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::vector<std::string_view> SplitList(std::string_view value) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ',' || IsSpace(value[i]))) ++i;
    size_t start = i;
    while (i < value.size() && value[i] != ',' && !IsSpace(value[i])) ++i;
    if (i > start) out.push_back(value.substr(start, i - start));
  }
  return out;
}

}  // namespace sb::sip::internal
