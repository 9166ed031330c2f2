#include "b2bua/dialed_uri.h"

#include "switchboard/core/ascii.h"

namespace sb::signaling::b2bua {

Result<std::string> TelDialed(const sip::Uri& uri, std::string_view field,
                              std::string_view local_context) {
  const std::string name(field);
  if (uri.params().Has("ext") || uri.params().Has("isub")) {
    return Status::InvalidArgument(name + ": a tel: number with an ext or isub cannot be dialled",
                                   name);
  }
  if (auto number = sip::GlobalTelDigits(uri)) return *number;
  if (auto number = sip::LocalTelDigits(uri); number && !local_context.empty()) {
    auto context = uri.params().Get("phone-context");
    if (context && SameDomain(*context, local_context)) return *number;
  }
  return Status::InvalidArgument(
      name + ": a tel: URI must be a global number (+ and digits)" +
          (local_context.empty()
               ? std::string()
               : " or a local one with phone-context=" + std::string(local_context)),
      name);
}

bool SameDomain(std::string_view a, std::string_view b) { return core::EqualsIgnoreCase(a, b); }

}  // namespace sb::signaling::b2bua
