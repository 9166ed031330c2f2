// Stream framing by Content-Length (RFC 3261 §18.3).
#include "switchboard/sip/framer.h"

#include "internal/scan.h"

namespace sb::sip {
namespace {

// Finds the Content-Length value in a header block (long or compact name), without building a
// Message: the framer must know the length before the whole message is there.
enum class ClState { kAbsent, kOk, kBad, kConflict };
ClState FindContentLength(std::string_view headers, uint64_t* out) {
  ClState state = ClState::kAbsent;
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find('\n', pos);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(pos, eol - pos);
    pos = eol + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.empty() || line[0] == ' ' || line[0] == '\t') {
      continue;
    }
    std::string_view name = internal::TrimRight(line.substr(0, colon));
    if (HeaderIdFromName(name) != HeaderId::kContentLength) continue;
    // Folded continuation lines belong to the value.
    std::string_view value = line.substr(colon + 1);
    while (pos < headers.size() && (headers[pos] == ' ' || headers[pos] == '\t')) {
      size_t next = headers.find('\n', pos);
      if (next == std::string_view::npos) next = headers.size();
      value = std::string_view(value.data(), headers.data() + next - value.data());
      pos = next + 1;
    }
    uint64_t v = 0;
    if (!internal::ParseDecimal(internal::Trim(value), 0xFFFFFFFFull, &v)) return ClState::kBad;
    if (state == ClState::kOk && v != *out) return ClState::kConflict;
    *out = v;
    state = ClState::kOk;
  }
  return state;
}

}  // namespace

bool IsKeepAlive(std::string_view bytes) {
  return !bytes.empty() && bytes.find_first_not_of("\r\n") == std::string_view::npos;
}

void StreamFramer::Append(std::string_view bytes) {
  if (failed_) return;
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

bool StreamFramer::mid_message() const {
  for (size_t i = consumed_; i < buffer_.size(); ++i) {
    if (buffer_[i] != '\r' && buffer_[i] != '\n') return true;
  }
  return false;
}

size_t StreamFramer::TakePings() {
  size_t n = pings_;
  pings_ = 0;
  return n;
}

Parsed<std::optional<std::string_view>> StreamFramer::Next() {
  if (failed_) return error_;
  auto fail = [this](int code, std::string reason) -> Parsed<std::optional<std::string_view>> {
    failed_ = true;
    error_.status_code = code;
    error_.reason = std::move(reason);
    // Answer a request if its head parses well enough to copy the transaction headers.
    std::string_view rest = std::string_view(buffer_).substr(consumed_);
    ParseOptions options;
    options.validate = false;
    options.limits = limits_;
    options.limits.max_message_bytes = std::max(rest.size(), size_t{1});
    std::string head(rest.substr(0, std::min(rest.size(), limits_.max_header_bytes)));
    if (auto m = Message::Parse(head, options); m.ok() && m->is_request()) {
      error_.response = BuildErrorResponse(*m, code, error_.reason);
    } else {
      error_.status_code = m.ok() ? 0 : error_.status_code;
    }
    return error_;
  };
  // Keep-alive CRLFs between messages (RFC 5626 §3.5.1); every complete CRLFCRLF is a ping.
  static constexpr std::string_view kPing = "\r\n\r\n";
  while (consumed_ < buffer_.size() && (buffer_[consumed_] == '\r' || buffer_[consumed_] == '\n')) {
    const char c = buffer_[consumed_++];
    if (c == kPing[static_cast<size_t>(ping_matched_)]) {
      if (++ping_matched_ == static_cast<int>(kPing.size())) {
        ++pings_;
        ping_matched_ = 0;
      }
    } else {
      ping_matched_ = c == '\r' ? 1 : 0;
    }
  }
  std::string_view rest = std::string_view(buffer_).substr(consumed_);
  if (rest.empty()) return std::optional<std::string_view>();
  ping_matched_ = 0;  // a message starts: CRLFs before it were no (complete) ping
  size_t end = rest.find("\r\n\r\n");
  size_t sep = 4;
  size_t lf_end = rest.find("\n\n");
  if (lf_end != std::string_view::npos && (end == std::string_view::npos || lf_end < end)) {
    end = lf_end;
    sep = 2;
  }
  if (end == std::string_view::npos) {
    if (rest.size() > limits_.max_header_bytes) return fail(513, "Message Too Large");
    return std::optional<std::string_view>();
  }
  size_t head_len = end + sep;
  if (head_len > limits_.max_header_bytes) return fail(513, "Message Too Large");
  uint64_t length = 0;
  switch (FindContentLength(rest.substr(0, end), &length)) {
    case ClState::kAbsent:
      return fail(400, "Missing Content-Length");
    case ClState::kBad:
      return fail(400, "Bad Content-Length");
    case ClState::kConflict:
      return fail(400, "Conflicting Content-Length headers");
    case ClState::kOk:
      break;
  }
  if (length > limits_.max_body_bytes || head_len + length > limits_.max_message_bytes) {
    return fail(513, "Message Too Large");
  }
  if (rest.size() < head_len + length) return std::optional<std::string_view>();
  consumed_ += head_len + length;
  return std::optional<std::string_view>(rest.substr(0, head_len + length));
}

}  // namespace sb::sip
