// multipart bodies (RFC 2046 §5.1.1): parts between "--boundary" delimiter lines.
#include "switchboard/sip/multipart.h"

#include "internal/scan.h"

namespace sb::sip {

sb::Result<std::vector<BodyPart>> SplitMultipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 70) {
    return Status::InvalidArgument("multipart: bad boundary", "boundary");
  }
  std::string delimiter = "--" + std::string(boundary);
  // The first delimiter may start the body; later ones follow a line break.
  size_t pos;
  if (body.substr(0, delimiter.size()) == delimiter) {
    pos = 0;
  } else {
    pos = body.find("\n" + delimiter);
    if (pos == std::string_view::npos)
      return Status::InvalidArgument("multipart: no opening boundary");
    pos += 1;
  }
  std::vector<BodyPart> parts;
  for (size_t guard = 0; guard <= body.size(); ++guard) {
    size_t after = pos + delimiter.size();
    if (body.substr(after, 2) == "--") return parts;  // close-delimiter
    size_t line_end = body.find('\n', after);
    if (line_end == std::string_view::npos)
      return Status::InvalidArgument("multipart: no closing boundary");
    size_t part_start = line_end + 1;
    size_t next = body.find("\n" + delimiter, part_start - 1);
    if (next == std::string_view::npos)
      return Status::InvalidArgument("multipart: no closing boundary");
    // The CRLF before the delimiter belongs to the delimiter.
    size_t part_end = next;
    if (part_end > part_start && body[part_end - 1] == '\r') --part_end;
    std::string_view part = part_end >= part_start ? body.substr(part_start, part_end - part_start)
                                                   : std::string_view();
    BodyPart bp;
    size_t blank = part.find("\r\n\r\n");
    size_t skip = 4;
    if (part.substr(0, 2) == "\r\n") {
      blank = 0;
      skip = 2;
    }
    if (blank == std::string_view::npos) {
      bp.body = part;
    } else {
      bp.headers = part.substr(0, blank);
      bp.body = part.substr(blank + skip);
    }
    size_t hpos = 0;
    while (hpos < bp.headers.size()) {
      size_t eol = bp.headers.find('\n', hpos);
      if (eol == std::string_view::npos) eol = bp.headers.size();
      std::string_view line = bp.headers.substr(hpos, eol - hpos);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view name = internal::Trim(line.substr(0, colon));
        if (core::EqualsIgnoreCase(name, "Content-Type") || core::EqualsIgnoreCase(name, "c")) {
          bp.content_type = internal::Trim(line.substr(colon + 1));
        }
      }
      hpos = eol + 1;
    }
    parts.push_back(bp);
    pos = next + 1;
  }
  return Status::InvalidArgument("multipart: no closing boundary");
}

}  // namespace sb::sip
