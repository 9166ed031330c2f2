// Parameter lists as views (";a=b;c" and "a=b, c=d"), scanned on demand.
#include "internal/scan.h"
#include "switchboard/sip/uri.h"

namespace sb::sip {

void Params::Iterator::Advance() {
  // One pass over the text. Empty segments (";;") carry nothing a caller could look up, so the
  // iterator passes over them; the header parsers reject them where the grammar forbids them.
  const char* p = rest_.data();
  const char* end = p + rest_.size();
  for (;;) {
    while (p < end && (*p == sep_ || internal::IsLws(*p))) ++p;
    if (p == end) {
      rest_ = std::string_view(end, 0);
      done_ = true;
      return;
    }
    const char* name = p;
    while (p < end && *p != '=' && *p != sep_ && !internal::IsLws(*p)) ++p;
    current_.name = std::string_view(name, static_cast<size_t>(p - name));
    while (p < end && internal::IsLws(*p)) ++p;
    if (p < end && *p == '=') {
      ++p;
      while (p < end && internal::IsLws(*p)) ++p;
      const char* value = p;
      if (p < end && *p == '"') {
        size_t close = internal::FindQuoteEnd(std::string_view(p, static_cast<size_t>(end - p)), 0);
        p = close == std::string_view::npos ? end : p + close + 1;
      } else {
        while (p < end && *p != sep_ && !internal::IsLws(*p)) ++p;
      }
      current_.value = std::string_view(value, static_cast<size_t>(p - value));
      current_.has_value = true;
    } else {
      current_.value = {};
      current_.has_value = false;
    }
    // Anything else up to the next separator is not part of a well-formed parameter; skip it.
    while (p < end && *p != sep_) {
      if (*p == '"') {
        size_t close = internal::FindQuoteEnd(std::string_view(p, static_cast<size_t>(end - p)), 0);
        p = close == std::string_view::npos ? end : p + close;
      }
      ++p;
    }
    rest_ = std::string_view(p, static_cast<size_t>(end - p));
    if (current_.name.empty() && !current_.has_value) continue;
    done_ = false;
    return;
  }
}

Params::Iterator Params::begin() const { return Iterator(raw_, sep_); }
Params::Iterator Params::end() const { return Iterator(); }

std::optional<std::string_view> Params::Get(std::string_view name) const {
  // Iterator::Advance's walk, inlined, with the name compared before anything is stored: tag and
  // branch lookups run on every message. Any change here must keep the two walks identical.
  const char* p = raw_.data();
  const char* end = p + raw_.size();
  while (p < end) {
    while (p < end && (*p == sep_ || internal::IsLws(*p))) ++p;
    if (p == end) break;
    const char* begin = p;
    while (p < end && *p != '=' && *p != sep_ && !internal::IsLws(*p)) ++p;
    std::string_view found(begin, static_cast<size_t>(p - begin));
    while (p < end && internal::IsLws(*p)) ++p;
    std::string_view value;
    bool has_value = false;
    if (p < end && *p == '=') {
      has_value = true;
      ++p;
      while (p < end && internal::IsLws(*p)) ++p;
      const char* v = p;
      if (p < end && *p == '"') {
        size_t close = internal::FindQuoteEnd(std::string_view(p, static_cast<size_t>(end - p)), 0);
        p = close == std::string_view::npos ? end : p + close + 1;
      } else {
        while (p < end && *p != sep_ && !internal::IsLws(*p)) ++p;
      }
      value = std::string_view(v, static_cast<size_t>(p - v));
    }
    while (p < end && *p != sep_) {
      if (*p == '"') {
        size_t close = internal::FindQuoteEnd(std::string_view(p, static_cast<size_t>(end - p)), 0);
        p = close == std::string_view::npos ? end : p + close;
      }
      ++p;
    }
    if (found.empty() && !has_value) continue;
    if (found.size() == name.size() && core::EqualsIgnoreCase(found, name)) return value;
  }
  return std::nullopt;
}

bool Params::empty() const { return begin() == end(); }

size_t Params::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

}  // namespace sb::sip
