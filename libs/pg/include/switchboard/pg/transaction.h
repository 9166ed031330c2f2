// Runs a transaction body on a pooled connection, retried when PostgreSQL asks for it and when
// the connection is lost, with every other failure mapped to sb::Status (no exceptions leave).
//
//   sb::Status s = sb::pg::RunInTransaction(pool, [&](pqxx::transaction_base& tx) -> sb::Status {
//     auto balance = tx.exec_params1("SELECT balance FROM billing.accounts WHERE id = $1 "
//                                    "FOR UPDATE", id)[0].as<int64_t>();
//     if (balance < amount) return sb::Status::FailedPrecondition("insufficient balance");
//     tx.exec_params0("UPDATE billing.accounts SET balance = $1 WHERE id = $2",
//                     balance - amount, id);
//     return sb::Status::Ok();
//   }, {.isolation = sb::pg::Isolation::kSerializable});
//
//   sb::Result<int> n = sb::pg::RunInTransaction(pool, [&](pqxx::transaction_base& tx)
//       -> sb::Result<int> { return tx.exec1("SELECT count(*) FROM t")[0].as<int>(); });
//
// The body may run more than once, so it must not have effects outside the transaction that
// cannot be repeated. A body that returns an error rolls back; that error is returned as is.
//
// Retried, with exponential backoff and jitter, up to max_attempts runs in all:
//   - SQLSTATE 40001 (serialization_failure), 40P01 (deadlock_detected);
//   - a lost connection (pqxx::broken_connection, SQLSTATE class 08, 57P01..57P03 admin
//     shutdown / crash / cannot connect now); the connection is discarded, the next try opens one.
// Not retried: a commit whose outcome is unknown (the connection broke during COMMIT) returns
// UNAVAILABLE saying so, because running the body again could apply it twice.
// Mapping of the rest: unique violation -> ALREADY_EXISTS; foreign key, check, not null, restrict
// -> FAILED_PRECONDITION; data exceptions (class 22) -> INVALID_ARGUMENT; retries exhausted ->
// ABORTED (conflicts) or UNAVAILABLE (connection); anything else -> INTERNAL with the SQLSTATE.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <pqxx/transaction_base>
#include <type_traits>

#include "switchboard/core/status.h"
#include "switchboard/pg/pool.h"

namespace sb::pg {

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

struct RetryOptions {
  int max_attempts = 5;  // runs of the body in all, >= 1
  std::chrono::milliseconds first_backoff{5};
  std::chrono::milliseconds max_backoff{250};
  // How to wait between attempts; tests pass one that records instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct TxOptions {
  Isolation isolation = Isolation::kReadCommitted;
  RetryOptions retry;
};

using TxBody = std::function<Status(pqxx::transaction_base&)>;

// The Status form; see the overview for the retry and mapping rules.
Status RunInTransactionStatus(Pool& pool, const TxBody& body, const TxOptions& options = {});

// Body returns Status or Result<T>; RunInTransaction returns the same type.
template <typename F>
auto RunInTransaction(Pool& pool, F&& body, const TxOptions& options = {})
    -> std::invoke_result_t<F&, pqxx::transaction_base&> {
  using R = std::invoke_result_t<F&, pqxx::transaction_base&>;
  if constexpr (std::is_same_v<R, Status>) {
    return RunInTransactionStatus(pool, TxBody(std::ref(body)), options);
  } else {
    std::optional<R> out;
    Status s = RunInTransactionStatus(
        pool,
        [&](pqxx::transaction_base& tx) -> Status {
          out.reset();
          out.emplace(body(tx));
          return out->status();
        },
        options);
    if (!s.ok()) return s;
    return std::move(*out);
  }
}

// The Status for an exception thrown by libpqxx (or anything else) outside RunInTransaction.
Status StatusFromException(const std::exception& e);

}  // namespace sb::pg
