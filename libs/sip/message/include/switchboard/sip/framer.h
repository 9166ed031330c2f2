// Cutting a byte stream (TCP, TLS) into SIP messages by Content-Length (RFC 3261 §18.3).
// Feed it whatever each read returned; take out each complete message. A message split across
// reads waits for the rest; several messages in one read come out one by one; keep-alive CRLFs
// between messages (RFC 5626 §3.5.1) are skipped. Exceeding a limit, a missing, negative or
// conflicting Content-Length are errors after which the connection must be closed.
//
//   sb::sip::StreamFramer framer;
//   framer.Append(bytes_read);
//   for (;;) {
//     auto next = framer.Next();
//     if (!next.ok()) { Send(next.error().response); Close(); break; }
//     if (!next->has_value()) break;                      // need more bytes
//     auto msg = sb::sip::Message::Parse(**next, {.framing = sb::sip::Framing::kStream});
//     ...
//   }
//
// The string_view returned by Next() is valid until the next call to Append() or Next().
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchboard/sip/message.h"

namespace sb::sip {

class StreamFramer {
 public:
  explicit StreamFramer(ParseLimits limits = {}) : limits_(limits) {}

  void Append(std::string_view bytes);
  // A complete message, nullopt if more bytes are needed, or the error that ends the stream.
  Parsed<std::optional<std::string_view>> Next();
  // Bytes received and not yet returned.
  size_t buffered() const { return buffer_.size() - consumed_; }
  // Whether a started message is waiting for more bytes (a peer closing now truncated it).
  bool mid_message() const;

 private:
  ParseLimits limits_;
  std::string buffer_;
  size_t consumed_ = 0;
  bool failed_ = false;
  ParseError error_;
};

}  // namespace sb::sip
