// Helpers shared by the Postgres repositories (store/ only).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "domain/repositories.h"

namespace sb::admin::internal {

// Writes the audit row of a mutation inside its transaction (time from the database clock, so
// rows of one database are ordered however many replicas write them).
void WriteAudit(pqxx::work& w, const AuditEntry& audit, std::string_view resource_type);

// "abc" -> "abc%" with LIKE wildcards in the prefix escaped.
std::string LikePrefix(std::string_view prefix);

// NULL for an empty optional id / empty cursor.
std::optional<std::string> OptionalText(std::string_view text);

template <typename T, typename Fn>
Page<T> MakePage(const pqxx::result& rows, int32_t size, Fn convert) {
  Page<T> page;
  for (const auto& row : rows) {
    if (static_cast<int32_t>(page.items.size()) == size) break;
    page.items.push_back(convert(row));
  }
  // One row more than asked for was selected: it says whether there is a next page.
  if (static_cast<int32_t>(rows.size()) > size && !page.items.empty()) {
    page.next_after = page.items.back().id.str();
  }
  return page;
}

}  // namespace sb::admin::internal
