// Helpers shared by the Postgres repositories (store/ only). Pooling, retries and the mapping of
// database errors to sb::Status are libs/pg's; what admin adds is the wording of its own
// uniqueness rules, so that a duplicate slug reads as such rather than as a constraint name.
//
//   Result<Tenant> t = internal::Transact<Tenant>(pool_, [&](pqxx::transaction_base& w) {
//     return SelectTenant(w, id);
//   });
#pragma once

#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "domain/model.h"
#include "domain/repositories.h"
#include "switchboard/pg/transaction.h"

namespace sb::admin {

// Time as microseconds since the Unix epoch, the form SQL gets and returns it in.
int64_t ToMicros(WallTime t);
WallTime FromMicros(int64_t micros);

}  // namespace sb::admin

namespace sb::admin::internal {

// A unique (23505) or exclusion (23P01) violation of one of admin's constraints -> ALREADY_EXISTS
// saying which rule was broken; nullopt for any other error (libs/pg maps those).
std::optional<Status> ConstraintViolation(const pqxx::sql_error& e);

// sb::pg::RunInTransaction (read committed, retried on conflicts and lost connections) with
// ConstraintViolation applied to what the body throws. The body may run more than once.
template <typename T>
Result<T> Transact(pg::Pool& pool, const std::function<Result<T>(pqxx::transaction_base&)>& fn) {
  return pg::RunInTransaction(pool, [&](pqxx::transaction_base& w) -> Result<T> {
    try {
      return fn(w);
    } catch (const pqxx::sql_error& e) {
      if (auto s = ConstraintViolation(e)) return *s;
      throw;
    }
  });
}
Status TransactStatus(pg::Pool& pool, const std::function<Status(pqxx::transaction_base&)>& fn);

// Writes the audit row of a mutation inside its transaction (time from the database clock, so
// rows of one database are ordered however many replicas write them).
void WriteAudit(pqxx::transaction_base& w, const AuditEntry& audit, std::string_view resource_type);

// Inserts the event into admin.outbox inside the mutation's transaction; an encoding error
// rolls the mutation back (a change without its event must not commit).
Status WriteOutbox(pqxx::transaction_base& w, const Result<OutboxEvent>& event);

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
