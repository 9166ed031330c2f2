#include "domain/paging.h"

namespace sb::admin {
namespace {
// A fixed tag keeps tokens recognisable and versioned without promising their format to clients.
constexpr std::string_view kTokenTag = "p1.";
}  // namespace

Result<PageQuery> ParsePageRequest(int32_t page_size, std::string_view page_token,
                                   std::string_view field, bool (*is_id)(std::string_view)) {
  PageQuery q;
  if (page_size < 0) {
    return Status::InvalidArgument(std::string(field) + ".page_size must not be negative",
                                   std::string(field) + ".page_size");
  }
  q.size = page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
  if (!page_token.empty()) {
    std::string_view id = page_token.substr(std::min(kTokenTag.size(), page_token.size()));
    if (page_token.substr(0, kTokenTag.size()) != kTokenTag || !is_id(id)) {
      return Status::InvalidArgument(
          std::string(field) + ".page_token is not a token from a previous page",
          std::string(field) + ".page_token");
    }
    q.after = std::string(id);
  }
  return q;
}

std::string PageToken(std::string_view last_id) {
  if (last_id.empty()) return {};
  return std::string(kTokenTag) + std::string(last_id);
}

}  // namespace sb::admin
