#include "internal/resp.h"

#include <charconv>
#include <cstring>

namespace sb::redis::internal {
namespace {

// Room for "<marker><n>\r\n" with any size_t.
constexpr size_t kHeaderRoom = 1 + 20 + 2;

char* WriteHeader(char* p, char marker, size_t n) {
  *p++ = marker;
  p = std::to_chars(p, p + 20, n).ptr;
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

char* Write(char* p, std::string_view bytes) {
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

}  // namespace

void AppendResp(std::string& out, const std::vector<std::string>& args) {
  AppendResp(out, args, {}, {});
}

void AppendResp(std::string& out, const std::vector<std::string>& args,
                const std::vector<size_t>& key_positions, std::string_view prefix) {
  // Sized once and written through a pointer: this runs for every argument of every command on
  // the SIP loop's Redis connection.
  size_t room = kHeaderRoom + key_positions.size() * prefix.size();
  for (const auto& a : args) room += kHeaderRoom + a.size() + 2;
  const size_t start = out.size();
  out.resize(start + room);
  char* p = WriteHeader(out.data() + start, '*', args.size());
  size_t next_key = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool key = next_key < key_positions.size() && key_positions[next_key] == i;
    if (key) ++next_key;
    p = WriteHeader(p, '$', args[i].size() + (key ? prefix.size() : 0));
    if (key) p = Write(p, prefix);
    p = Write(p, args[i]);
    p = Write(p, "\r\n");
  }
  out.resize(static_cast<size_t>(p - out.data()));
}

}  // namespace sb::redis::internal
