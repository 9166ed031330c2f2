// Header and method names: the one table of long names, compact forms (§7.3.3, §20 and the
// extensions' registrations) and list-ness.
#include <array>

#include "internal/scan.h"
#include "switchboard/sip/message.h"

namespace sb::sip {
namespace {

struct NameEntry {
  std::string_view name;
  HeaderId id;
  bool list;
};

// Indexed by HeaderId. `list` marks the headers whose grammar is a comma-separated list.
constexpr std::array<NameEntry, static_cast<size_t>(HeaderId::kCount)> kNames = {{
    {"", HeaderId::kOther, false},
    {"Via", HeaderId::kVia, true},
    {"From", HeaderId::kFrom, false},
    {"To", HeaderId::kTo, false},
    {"Call-ID", HeaderId::kCallId, false},
    {"CSeq", HeaderId::kCSeq, false},
    {"Contact", HeaderId::kContact, true},
    {"Route", HeaderId::kRoute, true},
    {"Record-Route", HeaderId::kRecordRoute, true},
    {"Max-Forwards", HeaderId::kMaxForwards, false},
    {"Expires", HeaderId::kExpires, false},
    {"Min-Expires", HeaderId::kMinExpires, false},
    {"Authorization", HeaderId::kAuthorization, false},
    {"WWW-Authenticate", HeaderId::kWwwAuthenticate, false},
    {"Proxy-Authenticate", HeaderId::kProxyAuthenticate, false},
    {"Proxy-Authorization", HeaderId::kProxyAuthorization, false},
    {"Authentication-Info", HeaderId::kAuthenticationInfo, false},
    {"Content-Type", HeaderId::kContentType, false},
    {"Content-Length", HeaderId::kContentLength, false},
    {"Content-Encoding", HeaderId::kContentEncoding, true},
    {"Content-Disposition", HeaderId::kContentDisposition, false},
    {"Supported", HeaderId::kSupported, true},
    {"Require", HeaderId::kRequire, true},
    {"Proxy-Require", HeaderId::kProxyRequire, true},
    {"Unsupported", HeaderId::kUnsupported, true},
    {"Allow", HeaderId::kAllow, true},
    {"Allow-Events", HeaderId::kAllowEvents, true},
    {"Accept", HeaderId::kAccept, true},
    {"Event", HeaderId::kEvent, false},
    {"Subscription-State", HeaderId::kSubscriptionState, false},
    {"Refer-To", HeaderId::kReferTo, false},
    {"Referred-By", HeaderId::kReferredBy, false},
    {"Replaces", HeaderId::kReplaces, false},
    {"P-Asserted-Identity", HeaderId::kPAssertedIdentity, true},
    {"P-Preferred-Identity", HeaderId::kPPreferredIdentity, true},
    {"Session-Expires", HeaderId::kSessionExpires, false},
    {"Min-SE", HeaderId::kMinSE, false},
    {"RSeq", HeaderId::kRSeq, false},
    {"RAck", HeaderId::kRAck, false},
    {"Subject", HeaderId::kSubject, false},
    {"User-Agent", HeaderId::kUserAgent, false},
    {"Server", HeaderId::kServer, false},
    {"Date", HeaderId::kDate, false},
    {"Timestamp", HeaderId::kTimestamp, false},
    {"Retry-After", HeaderId::kRetryAfter, false},
    {"Warning", HeaderId::kWarning, true},
    {"Call-Info", HeaderId::kCallInfo, true},
    {"Privacy", HeaderId::kPrivacy, false},
    {"Reason", HeaderId::kReason, true},
    {"Path", HeaderId::kPath, true},
    {"Service-Route", HeaderId::kServiceRoute, true},
    {"Identity", HeaderId::kIdentity, false},
}};

HeaderId Compact(char c) {
  switch (internal::Lower(c)) {
    case 'b':
      return HeaderId::kReferredBy;
    case 'c':
      return HeaderId::kContentType;
    case 'e':
      return HeaderId::kContentEncoding;
    case 'f':
      return HeaderId::kFrom;
    case 'i':
      return HeaderId::kCallId;
    case 'k':
      return HeaderId::kSupported;
    case 'l':
      return HeaderId::kContentLength;
    case 'm':
      return HeaderId::kContact;
    case 'o':
      return HeaderId::kEvent;
    case 'r':
      return HeaderId::kReferTo;
    case 's':
      return HeaderId::kSubject;
    case 't':
      return HeaderId::kTo;
    case 'u':
      return HeaderId::kAllowEvents;
    case 'v':
      return HeaderId::kVia;
    case 'x':
      return HeaderId::kSessionExpires;
    case 'y':
      return HeaderId::kIdentity;
    default:
      return HeaderId::kOther;
  }
}

// Candidates by lower-cased first letter, so that a lookup compares one to four names.
struct Bucket {
  std::array<HeaderId, 12> ids{};
  uint8_t count = 0;
};

constexpr std::array<Bucket, 26> MakeBuckets() {
  std::array<Bucket, 26> b{};
  for (size_t i = 1; i < kNames.size(); ++i) {
    char c = kNames[i].name[0];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    Bucket& bucket = b[static_cast<size_t>(c - 'a')];
    bucket.ids[bucket.count++] = kNames[i].id;
  }
  return b;
}
constexpr std::array<Bucket, 26> kBuckets = MakeBuckets();

}  // namespace

std::string_view HeaderName(HeaderId id) {
  size_t i = static_cast<size_t>(id);
  return i < kNames.size() ? kNames[i].name : std::string_view();
}

bool IsListHeader(HeaderId id) {
  size_t i = static_cast<size_t>(id);
  return i < kNames.size() && kNames[i].list;
}

HeaderId HeaderIdFromName(std::string_view name) {
  if (name.empty()) return HeaderId::kOther;
  if (name.size() == 1) return Compact(name[0]);
  char first = internal::Lower(name[0]);
  if (first < 'a' || first > 'z') return HeaderId::kOther;
  const Bucket& bucket = kBuckets[static_cast<size_t>(first - 'a')];
  for (uint8_t k = 0; k < bucket.count; ++k) {
    HeaderId id = bucket.ids[k];
    if (internal::EqualsNoCase(kNames[static_cast<size_t>(id)].name, name)) return id;
  }
  return HeaderId::kOther;
}

namespace {
constexpr std::array<std::string_view, 15> kMethods = {
    "",          "INVITE", "ACK",     "BYE",  "CANCEL", "OPTIONS", "REGISTER", "PRACK",
    "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER",  "MESSAGE", "UPDATE"};
}  // namespace

Method MethodFromString(std::string_view text) {
  for (size_t i = 1; i < kMethods.size(); ++i) {
    if (kMethods[i] == text) return static_cast<Method>(i);
  }
  return Method::kUnknown;
}

std::string_view MethodName(Method method) {
  size_t i = static_cast<size_t>(method);
  return i < kMethods.size() ? kMethods[i] : std::string_view();
}

}  // namespace sb::sip
