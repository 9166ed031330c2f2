// multipart/* bodies (RFC 2046 §5.1, as used by RFC 3261 §7.4 and S/MIME in §23): the body is
// split into parts, each with its own headers and body, as views into the message body. Binary
// parts (NUL octets included) are framed by the boundary only.
//
//   auto type = message.ContentType();
//   auto parts = sb::sip::SplitMultipart(message.body(), (*type)->boundary());
//   for (const auto& part : *parts) { part.content_type; part.body; }
#pragma once

#include <string_view>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::sip {

struct BodyPart {
  std::string_view headers;       // the part's header block, raw (may be empty)
  std::string_view content_type;  // value of its Content-Type header, "" if none
  std::string_view body;          // without the CRLF that precedes the next boundary
};

// Errors: empty boundary, no opening boundary, no closing boundary.
sb::Result<std::vector<BodyPart>> SplitMultipart(std::string_view body, std::string_view boundary);

}  // namespace sb::sip
