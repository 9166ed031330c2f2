#include "switchboard/pg/transaction.h"

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>
#include <random>
#include <string_view>
#include <thread>

namespace sb::pg {
namespace {

enum class Outcome { kDone, kRetryConflict, kRetryConnection };

bool IsConnectionState(std::string_view sqlstate) {
  // Class 08: connection exceptions; 57P01..57P03: admin shutdown, crash shutdown, cannot
  // connect now (the server is going away or starting).
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

std::string Describe(const pqxx::sql_error& e) {
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  return "SQLSTATE " + e.sqlstate() + ": " + what;
}

Status FromSqlError(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  if (state == "23505") return Status::AlreadyExists(Describe(e));
  if (state.starts_with("23")) return Status::FailedPrecondition(Describe(e));
  if (state.starts_with("22")) return Status::InvalidArgument(Describe(e));
  if (state == "40001" || state == "40P01") return Status::Aborted(Describe(e));
  if (IsConnectionState(state)) return Status::Unavailable(Describe(e));
  if (state == "55P03") return Status::DeadlineExceeded(Describe(e));
  return Status::Internal(Describe(e));
}

std::chrono::milliseconds Backoff(const RetryOptions& r, int attempt) {
  // Exponential with jitter in [50%, 100%], so that the two losers of one conflict do not
  // collide again at the same moment.
  thread_local std::mt19937 rng{std::random_device{}()};
  auto base = r.first_backoff * (1LL << std::min(attempt - 1, 20));
  if (base > r.max_backoff) base = r.max_backoff;
  std::uniform_int_distribution<long long> jitter(base.count() / 2, base.count());
  return std::chrono::milliseconds(jitter(rng));
}

template <pqxx::isolation_level L>
Status RunOnce(pqxx::connection& conn, const TxBody& body) {
  pqxx::transaction<L> tx(conn);
  Status s = body(tx);
  if (!s.ok()) return s;  // the transaction's destructor rolls back
  tx.commit();
  return Status::Ok();
}

Status RunOnce(pqxx::connection& conn, const TxBody& body, Isolation isolation) {
  switch (isolation) {
    case Isolation::kReadCommitted:
      return RunOnce<pqxx::read_committed>(conn, body);
    case Isolation::kRepeatableRead:
      return RunOnce<pqxx::repeatable_read>(conn, body);
    case Isolation::kSerializable:
      return RunOnce<pqxx::serializable>(conn, body);
  }
  return Status::Internal("unknown isolation level");
}

struct Classified {
  Status status;
  Outcome outcome = Outcome::kDone;
  bool connection_broken = false;
};

// What an exception from libpqxx means. In libpqxx 6.4 the rollback family
// (serialization_failure, deadlock_detected, statement_completion_unknown) and in_doubt_error
// derive from pqxx::failure, not sql_error, and carry no SQLSTATE: the class is the SQLSTATE.
Classified Classify(const std::exception& e, bool connection_open) {
  const std::string what = e.what();
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    // Running the body again could apply it twice.
    return {Status::Unavailable("connection lost during COMMIT; the transaction may or may not "
                                "have been applied: " +
                                what),
            Outcome::kDone, true};
  }
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) {
    return {Status::Unavailable("statement outcome unknown: " + what), Outcome::kDone, true};
  }
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) {
    return {Status::Aborted("SQLSTATE 40001: " + what), Outcome::kRetryConflict};
  }
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) {
    return {Status::Aborted("SQLSTATE 40P01: " + what), Outcome::kRetryConflict};
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e)) {
    return {Status::Aborted("SQLSTATE class 40: " + what)};
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return {Status::Unavailable("connection to PostgreSQL lost: " + what),
            Outcome::kRetryConnection, true};
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    if (IsConnectionState(sql->sqlstate())) {
      return {FromSqlError(*sql), Outcome::kRetryConnection, true};
    }
    return {FromSqlError(*sql)};
  }
  if (!connection_open) {
    // pqxx may report a dead connection without a SQLSTATE; a closed connection says which.
    return {Status::Unavailable("connection to PostgreSQL lost: " + what),
            Outcome::kRetryConnection, true};
  }
  return {Status::Internal(what)};
}

// One attempt: the result, or which kind of retry it calls for (with the Status to return if no
// attempt is left).
Outcome Attempt(Pool& pool, const TxBody& body, Isolation isolation, Status& status) {
  auto lease = pool.Acquire();
  if (!lease.ok()) {
    status = lease.status();
    return status.code() == StatusCode::kUnavailable ? Outcome::kRetryConnection : Outcome::kDone;
  }
  try {
    status = RunOnce(lease->conn(), body, isolation);
    return Outcome::kDone;
  } catch (const std::exception& e) {
    Classified c = Classify(e, lease->conn().is_open());
    if (c.connection_broken) lease->MarkBroken();
    status = std::move(c.status);
    return c.outcome;
  }
}

}  // namespace

Status StatusFromException(const std::exception& e) { return Classify(e, true).status; }

Status RunInTransactionStatus(Pool& pool, const TxBody& body, const TxOptions& options) {
  const RetryOptions& retry = options.retry;
  const int attempts = std::max(1, retry.max_attempts);
  Status status;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    Outcome outcome = Attempt(pool, body, options.isolation, status);
    if (outcome == Outcome::kDone) return status;
    if (attempt == attempts) break;
    auto wait = Backoff(retry, attempt);
    if (retry.sleep) {
      retry.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
  return Status(status.code(),
                status.message() + " (gave up after " + std::to_string(attempts) + " attempts)");
}

}  // namespace sb::pg
