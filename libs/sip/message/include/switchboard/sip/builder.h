// Building and modifying SIP messages: new requests, responses to a request (§8.2.6), and edits
// of a received message (add/remove/replace headers, set the body) for proxies and B2BUAs.
// Builders own their strings; Build() serializes with a correct Content-Length, and
// BuildMessage() parses the result back into a Message.
//
//   auto reply = sb::sip::MakeResponse(request, 180, {}, "a6c85cf");   // copies Via/From/To/...
//   reply.AddHeader("Contact", "<sip:bob@192.0.2.4>");
//   transport.Send(reply.Build());
//
//   sb::sip::MessageBuilder invite = sb::sip::MessageBuilder::Request("INVITE",
//   "sip:bob@b.example"); invite.AddHeader("Via", "SIP/2.0/UDP a.example;branch=z9hG4bK1")
//         .AddHeader("Max-Forwards", "70")
//         .SetBody(sdp, "application/sdp");
//
//   auto fwd = sb::sip::MessageBuilder::FromMessage(request);     // proxying
//   fwd.PrependHeader("Via", my_via).ReplaceHeader("Max-Forwards", "69");
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchboard/sip/message.h"

namespace sb::sip {

// The RFC 3261 §21 reason phrase for a status code ("Ringing"); "" for unknown codes.
std::string_view DefaultReasonPhrase(int status_code);

class MessageBuilder {
 public:
  static MessageBuilder Request(std::string_view method, std::string_view request_uri);
  // An empty reason takes DefaultReasonPhrase(code).
  static MessageBuilder Response(int status_code, std::string_view reason = {});
  // A copy of the message's start line, header lines (raw, in order) and body.
  static MessageBuilder FromMessage(const Message& message);

  // Header names match case-insensitively and in compact form ("v" is "Via"). Values are raw
  // text (no CRLF); they are not checked here, BuildMessage() parses them.
  MessageBuilder& AddHeader(std::string_view name, std::string_view value);
  MessageBuilder& PrependHeader(std::string_view name, std::string_view value);
  // Removes every line of that header and puts one line in place of the first (or at the end).
  MessageBuilder& ReplaceHeader(std::string_view name, std::string_view value);
  MessageBuilder& RemoveHeader(std::string_view name);
  // Removes the first element of the first line of a list header (a proxy popping its Route or
  // a response leaving a proxy popping its Via), the line itself if it held one element.
  MessageBuilder& RemoveFirstValue(std::string_view name);
  // Sets the body; a non-empty content_type replaces Content-Type. Content-Length is always
  // computed by Build().
  MessageBuilder& SetBody(std::string_view body, std::string_view content_type = {});
  MessageBuilder& SetStartLine(std::string_view start_line);

  std::optional<std::string_view> GetHeader(std::string_view name) const;
  std::string_view start_line() const { return start_line_; }
  std::string_view body() const { return body_; }

  std::string Build() const;
  Parsed<Message> BuildMessage(const ParseOptions& options = {}) const;

 private:
  struct Line {
    HeaderId id;
    std::string name;
    std::string value;
  };
  bool Matches(const Line& line, HeaderId id, std::string_view name) const;

  std::string start_line_;
  std::vector<Line> headers_;
  std::string body_;
};

// A response to `request` per §8.2.6: the same Via lines (in order), From, To (with `to_tag` added
// when the request's To has no tag and the code is not 100), Call-ID, CSeq; for 100 Trying a
// Timestamp is copied too (§8.2.6.1). The body is empty.
MessageBuilder MakeResponse(const Message& request, int status_code, std::string_view reason = {},
                            std::string_view to_tag = {});

}  // namespace sb::sip
