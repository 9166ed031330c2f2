// A hash map keyed by std::string that finds by std::string_view without building a string:
// for the tables a hot path looks up by a key it holds as a view (transaction keys, source
// addresses). Unordered on purpose: an ordered map of keys sharing a long prefix ("z9hG4bK...")
// pays a string comparison per tree level: 3 % of sb-signaling's CPU samples once its endpoint
// held 30 s of calls' transactions.
//
//   sb::core::StringMap<Entry> entries;
//   entries.emplace("z9hG4bK-1|INVITE", Entry{});
//   auto it = entries.find(std::string_view(key));   // no temporary std::string
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sb::core {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace sb::core
