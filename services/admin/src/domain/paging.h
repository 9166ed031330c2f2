// Cursor pagination for every list: a page token is the opaque form of the last id of a page
// (ids are UUIDv7, so the cursor is stable while rows are inserted).
//
//   auto q = ParsePageRequest(req.page().page_size(), req.page().page_token(), "page");
//   auto page = repo.List(tenant, filter, *q);
//   resp.mutable_page()->set_next_page_token(PageToken(page.next_after));
#pragma once

#include <string>
#include <string_view>

#include "domain/model.h"
#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::admin {

inline constexpr int32_t kDefaultPageSize = 50;
inline constexpr int32_t kMaxPageSize = 500;

// page_size 0 means the default; above the maximum is capped; negative is INVALID_ARGUMENT, and
// so is a token whose id `is_id` refuses (the ids of most lists are UUIDs).
Result<PageQuery> ParsePageRequest(int32_t page_size, std::string_view page_token,
                                   std::string_view field,
                                   bool (*is_id)(std::string_view) = core::IsUuid);
std::string PageToken(std::string_view last_id);  // empty for an empty id

}  // namespace sb::admin
