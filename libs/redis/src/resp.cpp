#include "internal/resp.h"

namespace sb::redis::internal {

void AppendResp(std::string& out, const std::vector<std::string>& args) {
  AppendResp(out, args, {}, {});
}

void AppendResp(std::string& out, const std::vector<std::string>& args,
                const std::vector<size_t>& key_positions, std::string_view prefix) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  size_t next_key = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool key = next_key < key_positions.size() && key_positions[next_key] == i;
    if (key) ++next_key;
    out += '$';
    out += std::to_string(args[i].size() + (key ? prefix.size() : 0));
    out += "\r\n";
    if (key) out += prefix;
    out += args[i];
    out += "\r\n";
  }
}

}  // namespace sb::redis::internal
