// Parameter lists as views (";a=b;c" and "a=b, c=d"), scanned on demand.
#include "internal/scan.h"
#include "switchboard/sip/uri.h"

namespace sb::sip {

void Params::Iterator::Advance() {
  // Empty segments (";;") carry nothing a caller could look up, so the iterator passes over
  // them; the header parsers reject them where the grammar forbids them.
  for (;;) {
    rest_ = internal::TrimLeft(rest_);
    while (!rest_.empty() && rest_.front() == sep_) rest_ = internal::TrimLeft(rest_.substr(1));
    if (rest_.empty()) {
      done_ = true;
      return;
    }
    size_t end = internal::FindTopLevel(rest_, sep_, 0, false);
    if (end == std::string_view::npos) end = rest_.size();
    std::string_view seg = internal::TrimRight(rest_.substr(0, end));
    rest_ = rest_.substr(end);
    size_t eq = seg.find('=');
    // An '=' inside a quoted value does not split it; names never contain quotes.
    size_t quote = seg.find('"');
    if (quote != std::string_view::npos && quote < eq) eq = std::string_view::npos;
    current_.name = internal::TrimRight(seg.substr(0, eq));
    if (eq == std::string_view::npos) {
      current_.value = {};
      current_.has_value = false;
    } else {
      current_.value = internal::Trim(seg.substr(eq + 1));
      current_.has_value = true;
    }
    if (current_.name.empty() && !current_.has_value) continue;
    done_ = false;
    return;
  }
}

Params::Iterator Params::begin() const { return Iterator(raw_, sep_); }
Params::Iterator Params::end() const { return Iterator(); }

std::optional<std::string_view> Params::Get(std::string_view name) const {
  for (const Param& p : *this) {
    if (internal::EqualsNoCase(p.name, name)) return p.value;
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
