// Small text helpers shared by the SDP parser and the attribute accessors.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/core/ascii.h"

namespace sb::sdp::internal {

// Space-separated fields; runs of spaces count as one separator.
inline std::vector<std::string_view> Fields(std::string_view v) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && v[i] == ' ') ++i;
    size_t start = i;
    while (i < v.size() && v[i] != ' ') ++i;
    if (i > start) out.push_back(v.substr(start, i - start));
  }
  return out;
}

inline std::pair<std::string_view, std::optional<std::string_view>> SplitFirst(std::string_view v,
                                                                               char sep) {
  size_t at = v.find(sep);
  if (at == std::string_view::npos) return {v, std::nullopt};
  return {v.substr(0, at), v.substr(at + 1)};
}

// Decimal digits only (no sign, no spaces), at most `max`.
inline std::optional<uint64_t> ParseUint(std::string_view v, uint64_t max) {
  if (v.empty() || v.size() > 20) return std::nullopt;
  uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out > max) return std::nullopt;
  return out;
}

using core::EqualsIgnoreCase;

}  // namespace sb::sdp::internal
