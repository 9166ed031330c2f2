// Cutting a byte stream (TCP, TLS) into SIP messages by Content-Length (RFC 3261 §18.3).
// Feed it whatever each read returned; take out each complete message. A message split across
// reads waits for the rest; several messages in one read come out one by one; keep-alive CRLFs
// between messages (RFC 5626 §3.5.1) are skipped, never taken for a message, and each double
// CRLF "ping" among them is counted so the transport can answer it with a single CRLF "pong"
// (§4.4.1). Exceeding a limit, a missing, negative or conflicting Content-Length are errors
// after which the connection must be closed.
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
//   for (size_t n = framer.TakePings(); n > 0; --n) Send("\r\n");   // RFC 5626 pong
//
// The string_view returned by Next() is valid until the next call to Append() or Next().
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchboard/sip/message.h"

namespace sb::sip {

// Whether `bytes` (a datagram) is only CR and LF: a keep-alive, not a message. Phones behind
// NAT send such datagrams over UDP to keep their mapping open (RFC 5626 §3.5.1 names the
// CRLF keep-alive for streams; UDP ones are common practice): they get no answer and are no
// error.
bool IsKeepAlive(std::string_view bytes);

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
  // Double-CRLF keep-alive pings (RFC 5626 §4.4.1) skipped by Next() since the last call; a ping
  // split across reads counts once it is complete.
  size_t TakePings();

 private:
  ParseLimits limits_;
  std::string buffer_;
  size_t consumed_ = 0;
  // How much of "\r\n\r\n" the keep-alive bytes just skipped end with (0-3).
  int ping_matched_ = 0;
  size_t pings_ = 0;
  bool failed_ = false;
  ParseError error_;
};

}  // namespace sb::sip
