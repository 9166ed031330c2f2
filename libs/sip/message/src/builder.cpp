// Building responses and requests, and editing received messages (§8.1.1, §8.2.6, §16.6).
#include "switchboard/sip/builder.h"

#include "internal/scan.h"

namespace sb::sip {

std::string_view DefaultReasonPhrase(int code) {
  switch (code) {
    case 100:
      return "Trying";
    case 180:
      return "Ringing";
    case 181:
      return "Call Is Being Forwarded";
    case 182:
      return "Queued";
    case 183:
      return "Session Progress";
    case 199:
      return "Early Dialog Terminated";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Notification";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 305:
      return "Use Proxy";
    case 380:
      return "Alternative Service";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 412:
      return "Conditional Request Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Unsupported URI Scheme";
    case 420:
      return "Bad Extension";
    case 421:
      return "Extension Required";
    case 422:
      return "Session Interval Too Small";
    case 423:
      return "Interval Too Brief";
    case 480:
      return "Temporarily Unavailable";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 482:
      return "Loop Detected";
    case 483:
      return "Too Many Hops";
    case 484:
      return "Address Incomplete";
    case 485:
      return "Ambiguous";
    case 486:
      return "Busy Here";
    case 487:
      return "Request Terminated";
    case 488:
      return "Not Acceptable Here";
    case 489:
      return "Bad Event";
    case 491:
      return "Request Pending";
    case 493:
      return "Undecipherable";
    case 500:
      return "Server Internal Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Server Time-out";
    case 505:
      return "Version Not Supported";
    case 513:
      return "Message Too Large";
    case 580:
      return "Precondition Failure";
    case 600:
      return "Busy Everywhere";
    case 603:
      return "Decline";
    case 604:
      return "Does Not Exist Anywhere";
    case 606:
      return "Not Acceptable";
    default:
      return "";
  }
}

MessageBuilder MessageBuilder::Request(std::string_view method, std::string_view request_uri) {
  MessageBuilder b;
  b.start_line_ = std::string(method) + " " + std::string(request_uri) + " SIP/2.0";
  return b;
}

MessageBuilder MessageBuilder::Response(int status_code, std::string_view reason) {
  MessageBuilder b;
  if (reason.empty()) reason = DefaultReasonPhrase(status_code);
  b.start_line_ = "SIP/2.0 " + std::to_string(status_code) + " " + std::string(reason);
  return b;
}

MessageBuilder MessageBuilder::FromMessage(const Message& message) {
  MessageBuilder b;
  b.start_line_ = message.start_line();
  b.headers_.reserve(message.header_count());
  for (size_t i = 0; i < message.header_count(); ++i) {
    HeaderField h = message.header(i);
    if (h.id == HeaderId::kContentLength) continue;  // recomputed by Build()
    b.headers_.push_back({h.id, std::string(h.name), std::string(h.value)});
  }
  b.body_ = message.body();
  return b;
}

bool MessageBuilder::Matches(const Line& line, HeaderId id, std::string_view name) const {
  if (id != HeaderId::kOther) return line.id == id;
  return line.id == HeaderId::kOther && core::EqualsIgnoreCase(line.name, name);
}

MessageBuilder& MessageBuilder::AddHeader(std::string_view name, std::string_view value) {
  headers_.push_back({HeaderIdFromName(name), std::string(name), std::string(value)});
  return *this;
}

MessageBuilder& MessageBuilder::PrependHeader(std::string_view name, std::string_view value) {
  headers_.insert(headers_.begin(),
                  {HeaderIdFromName(name), std::string(name), std::string(value)});
  return *this;
}

MessageBuilder& MessageBuilder::ReplaceHeader(std::string_view name, std::string_view value) {
  HeaderId id = HeaderIdFromName(name);
  size_t at = headers_.size();
  for (size_t i = 0; i < headers_.size(); ++i) {
    if (Matches(headers_[i], id, name)) {
      at = std::min(at, i);
    }
  }
  RemoveHeader(name);
  Line line{id, std::string(name), std::string(value)};
  headers_.insert(headers_.begin() + static_cast<std::ptrdiff_t>(std::min(at, headers_.size())),
                  std::move(line));
  return *this;
}

MessageBuilder& MessageBuilder::RemoveHeader(std::string_view name) {
  HeaderId id = HeaderIdFromName(name);
  std::erase_if(headers_, [&](const Line& l) { return Matches(l, id, name); });
  return *this;
}

MessageBuilder& MessageBuilder::RemoveFirstValue(std::string_view name) {
  HeaderId id = HeaderIdFromName(name);
  for (size_t i = 0; i < headers_.size(); ++i) {
    if (!Matches(headers_[i], id, name)) continue;
    std::string& value = headers_[i].value;
    size_t comma =
        IsListHeader(id) ? internal::FindTopLevel(value, ',', 0, true) : std::string::npos;
    if (comma == std::string::npos) {
      headers_.erase(headers_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      value = std::string(internal::Trim(std::string_view(value).substr(comma + 1)));
    }
    break;
  }
  return *this;
}

MessageBuilder& MessageBuilder::SetBody(std::string_view body, std::string_view content_type) {
  body_ = body;
  if (!content_type.empty()) ReplaceHeader("Content-Type", content_type);
  return *this;
}

MessageBuilder& MessageBuilder::SetStartLine(std::string_view start_line) {
  start_line_ = start_line;
  return *this;
}

std::optional<std::string_view> MessageBuilder::GetHeader(std::string_view name) const {
  HeaderId id = HeaderIdFromName(name);
  for (const Line& l : headers_) {
    if (Matches(l, id, name)) return std::string_view(l.value);
  }
  return std::nullopt;
}

std::string MessageBuilder::Build() const {
  size_t size = start_line_.size() + body_.size() + 32;
  for (const Line& l : headers_) size += l.name.size() + l.value.size() + 4;
  std::string out;
  out.reserve(size);
  out += start_line_;
  out += "\r\n";
  for (const Line& l : headers_) {
    if (l.id == HeaderId::kContentLength) continue;
    out += l.name;
    out += ": ";
    out += l.value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body_.size());
  out += "\r\n\r\n";
  out += body_;
  return out;
}

Parsed<Message> MessageBuilder::BuildMessage(const ParseOptions& options) const {
  return Message::Parse(Build(), options);
}

MessageBuilder MakeResponse(const Message& request, int status_code, std::string_view reason,
                            std::string_view to_tag) {
  MessageBuilder b = MessageBuilder::Response(status_code, reason);
  for (size_t i = 0; i < request.header_count(); ++i) {
    HeaderField h = request.header(i);
    if (h.id == HeaderId::kVia) b.AddHeader("Via", h.value);
  }
  if (auto from = request.Header(HeaderId::kFrom)) b.AddHeader("From", *from);
  if (auto to = request.Header(HeaderId::kTo)) {
    std::string value(*to);
    auto parsed = request.To();
    if (status_code != 100 && !to_tag.empty() && parsed.ok() && (*parsed)->tag().empty()) {
      value += ";tag=";
      value += to_tag;
    }
    b.AddHeader("To", value);
  }
  if (auto call_id = request.Header(HeaderId::kCallId)) b.AddHeader("Call-ID", *call_id);
  if (auto cseq = request.Header(HeaderId::kCSeq)) b.AddHeader("CSeq", *cseq);
  if (status_code == 100) {
    if (auto ts = request.Header(HeaderId::kTimestamp)) b.AddHeader("Timestamp", *ts);
  }
  return b;
}

}  // namespace sb::sip
