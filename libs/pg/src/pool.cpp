#include "switchboard/pg/pool.h"

#include <pqxx/except>

namespace sb::pg {

Pool::Lease::Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    broken_ = other.broken_;
    other.pool_ = nullptr;
  }
  return *this;
}

Pool::Lease::~Lease() { Release(); }

void Pool::Lease::Release() {
  if (pool_ && conn_) pool_->Return(std::move(conn_), broken_);
  pool_ = nullptr;
}

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

Pool::~Pool() = default;

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> conn = std::move(idle_.front());
      idle_.pop_front();
      if (conn->is_open()) return Lease(this, std::move(conn));
      --open_;  // closed while idle: drop it and look further
    }
    if (open_ < options_.max_connections) break;
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_connections) {
      return Status::ResourceExhausted("all " + std::to_string(options_.max_connections) +
                                       " PostgreSQL connections of the pool stayed in use for " +
                                       std::to_string(options_.acquire_timeout.count()) + " ms");
    }
  }
  // Reserve the slot, then connect without holding the lock: connecting takes a round trip or
  // a connect timeout, and other threads may be returning connections meanwhile.
  ++open_;
  lock.unlock();
  try {
    return Lease(this, std::make_unique<pqxx::connection>(options_.dsn));
  } catch (const std::exception& e) {
    lock.lock();
    --open_;
    released_.notify_one();
    return Status::Unavailable(std::string("cannot connect to PostgreSQL: ") + e.what());
  }
}

void Pool::Return(std::unique_ptr<pqxx::connection> conn, bool broken) {
  std::unique_ptr<pqxx::connection> discard;
  {
    std::lock_guard lock(mu_);
    if (broken || !conn->is_open()) {
      discard = std::move(conn);  // closed outside the lock
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  released_.notify_one();
}

int Pool::open_connections() const {
  std::lock_guard lock(mu_);
  return open_;
}

int Pool::idle_connections() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(idle_.size());
}

}  // namespace sb::pg
