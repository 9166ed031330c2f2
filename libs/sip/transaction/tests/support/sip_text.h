// Test messages: RFC 3261-shaped requests and responses as text, parsed.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip::test {

inline Message Parse(std::string_view text) {
  auto m = Message::Parse(text);
  if (!m.ok()) FAIL("test message does not parse: " << m.error().ToString() << "\n" << text);
  return std::move(*m);
}

inline std::string RequestText(std::string_view method, std::string_view branch, uint32_t cseq = 1,
                               std::string_view via_host = "127.0.0.1:5061",
                               std::string_view extra_via_params = "") {
  std::string m(method);
  return m + " sip:bob@127.0.0.1:5062 SIP/2.0\r\n" + "Via: SIP/2.0/UDP " + std::string(via_host) +
         ";branch=" + std::string(branch) + std::string(extra_via_params) + "\r\n" +
         "Max-Forwards: 70\r\n"
         "Route: <sip:proxy.example;lr>\r\n"
         "From: Alice <sip:alice@127.0.0.1>;tag=1928301774\r\n"
         "To: Bob <sip:bob@127.0.0.1>\r\n"
         "Call-ID: a84b4c76e66710@127.0.0.1\r\n"
         "CSeq: " +
         std::to_string(cseq) + " " + m +
         "\r\n"
         "Contact: <sip:alice@127.0.0.1:5061>\r\n"
         "Content-Length: 0\r\n\r\n";
}

inline Message Request(std::string_view method, std::string_view branch = "z9hG4bK776asdhds",
                       uint32_t cseq = 1) {
  return Parse(RequestText(method, branch, cseq));
}

inline Message Response(const Message& request, int code, std::string_view to_tag = "a6c85cf") {
  auto built = MakeResponse(request, code, {}, to_tag).BuildMessage();
  if (!built.ok()) FAIL("response does not build: " << built.error().ToString());
  return std::move(*built);
}

// The actions of one kind, for assertions.
template <typename T>
std::vector<T> Only(const Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

inline bool Starts(const Actions& actions, TimerId id, std::chrono::milliseconds after) {
  for (const auto& a : Only<action::StartTimer>(actions)) {
    if (a.id == id && a.after == after) return true;
  }
  return false;
}
inline bool Stops(const Actions& actions, TimerId id) {
  for (const auto& a : Only<action::StopTimer>(actions)) {
    if (a.id == id) return true;
  }
  return false;
}
inline bool Terminates(const Actions& actions) {
  return !Only<action::Terminated>(actions).empty();
}
inline size_t Sends(const Actions& actions) { return Only<action::Send>(actions).size(); }
inline size_t Passes(const Actions& actions) {
  size_t n = 0;
  for (const auto& a : actions) n += std::holds_alternative<action::PassToTu>(a) ? 1 : 0;
  return n;
}

}  // namespace sb::sip::test
