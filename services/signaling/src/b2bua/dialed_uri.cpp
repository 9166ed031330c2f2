#include "b2bua/dialed_uri.h"

#include <cctype>

namespace sb::signaling::b2bua {

Result<std::string> TelDialed(const sip::Uri& uri, std::string_view field) {
  const std::string name(field);
  if (uri.params().Has("ext") || uri.params().Has("isub")) {
    return Status::InvalidArgument(name + ": a tel: number with an ext or isub cannot be dialled",
                                   name);
  }
  auto number = sip::GlobalTelDigits(uri);
  if (!number) {
    return Status::InvalidArgument(name + ": a tel: URI must be a global number (+ and digits)",
                                   name);
  }
  return *number;
}

bool SameDomain(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace sb::signaling::b2bua
